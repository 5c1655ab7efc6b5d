/**
 * What a module that changes the install's files needs from the case, without knowing the case:
 * each change is backed up and journaled (write-ahead) before it happens, and marked done after.
 */
export interface FileChanger {
  /** Replace a file's bytes (a symlink is written through); owner, group and mode are kept. */
  writeFile(file: string, data: string | Buffer, step: string): WrittenFile
  /** Set a path's mode (never through a symlink). */
  chmod(file: string, mode: number, step: string): void
}

export interface WrittenFile {
  path: string
  /** undefined: ir created the file. */
  sha256Before?: string
  sha256After: string
  mode: number
}
