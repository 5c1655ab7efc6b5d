import cryptoRandomString from 'crypto-random-string'

/** A new gateway/hooks secret: 43 URL-safe chars from a CSPRNG (≈ 258 bits, above OpenClaw's 192). */
export function newSecret(): string {
  return cryptoRandomString({length: 43, type: 'url-safe'})
}
