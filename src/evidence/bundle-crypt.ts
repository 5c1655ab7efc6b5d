import {spawn} from 'node:child_process'
import {accessSync, constants, readFileSync} from 'node:fs'
import path from 'node:path'
import {PassThrough, Readable} from 'node:stream'
import type {ReadableStream as WebReadableStream} from 'node:stream/web'

import {Decrypter, Encrypter} from 'age-encryption'

import {ExitCode, IrError} from '../errors.js'

/**
 * Bundles encrypted to their readers with age (age-encryption.org/v1): the archive is encrypted as
 * it is written (no plaintext on disk) and decrypted as `ir verify` reads it. Age keys (`age1…`,
 * `AGE-SECRET-KEY-1…`) go through the `age-encryption` package; SSH keys (ssh-ed25519, ssh-rsa),
 * which that package cannot read, go through the `age` tool (Debian's `age`) as a streaming
 * subprocess: the public key in its argv, the private key only as a file name.
 */

const AGE_RECIPIENT = /^age1[0-9a-z]{20,}$/
/** The SSH key types age reads; the comment after the key is dropped. */
const SSH_RECIPIENT = /^(ssh-ed25519|ssh-rsa) (AAAA[0-9A-Za-z+/]+={0,3})(?: |$)/
const SSH_PRIVATE_KEY = /-----BEGIN (?:OPENSSH|RSA) PRIVATE KEY-----/

export function isSshRecipient(r: string): boolean {
  return SSH_RECIPIENT.test(r)
}

/** Recipients as given → normalized keys; an SSH key needs the `age` tool, looked up here (before any work). */
export function parseRecipients(list: string[], searchPath = process.env.PATH): string[] {
  const keys = list.map((r) => {
    const s = r.trim()
    if (AGE_RECIPIENT.test(s)) return s
    const ssh = SSH_RECIPIENT.exec(s)
    if (ssh) return `${ssh[1]} ${ssh[2]}`
    const kind = /^(?:ssh|ecdsa|sk)-[a-z0-9-]+/.exec(s)?.[0]
    throw new IrError(
      kind
        ? `--encrypt-to: ${kind} keys cannot be age recipients (age reads ssh-ed25519 and ssh-rsa public keys).`
        : `--encrypt-to ${s.slice(0, 24)}${s.length > 24 ? '…' : ''} is not an age public key (age1…) nor an SSH public key (ssh-ed25519, ssh-rsa).`,
      ExitCode.Usage,
      [
        "Pass the reader's age public key (`age-keygen -y key.txt` prints it) or the whole line of their ~/.ssh/id_ed25519.pub.",
      ],
      'RECIPIENT_INVALID',
    )
  })
  if (keys.some(isSshRecipient)) ageTool(searchPath, '--encrypt-to with an SSH key')
  return keys
}

/** The `age` executable on the search path, or a usage error naming it and how to install it. */
export function ageTool(searchPath = process.env.PATH, forWhat = 'an SSH key'): string {
  for (const dir of (searchPath ?? '').split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, 'age')
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      /* not here */
    }
  }
  throw new IrError(
    `${forWhat} needs the \`age\` tool, which is not installed (not on PATH).`,
    ExitCode.Usage,
    ['Install it (`apt-get install age` on Debian/Ubuntu, `brew install age` on macOS) and re-run.'],
    'AGE_TOOL_MISSING',
  )
}

/** The archive's bytes → age ciphertext, streamed. */
export async function encryptStream(plain: Readable, recipients: string[]): Promise<Readable> {
  if (recipients.some(isSshRecipient))
    return throughAge(
      ageTool(),
      recipients.flatMap((r) => ['-r', r]),
      plain,
    )
  const e = new Encrypter()
  for (const r of recipients) e.addRecipient(r)
  const web = await e.encrypt(Readable.toWeb(plain) as unknown as ReadableStream<Uint8Array>)
  return Readable.fromWeb(web as unknown as WebReadableStream<Uint8Array>)
}

/** What decrypts a bundle: age secret keys (in memory only), or an SSH private key file read by the `age` tool. */
export type Identity = {kind: 'age'; keys: string[]} | {kind: 'ssh'; file: string; tool: string}

export function readIdentities(file: string): Identity {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new IrError(
      `--identity ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
      ExitCode.Usage,
      ['Pass the age identity file (AGE-SECRET-KEY-1… lines) or the SSH private key of a recipient of the bundle.'],
      'IDENTITY_UNREADABLE',
    )
  }
  const keys = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('AGE-SECRET-KEY-'))
  if (keys.length) return {kind: 'age', keys}
  if (SSH_PRIVATE_KEY.test(text)) return {kind: 'ssh', file, tool: ageTool(undefined, '--identity with an SSH key')}
  throw new IrError(
    `--identity ${file} holds no age secret key (AGE-SECRET-KEY-1…) nor an SSH private key.`,
    ExitCode.Usage,
    ['Pass the age identity file or the SSH private key (e.g. ~/.ssh/id_ed25519) of a recipient of the bundle.'],
    'IDENTITY_INVALID',
  )
}

/** Ciphertext chunks → plaintext chunks; a wrong key or a tampered byte fails the stream with age's error. */
export async function decryptStream(cipher: Readable, identity: Identity): Promise<Readable> {
  if (identity.kind === 'ssh') return throughAge(identity.tool, ['-d', '-i', identity.file], cipher)
  const d = new Decrypter()
  for (const id of identity.keys) d.addIdentity(id)
  const web = await d.decrypt(Readable.toWeb(cipher) as unknown as ReadableStream<Uint8Array>)
  return Readable.fromWeb(web as unknown as WebReadableStream<Uint8Array>)
}

export function isAgeFile(head: Buffer): boolean {
  return head.toString('latin1', 0, 21) === 'age-encryption.org/v1'
}

/**
 * `input` through the `age` tool, both ends streamed (pipes hold a few chunks, never the whole).
 * The output ends only once age has exited 0: a failure (wrong key, tampered byte) fails the stream
 * with age's first error line, never a short plaintext taken as whole.
 */
function throughAge(tool: string, args: string[], input: Readable): Readable {
  const child = spawn(tool, args, {stdio: ['pipe', 'pipe', 'pipe']})
  const out = new PassThrough({highWaterMark: 1 << 20})
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString('utf8')
  })
  // EPIPE when age stops early: its exit status says why
  child.stdin.on('error', () => undefined)
  input.on('error', (err) => {
    child.kill()
    out.destroy(err)
  })
  input.pipe(child.stdin)
  child.stdout.pipe(out, {end: false})
  child.on('error', (err) => out.destroy(err))
  child.on('close', (code, signal) => {
    if (code === 0) out.end()
    else {
      const why = stderr
        .split('\n')
        .map((l) => l.replace(/^age: (?:error: )?/, '').trim())
        .find(Boolean)
      out.destroy(new Error(`age ${code === null ? `killed by ${signal}` : `exited ${code}`}${why ? `: ${why}` : ''}`))
    }
  })
  // the reader went away (an error downstream): stop age too
  out.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill()
  })
  return out
}
