// The package as users get it: `npm pack` once per test file, then install the
// tarball into fresh temporary projects and run them with plain `node` (the
// project's Node 24, no tsx). The network is never used: the install is
// `npm ci --offline` from the npm cache `npm ci` filled, with a lockfile taken
// from the repo's (a bare `npm install --offline` needs registry metadata the
// cache may lack, and would resolve versions the repo never tested).
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** The project's Node 24 (tests run on it); children find it first on PATH. */
export const NODE = process.execPath;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Why package tests cannot run here (npm missing), or undefined when they can. */
export function npmMissing(): string | undefined {
  const r = spawnSync('npm', ['--version'], { env: childEnv(), encoding: 'utf8' });
  return r.error || r.status !== 0 ? `npm is not available (${r.error?.message ?? r.stderr.trim()})` : undefined;
}

/**
 * The environment of every child: Node 24 first on PATH (so `npx` and the
 * `micromesh` bin's `#!/usr/bin/env node` run on it), npm offline with short
 * timeouts, and none of the variables `npm test` or tsx set (npm_config_local_prefix
 * would point a child npm at the repo; NODE_OPTIONS could load tsx).
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|INIT_CWD$|NODE$|NODE_OPTIONS$|NODE_TEST_|TSX_)/i.test(k) && !/^npm_config_(cache|userconfig|globalconfig|cafile)$/i.test(k)) continue;
    env[k] = v;
  }
  env.PATH = `${dirname(NODE)}${process.platform === 'win32' ? ';' : ':'}${process.env.PATH ?? ''}`;
  Object.assign(env, {
    npm_config_offline: 'true', npm_config_fetch_retries: '0', npm_config_fetch_timeout: '5000',
    npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', npm_config_yes: 'false',
  }, extra);
  return env;
}

/** Runs a command to completion (killing it after `timeoutMs`). */
export function run(cmd: string, args: readonly string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** Like run, but throws with the output unless the command exits 0. */
export async function runOk(cmd: string, args: readonly string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd}) exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

// Temp dirs and process groups to remove/kill even if a test fails to clean up.
const tempDirs = new Set<string>();
const groups = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of groups) if (c.exitCode === null && c.signalCode === null) try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ }
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}
function removeDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

/** The fields of the packed package.json that an install uses. */
export interface PackedManifest {
  name: string;
  version: string;
  license?: string;
  dependencies?: Record<string, string>;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
}

export interface PackedPackage {
  name: string;
  version: string;
  manifest: PackedManifest;
  /** Absolute path of the .tgz. */
  tarball: string;
  /** Compressed size, bytes. */
  size: number;
  /** Paths inside the package (package.json, dist/...). */
  files: string[];
  cleanup(): void;
}

let packed: Promise<PackedPackage> | undefined;

/**
 * `npm pack` of the current working tree, once per process (test file). It
 * packs a copy (node_modules linked), so its `prepare` build writes the copy's
 * dist/, never the repo's that other runs may be reading.
 */
export function packOnce(): Promise<PackedPackage> {
  packed ??= pack();
  return packed;
}

const NOT_COPIED = new Set(['node_modules', '.git', 'dist', 'tmp', '.micromesh']);

async function pack(): Promise<PackedPackage> {
  const root = tempDir('micromesh-pack-');
  const stage = join(root, 'stage');
  cpSync(REPO, stage, {
    recursive: true,
    filter: (src) => {
      const top = relative(REPO, src).split(sep)[0]!;
      return !NOT_COPIED.has(top) && !top.startsWith('.scratch');
    },
  });
  symlinkSync(join(REPO, 'node_modules'), join(stage, 'node_modules'), 'dir');
  const r = await runOk('npm', ['pack', '--json', '--pack-destination', root], { cwd: stage, timeoutMs: 180_000 });
  // `prepare` (the build) runs first and may print; the JSON report is the last thing on stdout.
  const json = r.stdout.slice(r.stdout.search(/^\[/m));
  const [info] = JSON.parse(json) as { name: string; version: string; filename: string; size: number; files: { path: string }[] }[];
  const manifest = JSON.parse(readFileSync(join(stage, 'package.json'), 'utf8')) as PackedManifest;
  rmSync(stage, { recursive: true, force: true });
  return {
    name: info!.name, version: info!.version, manifest, tarball: join(root, info!.filename), size: info!.size,
    files: info!.files.map((f) => f.path),
    cleanup: () => removeDir(root),
  };
}

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [k: string]: unknown;
}

/**
 * The repo lockfile's entries that `names` (installed at the top level) need,
 * by Node's lookup: a dependency of `node_modules/a` is `node_modules/a/node_modules/d`
 * if the lock has it, else the next one up.
 */
function lockClosure(lock: Record<string, LockEntry>, names: Iterable<string>): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const visit = (path: string): void => {
    if (out[path] || !lock[path]) return;
    const entry = lock[path];
    out[path] = entry;
    const deps = { ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies };
    for (const d of Object.keys(deps)) {
      for (let base = path; ; base = base.slice(0, base.lastIndexOf('/node_modules/'))) {
        const candidate = `${base}/node_modules/${d}`;
        if (lock[candidate]) { visit(candidate); break; }
        if (!base.includes('/node_modules/')) { visit(`node_modules/${d}`); break; }
      }
    }
  };
  for (const n of names) visit(`node_modules/${n}`);
  return out;
}

