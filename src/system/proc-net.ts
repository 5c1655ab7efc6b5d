import {readFileSync, readlinkSync} from 'node:fs'
import path from 'node:path'

import {safeReaddir} from './safe-fs.js'

/** Linux /proc: TCP listening sockets and the processes that own them. */

export interface TcpListener {
  proto: 'tcp' | 'tcp6'
  address: string
  port: number
}

/** Listening TCP sockets by inode, from /proc/net/tcp{,6} (state 0A = LISTEN). */
export function tcpListeners(proc = '/proc'): Map<string, TcpListener> {
  const byInode = new Map<string, TcpListener>()
  for (const table of ['tcp', 'tcp6'] as const) {
    let text = ''
    try {
      text = readFileSync(path.join(proc, 'net', table), 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f[3] !== '0A' || !f[1] || !f[9]) continue
      const [hexAddr = '', hexPort = '0'] = f[1].split(':')
      byInode.set(f[9], {proto: table, address: decodeAddress(hexAddr), port: Number.parseInt(hexPort, 16)})
    }
  }
  return byInode
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

function decodeAddress(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.')
  if (hex === '00000000000000000000000000000000') return '::'
  if (hex === '00000000000000000000000001000000') return '::1'
  return hex
}
