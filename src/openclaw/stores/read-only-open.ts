import {copyFileSync, existsSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import Database from 'better-sqlite3'

/**
 * Reading a live OpenClaw store without changing it: SQLite writes the -shm (read marks, WAL
 * recovery) and may create -wal/-shm even on a read-only open, so a store is never opened in
 * place. It is copied with its -wal into a private temp dir (0700, removed after), and the copy is
 * read. The store's bytes and mtimes stay as they were (`ir rotate --dry-run`, evidence).
 */
export function readStoreCopy<T>(file: string, read: (db: Database.Database) => T): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ir-store-read-'))
  try {
    const copy = path.join(dir, path.basename(file))
    copyFileSync(file, copy)
    if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${copy}-wal`)
    const db = new Database(copy, {readonly: true, fileMustExist: true})
    try {
      return read(db)
    } finally {
      db.close()
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}
