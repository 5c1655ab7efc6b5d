import {lstatSync} from 'node:fs'

import {applyEdits, modify, parse as parseJsonc} from 'jsonc-parser'

import {safeRead} from '../../system/safe-fs.js'
import {getPath} from '../config.js'

/** A file provider's secret file (SecretRef `file`): read and rewritten at a JSON pointer. */

/** RFC 6901 pointer → key path. */
export function pointerPath(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return []
  return pointer
    .replace(/^\//, '')
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

/** A file provider's file: private regular file, one link (what OpenClaw accepts). */
export function readSecretFile(
  file: string,
  mode: 'json' | 'singleValue',
  id: string,
): {value?: string; writable: boolean; problem?: string} {
  let st
  try {
    st = lstatSync(file)
  } catch {
    return {writable: false, problem: `${file} does not exist.`}
  }
  if (st.isSymbolicLink())
    return {writable: false, problem: `${file} is a symlink (OpenClaw rejects it); ir does not write through it.`}
  if (!st.isFile()) return {writable: false, problem: `${file} is not a regular file.`}
  const problem = st.nlink > 1 ? `${file} has ${st.nlink} hard links (OpenClaw rejects it).` : undefined
  const text = safeRead(file)
  if (text === undefined) return {writable: false, problem: `${file} is not readable.`}
  if (mode === 'singleValue') return {value: text.replace(/\r?\n$/, ''), writable: true, problem}
  try {
    const v = getPath(JSON.parse(text), pointerPath(id))
    return {
      value: typeof v === 'string' ? v : undefined,
      writable: true,
      problem: problem ?? (typeof v === 'string' ? undefined : `${file} has no string at ${id}; ir adds it.`),
    }
  } catch {
    return {writable: false, problem: `${file} is not valid JSON.`}
  }
}

/** New content of a file provider's file with `value` at the pointer (formatting kept). */
export function rewriteSecretFile(
  text: string,
  mode: 'json' | 'singleValue',
  pointer: string | undefined,
  value: string,
): string {
  if (mode === 'singleValue') return value + (text.endsWith('\n') ? '\n' : '')
  const keys = pointerPath(pointer ?? '')
  if (!keys.length) throw new Error('a JSON file provider needs a pointer below the root')
  const indent = /\n([ \t]+)"/.exec(text)?.[1]
  const opts = {
    formattingOptions: {
      insertSpaces: !indent?.startsWith('\t'),
      tabSize: indent && !indent.startsWith('\t') ? indent.length : 2,
      eol: '\n',
    },
  }
  const base = parseJsonc(text) === undefined ? '{}\n' : text
  return applyEdits(base, modify(base, keys, value, opts))
}
