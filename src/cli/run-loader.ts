import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { celistraPaths } from '../policy/paths.js';
import { EXIT_CODES } from './exit-codes.js';
import { onBeforeExec } from '../run/before-exec-event.js';
import { loadBuiltin } from '../lazy/builtin.js';

/**
 * Starts the `celistra run` bundle (dist/run/run-entry.cjs) through V8's code cache.
 * Compiling the bundle's functions is most of the CPU time `run` adds to Node's own
 * start-up (docs/benchmarks/run.md); with the cache V8 deserialises them
 * instead. Node 20 has no compile cache of its own for CommonJS (module.enableCompileCache
 * arrived in 22.1), hence vm.Script with cachedData.
 *
 * The cache is executable code for V8, so it lives where fenced agents can never write:
 * Celistra's state directory (0700, refused as a writable root and read-denied by every
 * policy). Its name carries the Node version, the architecture and the bundle's size and
 * mtime; V8 also refuses a cache made by another V8 or for another source length. A
 * missing or refused cache costs nothing but this run's compile, and is rewritten when
 * the process exits.
 */
export function runBundle(bundlePath: string): void {
  // utf8: Node 20 reads it in one native call (readFileUtf8); every other encoding goes
  // through the JavaScript read loop, ~0.4 ms slower on a cold process. esbuild writes
  // ASCII only (non-ASCII characters as escapes), so any decoding gives the same string.
  const source = readFileSync(bundlePath, 'utf8');
  const cachePath = codeCachePath(bundlePath);
  const cachedData = readOwnCodeCache(cachePath);
  // The CommonJS wrapper, as Node's own loader builds it.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundlePath, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    // At exit the functions this run compiled are in the cache too, not only the top level.
    // A run Celistra refused (one of its own exit statuses) leaves nothing behind, not even this.
    process.once('exit', (code) => {
      if (!Object.values(EXIT_CODES).includes(code)) writeCodeCache(cachePath, () => script.createCachedData());
    });
    // A run that becomes celistra-exec never reaches 'exit' (src/run/launch-exec.ts).
    onBeforeExec(() => writeCodeCache(cachePath, () => script.createCachedData()));
  }
  const module = { exports: {} };
  const wrapper = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  wrapper(module.exports, requireBeside(bundlePath), module, bundlePath, dirname(bundlePath));
}

/**
 * The require the bundle resolves its externals with (node-pty, ws, its audit-log chunk),
 * as if it were loaded from its own path. The loader sits in the same directory, and
 * bin/celistra.js hands it a require that resolves as one made there would, so that one
 * serves (node:module's createRequire costs ~0.7 ms with the module loaded for it).
 */
function requireBeside(bundlePath: string): NodeJS.Require {
  if (typeof require === 'function' && dirname(bundlePath) === __dirname) return require;
  return loadBuiltin<typeof import('node:module')>('node:module').createRequire(bundlePath);
}

function codeCachePath(bundlePath: string): string {
  const st = statSync(bundlePath);
  const key = `${process.version}-${process.arch}-${st.size}-${Math.floor(st.mtimeMs)}`;
  return join(celistraPaths().stateDir, 'code-cache', `run-${key}.v8`);
}

/**
 * Caches of older bundles and other Node versions are dead weight, but two installs in
 * use side by side (a global one and a project's own) must not evict each other's on
 * every run: keep the few most recently written.
 */
const CODE_CACHES_KEPT = 4;

function pruneCodeCaches(dir: string): void {
  const caches = readdirSync(dir)
    .filter((name) => name.endsWith('.v8'))
    .map((name) => ({ path: join(dir, name), mtimeMs: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const old of caches.slice(CODE_CACHES_KEPT)) unlinkSync(old.path);
}

/**
 * The cache only if this user alone could have written it: a state dir shared with
 * another user (say, root running with a user's HOME) must not hand them our process.
 * Checked on the open descriptor, so the file cannot be swapped between check and read.
 */
function readOwnCodeCache(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    const ours = st.isFile() && st.uid === process.geteuid?.() && (st.mode & 0o022) === 0;
    return ours ? readWhole(fd, st.size) : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The file behind `fd`, `size` bytes as fstat gave them, or undefined if it came up short.
 * readFileSync(fd) would fstat it again and go through its generic read loop, whose
 * functions a fresh process compiles first.
 */
function readWhole(fd: number, size: number): Buffer | undefined {
  const data = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const n = readSync(fd, data, filled, size - filled, filled);
    if (n === 0) return undefined;
    filled += n;
  }
  return data;
}

/** Atomic (write, then rename), so a concurrent run never reads half a cache; never throws. */
function writeCodeCache(path: string, data: () => Buffer): void {
  try {
    const dir = dirname(path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, data(), { mode: 0o600 });
    renameSync(tmp, path);
    pruneCodeCaches(dir);
  } catch {
    // A read-only or full state dir: the next run compiles again, nothing else is lost.
  }
}
