/**
 * Builds the self-contained package the Ansible role ships to each host (ansible/README.md): a tar.gz
 * with one root folder `ir/` holding bin/run.js, dist/, playbooks/, package.json and the production
 * node_modules of this checkout. Native modules (better-sqlite3, the optional Hyperscan addon) go in as
 * built here, so the package runs only where platform, arch and Node ABI match this machine's; those are
 * recorded in ir/fleet-package.json, which the role checks before it runs anything. No registry access
 * is needed on the hosts. Run by `npm run pack:fleet` (after the build); output: `--out FILE`
 * (default ansible/ir-fleet.tgz).
 */
import {execFileSync} from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

interface PackageJson {
  name: string
  version: string
  [key: string]: unknown
}

const root = process.cwd()
const outArg = process.argv.indexOf('--out')
const out = path.resolve(outArg > 0 ? process.argv[outArg + 1]! : path.join('ansible', 'ir-fleet.tgz'))
const manifestFile = path.join(root, 'dist', 'oclif.manifest.json')
if (!existsSync(manifestFile)) throw new Error('dist/ is not built: run `npm run build` first.')

// A worktree may borrow another checkout's node_modules (a symlink): npm must look from where it really is.
const npmRoot = path.dirname(realpathSync(path.join(root, 'node_modules')))
const readJson = <T>(file: string) => JSON.parse(readFileSync(file, 'utf8')) as T

/** Production packages as npm resolves them here: [path inside the package's node_modules, source dir]. */
function productionPackages(): [string, string][] {
  let listing: string
  try {
    listing = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
      cwd: npmRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
  } catch (error) {
    // npm ls exits 1 on extraneous or missing optional packages; its listing is still complete.
    listing = String((error as {stdout?: string}).stdout ?? '')
  }
  const dirs = listing.split('\n').filter((l) => l && path.resolve(l) !== npmRoot)
  return dirs.flatMap((dir): [string, string][] => {
    const at = dir.indexOf(`${path.sep}node_modules${path.sep}`)
    if (at >= 0) return [[dir.slice(at + 1), dir]]
    // A `file:` dependency (native/hyperscan) is listed by its own path: it goes under its name.
    const pkg = path.join(dir, 'package.json')
    return existsSync(pkg) ? [[path.join('node_modules', readJson<PackageJson>(pkg).name), dir]] : []
  })
}

/**
 * What a native package needs at run time: its JS and build/Release/*.node, not the C sources, the
 * vendored SQLite or the object files (most of better-sqlite3's 28 MB).
 */
function keep(pkgDir: string, file: string): boolean {
  const rel = path.relative(pkgDir, file)
  if (rel === 'node_modules' || rel.startsWith(`node_modules${path.sep}`)) return false
  // Types, sources maps and docs: a third of the files, none read at run time (fewer files: faster unpacking).
  if (/\.(?:[cm]?ts|map|md)$/.test(rel)) return false
  if (!existsSync(path.join(pkgDir, 'binding.gyp'))) return true
  const [top, second, third] = rel.split(path.sep)
  if (top === 'deps' || top === 'src') return false
  if (top !== 'build') return true
  if (second === undefined) return true
  return second === 'Release' && (third === undefined || third.endsWith('.node'))
}

/** A native package without its compiled addon cannot load; an optional one is left out instead. */
function hasAddon(pkgDir: string): boolean {
  const release = path.join(pkgDir, 'build', 'Release')
  return (
    !existsSync(path.join(pkgDir, 'binding.gyp')) ||
    (existsSync(release) && readdirSync(release).some((n) => n.endsWith('.node')))
  )
}

const staging = mkdtempSync(path.join(tmpdir(), 'ir-fleet-pack-'))
try {
  const dest = path.join(staging, 'ir')
  mkdirSync(dest, {mode: 0o755})
  const pjson = readJson<PackageJson>(path.join(root, 'package.json'))
  const optional = Object.keys((pjson.optionalDependencies as Record<string, string> | undefined) ?? {})
  const {devDependencies: _dev, scripts: _scripts, ...runtimePjson} = pjson
  writeFileSync(path.join(dest, 'package.json'), `${JSON.stringify(runtimePjson, null, 2)}\n`)
  for (const dir of ['bin', 'dist', 'playbooks']) {
    cpSync(path.join(root, dir), path.join(dest, dir), {recursive: true, filter: (f) => !f.endsWith('dev.js')})
  }
  const natives: string[] = []
  for (const [rel, src] of productionPackages()) {
    const name = rel.split(`node_modules${path.sep}`).at(-1)!
    if (!hasAddon(src)) {
      if (optional.includes(name)) continue
      throw new Error(`${name} has no compiled addon in ${src}/build/Release: run npm ci (it builds it).`)
    }
    if (existsSync(path.join(src, 'binding.gyp'))) natives.push(name)
    cpSync(src, path.join(dest, rel), {recursive: true, dereference: true, filter: (f) => keep(src, f)})
  }
  const commands = Object.keys(readJson<{commands: Record<string, unknown>}>(manifestFile).commands).sort()
  const facts = {
    name: pjson.name,
    version: pjson.version,
    builtAt: new Date().toISOString(),
    node: process.versions.node,
    nodeAbi: process.versions.modules,
    platform: process.platform,
    arch: process.arch,
    natives,
    commands,
  }
  writeFileSync(path.join(dest, 'fleet-package.json'), `${JSON.stringify(facts, null, 2)}\n`)
  // The package must start from its own files alone, and its SQLite addon load in this Node.
  execFileSync(process.execPath, [path.join(dest, 'bin', 'run.js'), '--version'], {cwd: staging, stdio: 'ignore'})
  execFileSync(
    process.execPath,
    ['-e', `new (require(${JSON.stringify(path.join(dest, 'node_modules', 'better-sqlite3'))}))(':memory:').close()`],
    {cwd: staging},
  )
  mkdirSync(path.dirname(out), {recursive: true})
  execFileSync('tar', ['-czf', out, '--owner=0', '--group=0', '-C', staging, 'ir'])
  console.log(
    `${path.relative(root, out)}: ir ${facts.version}, ${commands.length} commands, ` +
      `${facts.platform}-${facts.arch} Node ABI ${facts.nodeAbi} (native: ${natives.join(', ')})`,
  )
} finally {
  rmSync(staging, {recursive: true, force: true})
}
