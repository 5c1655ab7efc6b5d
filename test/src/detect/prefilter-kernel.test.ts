import {describe, expect, it} from 'vitest'

import {compileKernel} from '../../../scripts/build-kernel.js'
import {PREFILTER_KERNEL} from '../../../src/detect/prefilter-kernel.js'

describe('prefilter kernel', () => {
  it('embeds exactly what prefilter-kernel.wat compiles to (run `npm run build:kernel` after editing it)', async () => {
    // Given the WebAssembly text source  When compiled  Then the committed bytes are the same
    const bytes = await compileKernel('src/detect/prefilter-kernel.wat')
    expect(Buffer.from(bytes).toString('base64')).toBe(PREFILTER_KERNEL)
  })
})
