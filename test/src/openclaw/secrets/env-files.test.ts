import {describe, expect, it} from 'vitest'

import {
  parseEnvFile,
  parsePlistEnv,
  parseSystemdEnv,
  rewriteCmdEnv,
  rewriteEnvFile,
  rewritePlistEnv,
  rewriteSystemdEnv,
} from '../../../../src/openclaw/secrets/env-files.js'
import {pointerPath, rewriteSecretFile} from '../../../../src/openclaw/secrets/secret-files.js'

describe('secret file formats', () => {
  it('rewrites every .env assignment of a name, keeping export, quotes, comments and other lines', () => {
    const text = `# keep\nexport OPENCLAW_GATEWAY_TOKEN="old"\nOTHER=1\nOPENCLAW_GATEWAY_TOKEN=old # trailing\r\n`
    expect(parseEnvFile(text).map((e) => [e.name, e.value, e.line])).toEqual([
      ['OPENCLAW_GATEWAY_TOKEN', 'old', 2],
      ['OTHER', '1', 3],
      ['OPENCLAW_GATEWAY_TOKEN', 'old', 4],
    ])
    const r = rewriteEnvFile(text, 'OPENCLAW_GATEWAY_TOKEN', 'New-Value_0~9.x')
    expect(r.count).toBe(2)
    expect(r.text).toBe(
      `# keep\r\nexport OPENCLAW_GATEWAY_TOKEN="New-Value_0~9.x"\r\nOTHER=1\r\nOPENCLAW_GATEWAY_TOKEN=New-Value_0~9.x # trailing\r\n`,
    )
    expect(() => rewriteEnvFile(text, 'X', 'has "quote')).toThrow(/cannot be written safely/)
  })

  it('rewrites systemd Environment= in every quoting style and finds EnvironmentFile=', () => {
    const text =
      'Environment=HOME=/h OPENCLAW_GATEWAY_TOKEN=old\nEnvironment="OPENCLAW_GATEWAY_TOKEN=old" "X=1"\nEnvironmentFile=-/etc/openclaw.env\n'
    expect(parseSystemdEnv(text)).toEqual({
      entries: [
        {name: 'HOME', value: '/h', line: 1},
        {name: 'OPENCLAW_GATEWAY_TOKEN', value: 'old', line: 1},
        {name: 'OPENCLAW_GATEWAY_TOKEN', value: 'old', line: 2},
        {name: 'X', value: '1', line: 2},
      ],
      envFiles: ['/etc/openclaw.env'],
    })
    expect(rewriteSystemdEnv(text, 'OPENCLAW_GATEWAY_TOKEN', 'n3w')).toEqual({
      count: 2,
      text: 'Environment=HOME=/h OPENCLAW_GATEWAY_TOKEN=n3w\nEnvironment="OPENCLAW_GATEWAY_TOKEN=n3w" "X=1"\nEnvironmentFile=-/etc/openclaw.env\n',
    })
    expect(() => rewriteSystemdEnv(text, 'X', '50%off')).toThrow(/systemd/)
  })

  it('rewrites a launchd plist and a gateway.cmd', () => {
    const plist =
      '<key>EnvironmentVariables</key>\n<dict>\n  <key>OPENCLAW_GATEWAY_TOKEN</key>\n  <string>old</string>\n</dict>\n<key>Label</key><string>ai.openclaw.gateway</string>'
    expect(parsePlistEnv(plist)).toEqual([{name: 'OPENCLAW_GATEWAY_TOKEN', value: 'old', line: 3}])
    expect(rewritePlistEnv(plist, 'OPENCLAW_GATEWAY_TOKEN', 'n3w').text).toBe(
      plist.replace('<string>old</string>', '<string>n3w</string>'),
    )
    expect(
      rewriteCmdEnv('@echo off\r\nset "OPENCLAW_GATEWAY_TOKEN=old"\r\n', 'OPENCLAW_GATEWAY_TOKEN', 'n3w').text,
    ).toBe('@echo off\r\nset "OPENCLAW_GATEWAY_TOKEN=n3w"\r\n')
  })

  it('writes a file provider value at its JSON pointer (formatting kept) or as the whole file', () => {
    expect(pointerPath('/providers/a~1b/k~0ey')).toEqual(['providers', 'a/b', 'k~ey'])
    expect(
      rewriteSecretFile('{\n    "gateway": {"token": "old"},\n    "x": 1\n}\n', 'json', '/gateway/token', 'n3w'),
    ).toBe('{\n    "gateway": {"token": "n3w"},\n    "x": 1\n}\n')
    expect(rewriteSecretFile('{}\n', 'json', '/a/b', 'v')).toBe('{\n  "a": {\n    "b": "v"\n  }\n}\n')
    expect(rewriteSecretFile('old\n', 'singleValue', undefined, 'n3w')).toBe('n3w\n')
    expect(rewriteSecretFile('old', 'singleValue', undefined, 'n3w')).toBe('n3w')
  })
})
