import {mkdtempSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

// Cases written by tests never land in the real ~/.openclaw-ir.
process.env.IR_HOME ??= mkdtempSync(path.join(os.tmpdir(), 'ir-home-test-'))