export interface TempProject {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Writes `files` (relative path → content) into the project. */
  write(files: Record<string, string>): void;
  run(cmd: string, args: readonly string[], opts?: { timeoutMs?: number; env?: Record<string, string> }): Promise<RunResult>;
  /** Starts a long-running command in its own process group (killed as a group). */
  start(cmd: string, args: readonly string[], opts?: { env?: Record<string, string> }): ChildProcess;
  /** Kills what `start` started and removes the directory. */
  cleanup(): Promise<void>;
}

/**
 * A fresh project in a temp dir with the packed tarball installed, offline.
 * `dependencies`/`devDependencies` name other packages to install beside it,
 * at the versions the repo's lockfile has (they must be in it).
 *
 * With `dir`, the project is an existing one (say, one `micromesh new` wrote)
 * instead: its package.json is kept, except that its dependency on the
 * package now points at the tarball (the registry has no micromesh) and the
 * repo's overrides are added; its other dependencies must be in the repo's
 * lockfile. `cleanup` removes `dir` too.
 */
export async function installPacked(pkg: PackedPackage, opts: {
  dependencies?: readonly string[];
  devDependencies?: readonly string[];
  files?: Record<string, string>;
  dir?: string;
} = {}): Promise<TempProject> {
  const dir = opts.dir ?? tempDir('micromesh-app-');
  if (opts.dir) tempDirs.add(dir);
  const tgz = `file:${pkg.name}-${pkg.version}.tgz`;
  cpSync(pkg.tarball, join(dir, `${pkg.name}-${pkg.version}.tgz`));
  const { overrides } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { overrides?: Record<string, string> };
  const deps = pkg.manifest.dependencies ?? {};
  const repoLock = (JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }).packages;
  const pinned = (names: readonly string[] = []) => Object.fromEntries(names.map((n) => {
    const v = repoLock[`node_modules/${n}`]?.version;
    if (!v) throw new Error(`${n} is not in the repo's package-lock.json: it cannot be installed offline`);
    return [n, v];
  }));
  type Deps = Record<string, string>;
  const existing: { name: string; dependencies?: Deps; devDependencies?: Deps; overrides?: Deps } = opts.dir
    ? JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    : { name: 'micromesh-package-test', private: true, type: 'module' };
  const own = (field?: Deps) => pinned(Object.keys(field ?? {}).filter((n) => n !== pkg.name));
  const manifest = {
    ...existing,
    dependencies: { ...own(existing.dependencies), [pkg.name]: tgz, ...pinned(opts.dependencies) },
    devDependencies: { ...own(existing.devDependencies), ...pinned(opts.devDependencies) },
    // Overrides apply only to the root project, so a user's install would not
    // get the repo's; repeat them to install the tree the repo's lock describes.
    overrides: { ...existing.overrides, ...overrides },
  };
  const integrity = `sha512-${createHash('sha512').update(readFileSync(pkg.tarball)).digest('base64')}`;
  const packages: Record<string, unknown> = {
    '': { name: manifest.name, dependencies: manifest.dependencies, devDependencies: manifest.devDependencies },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version, resolved: tgz, integrity, license: pkg.manifest.license,
      dependencies: deps, bin: pkg.manifest.bin, engines: pkg.manifest.engines,
    },
    ...lockClosure(repoLock, [...Object.keys(deps), ...Object.keys(manifest.dependencies), ...Object.keys(manifest.devDependencies)].filter((n) => n !== pkg.name)),
  };
  const env = childEnv();
  const started = new Set<ChildProcess>();
  const project: TempProject = {
    dir,
    env,
    write(files) {
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), content);
      }
    },
    run: (cmd, args, o = {}) => run(cmd, args, { cwd: dir, env: { ...env, ...o.env }, timeoutMs: o.timeoutMs }),
    start(cmd, args, o = {}) {
      const child = spawn(cmd, args, { cwd: dir, env: { ...env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true } satisfies SpawnOptions);
      groups.add(child);
      started.add(child);
      child.once('exit', () => { groups.delete(child); started.delete(child); });
      return child;
    },
    async cleanup() {
      await Promise.all([...started].map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = once(c, 'exit');
        try { process.kill(-c.pid!, 'SIGTERM'); } catch { return; }
        const t = setTimeout(() => { try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5_000);
        await exited;
        clearTimeout(t);
      }));
      removeDir(dir);
    },
  };
  project.write({
    'package.json': `${JSON.stringify(manifest, null, 2)}\n`,
    'package-lock.json': `${JSON.stringify({ name: manifest.name, lockfileVersion: 3, requires: true, packages }, null, 2)}\n`,
    ...opts.files,
  });
  await runOk('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: dir, env, timeoutMs: 120_000 });
  return project;
}

/** The first stdout line of a started `npm start` that is JSON (npm prints its own header lines first). */
export function firstJsonLine(child: ChildProcess): Promise<string> {
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    lines.on('line', (line) => { if (line.startsWith('{')) resolve(line); });
    child.once('exit', (code) => reject(new Error(`npm start exited ${code}: ${stderr}`)));
  });
}
