import {readSync, readlinkSync} from 'node:fs'
import path from 'node:path'

import {safeReaddir, withFile} from './safe-fs.js'

/** Linux /proc: TCP sockets (listening and connected) and the processes that own them. */

export interface TcpListener {
  proto: 'tcp' | 'tcp6'
  address: string
  port: number
}

export interface TcpSocket extends TcpListener {
  inode: string
  /** Kernel TCP state name (ESTABLISHED, LISTEN, TIME_WAIT…). */
  state: string
  remote: {address: string; port: number}
}

const STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
  '0C': 'NEW_SYN_RECV',
}

/** Listening TCP sockets by inode, from /proc/net/tcp{,6} (state 0A = LISTEN). */
export function tcpListeners(proc = '/proc'): Map<string, TcpListener> {
  const byInode = new Map<string, TcpListener>()
  forEachRow(proc, (row) => {
    if (row.st === '0A') byInode.set(row.inode, {proto: row.proto, ...endpoint(row.local)})
  })
  return byInode
}

/**
 * The TCP sockets whose inode is in `inodes`: every listener, and at most `limit` others (memory
 * bounded by the limit, not by the host's tables, which are read in chunks, line by line).
 */
export function tcpSocketsOf(
  inodes: ReadonlySet<string>,
  limit: number,
  proc = '/proc',
): {sockets: TcpSocket[]; truncated: boolean} {
  const sockets: TcpSocket[] = []
  let others = 0
  let truncated = false
  if (!inodes.size) return {sockets, truncated}
  forEachRow(proc, (row) => {
    if (!inodes.has(row.inode)) return
    // Past the bound a row is only counted, never decoded.
    if (row.st !== '0A' && ++others > limit) truncated = true
    else sockets.push(socketOf(row))
  })
  return {sockets, truncated}
}

/** Socket inodes a process holds open (its /proc/<pid>/fd links). */
export function socketInodes(pid: number, proc = '/proc'): string[] {
  const inodes: string[] = []
  for (const fd of safeReaddir(path.join(proc, String(pid), 'fd'))) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(path.join(proc, String(pid), 'fd', fd)))?.[1]
      if (inode) inodes.push(inode)
    } catch {
      /* fd closed meanwhile */
    }
  }
  return inodes
}

/** Every pid on the host (that this user can see). */
export function allPids(proc = '/proc'): number[] {
  return safeReaddir(proc)
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
}

interface Row {
  proto: 'tcp' | 'tcp6'
  local: string
  remote: string
  st: string
  inode: string
}

/** Each row of /proc/net/tcp and tcp6, split but not decoded. */
function forEachRow(proc: string, visit: (row: Row) => void): void {
  for (const proto of ['tcp', 'tcp6'] as const)
    eachLine(path.join(proc, 'net', proto), (line) => {
      const f = line.trim().split(/\s+/)
      if (f[1] && f[2] && f[3] && f[9] && f[0] !== 'sl')
        visit({proto, local: f[1], remote: f[2], st: f[3], inode: f[9]})
    })
}

function socketOf(row: Row): TcpSocket {
  const state = STATES[row.st] ?? row.st
  return {proto: row.proto, ...endpoint(row.local), remote: endpoint(row.remote), state, inode: row.inode}
}

const CHUNK = 64 * 1024

/** Lines of a file read in chunks (a /proc table can be large); a missing file has none. */
function eachLine(file: string, visit: (line: string) => void): void {
  withFile(file, CHUNK, (fd, buf) => {
    let rest = ''
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null)
      const lines = (rest + buf.toString('latin1', 0, n)).split('\n')
      rest = n === 0 ? '' : (lines.pop() ?? '')
      for (const l of lines) if (l) visit(l)
      if (n === 0) return
      // A row is ~150 bytes: a longer rest is not a /proc row.
      if (rest.length > CHUNK) rest = ''
    }
  })
}

function endpoint(hex: string): {address: string; port: number} {
  const [addr = '', port = '0'] = hex.split(':')
  return {address: decodeAddress(addr), port: Number.parseInt(port, 16)}
}

/** /proc/net/tcp addresses: 32-bit words in host (little-endian) byte order. */
function decodeAddress(hex: string): string {
  const word = (w: string) => [3, 2, 1, 0].map((i) => Number.parseInt(w.slice(i * 2, i * 2 + 2), 16))
  if (hex.length === 8) return word(hex).join('.')
  if (hex.length !== 32) return hex
  const bytes = [0, 1, 2, 3].flatMap((i) => word(hex.slice(i * 8, i * 8 + 8)))
  // IPv4-mapped (::ffff:a.b.c.d)
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255)
    return `::ffff:${bytes.slice(12).join('.')}`
  const groups = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => ((bytes[i * 2]! << 8) | bytes[i * 2 + 1]!).toString(16))
  return compressIpv6(groups)
}

/** RFC 5952 text: the longest run of zero groups (two or more) becomes "::". */
function compressIpv6(groups: string[]): string {
  let best = {at: -1, len: 0}
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === '0') j++
    if (j - i > best.len) best = {at: i, len: j - i}
    i = j
  }
  if (best.len < 2) return groups.join(':')
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`
}
