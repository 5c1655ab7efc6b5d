import {readFileSync} from 'node:fs'
import {Readable} from 'node:stream'
import type {ReadableStream as WebReadableStream} from 'node:stream/web'

import {Decrypter, Encrypter} from 'age-encryption'

import {ExitCode, IrError} from '../errors.js'

/**
 * Bundles encrypted to their readers with age (age-encryption.org/v1, the `age-encryption`
 * package): the archive is encrypted as it is written (no plaintext on disk), and decrypted as
 * `ir verify` reads it. Recipients are age public keys (`age1…`, `age1pq1…`); identities are age
 * secret keys (`AGE-SECRET-KEY-1…`, one per line in a file, `#` comments allowed, as `age -i` reads).
 */

const AGE_RECIPIENT = /^age1[0-9a-z]{20,}$/

export function parseRecipients(list: string[]): string[] {
  return list.map((r) => {
    const s = r.trim()
    if (AGE_RECIPIENT.test(s)) return s
    const kind = /^ssh-[a-z0-9-]+/.exec(s)?.[0]
    throw new IrError(
      kind
        ? `--encrypt-to: ${kind} keys are not supported by this build (the age-encryption package reads age keys only).`
        : `--encrypt-to ${s.slice(0, 24)}${s.length > 24 ? '…' : ''} is not an age public key (age1…).`,
      ExitCode.Usage,
      ["Pass the reader's age public key: `age-keygen -y key.txt` prints it (or `ir` users: `age-keygen -o key.txt`)."],
      'RECIPIENT_INVALID',
    )
  })
}

/** The archive's bytes → age ciphertext, streamed. */
export async function encryptStream(plain: Readable, recipients: string[]): Promise<Readable> {
  const e = new Encrypter()
  for (const r of recipients) e.addRecipient(r)
  const web = await e.encrypt(Readable.toWeb(plain) as unknown as ReadableStream<Uint8Array>)
  return Readable.fromWeb(web as unknown as WebReadableStream<Uint8Array>)
}

/** The identities of an age identity file (the secret keys never leave memory). */
export function readIdentities(file: string): string[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new IrError(
      `--identity ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
      ExitCode.Usage,
      ['Pass the age identity file (AGE-SECRET-KEY-1… lines) of a recipient of the bundle.'],
      'IDENTITY_UNREADABLE',
    )
  }
  const ids = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('AGE-SECRET-KEY-'))
  if (ids.length === 0)
    throw new IrError(
      `--identity ${file} holds no age secret key (AGE-SECRET-KEY-1…).`,
      ExitCode.Usage,
      ['Pass the age identity file of a recipient of the bundle.'],
      'IDENTITY_INVALID',
    )
  return ids
}

/** Ciphertext chunks → plaintext chunks; a wrong key or a tampered byte fails the stream with age's error. */
export async function decryptStream(cipher: Readable, identities: string[]): Promise<Readable> {
  const d = new Decrypter()
  for (const id of identities) d.addIdentity(id)
  const web = await d.decrypt(Readable.toWeb(cipher) as unknown as ReadableStream<Uint8Array>)
  return Readable.fromWeb(web as unknown as WebReadableStream<Uint8Array>)
}

export function isAgeFile(head: Buffer): boolean {
  return head.toString('latin1', 0, 21) === 'age-encryption.org/v1'
}
