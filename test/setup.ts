import {chmodSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {afterAll} from 'vitest'

// Each test file gets its own temp root (TMPDIR, so every os.tmpdir() lands in it) and IR_HOME:
// nothing is left in /tmp and no case lands in the real ~/.openclaw-ir.
const root = mkdtempSync(path.join(os.tmpdir(), 'ir-test-run-'))
// Traversable, like /tmp itself: some tests run ir as an unprivileged user on files below it.
chmodSync(root, 0o711)
process.env.TMPDIR = root
process.env.IR_HOME = path.join(root, 'ir-home')

afterAll(() => {
  rmSync(root, {recursive: true, force: true})
})
