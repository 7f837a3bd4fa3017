#!/usr/bin/env node
// Installs Celistra the way a new user does and checks that it works: packs this checkout
// (npm pack, which builds it), installs the tarball into a scratch prefix with
// `npm install -g --prefix`, then runs the installed `celistra doctor --json`,
// `celistra demo --json`, one conformance case and `celistrad --help`. .ci/run runs it; by hand:
//   node scripts/check-package.js [--as USER]
// --as USER installs and runs as that (unprivileged) user too, with a prefix and npm cache
// of its own (needs root, for runuser). Exits 1 naming every check that failed.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const asIndex = process.argv.indexOf('--as');
const asUser = asIndex === -1 ? undefined : process.argv[asIndex + 1];
if (asIndex !== -1 && !asUser) usage('--as needs a user name');

/** What the package must ship, and what it must not (the tests, the benches, sources). */
const MUST_SHIP = ['bin/celistra.js', 'bin/celistrad.js', 'dist/src/cli/main.js', 'dist/run/run-entry.cjs', 'dist/conformance/runner.js', 'native/binding.gyp', 'native/build-helper.sh', 'native/src/exec-helper.c', 'scripts/native-build.js'];
const MUST_NOT_SHIP = [/^dist\/(test|bench)\//, /^(test|bench|src|conformance)\//, /^native\/build\//, /node_modules\//, /\.tsbuildinfo$/];

const failures = [];
let lastPack; // npm pack --json's record of the tarball
const check = (ok, what) => {
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}\n`);
  if (!ok) failures.push(what);
};

// /var/tmp: the unprivileged user must reach it, and fenced commands get a private /tmp.
const work = mkdtempSync('/var/tmp/celistra-package-');
chmodSync(work, 0o755);
try {
  const tarball = pack(work);
  checkContents(tarball);
  installAndRun(tarball, join(work, 'root-prefix'), undefined);
  if (asUser) installAndRun(tarball, join(work, `${asUser}-prefix`), asUser);
} catch (e) {
  failures.push(e.message);
  process.stderr.write(`check-package: ${e.message}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.stdout.write(failures.length ? `\n${failures.length} package check(s) failed\n` : '\nthe packed tarball installs and runs\n');
process.exit(failures.length ? 1 : 0);

function pack(dir) {
  const r = run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, capture: true });
  if (r.status !== 0) die(`npm pack failed (status ${r.status})`);
  const [info] = JSON.parse(r.stdout);
  lastPack = info;
  return join(dir, info.filename);
}

function checkContents(tarball) {
  const paths = lastPack.files.map((f) => f.path);
  for (const p of MUST_SHIP) check(paths.includes(p), `the tarball ships ${p}`);
  const junk = paths.filter((p) => MUST_NOT_SHIP.some((re) => re.test(p)));
  check(junk.length === 0, `the tarball ships no tests, benches, sources or builds${junk.length ? ` (has ${junk.slice(0, 5).join(', ')}${junk.length > 5 ? ', ...' : ''})` : ''}`);
  process.stdout.write(`     ${tarball}: ${paths.length} files, ${Math.round(lastPack.size / 1024)} kB\n`);
}

function installAndRun(tarball, prefix, user) {
  const who = user ? ` as ${user}` : '';
  const home = user ? join(prefix, 'home') : undefined;
  const env = user ? { HOME: home, npm_config_cache: join(home, '.npm'), ...inheritedNodedir() } : {};
  if (user) {
    for (const dir of [prefix, home]) {
      spawnSync('mkdir', ['-p', dir]);
      const ids = userIds(user);
      chownSync(dir, ids.uid, ids.gid);
    }
  }
  const installed = run('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', tarball], { user, env });
  check(installed.status === 0, `npm install -g --prefix of the tarball${who}`);
  if (installed.status !== 0) return;
  const pkg = join(prefix, 'lib', 'node_modules', 'celistra');
  check(!existsSync(join(pkg, 'node_modules', 'typescript')) && !existsSync(join(pkg, 'node_modules', 'esbuild')), `the install did not pull in devDependencies${who}`);
  check(readdirSync(join(pkg, 'native', 'build', 'Release')).includes('celistra-exec'), `the install built the exec helper${who}`);

  const bin = (name) => join(prefix, 'bin', name);
  const doctor = run(bin('celistra'), ['doctor', '--json'], { user, env, capture: true });
  const facts = parse(doctor.stdout);
  const landlock = facts?.backends?.find((b) => b.backend === 'landlock');
  check(doctor.status === 0 && typeof facts?.auto === 'string', `celistra doctor --json exits 0 and picks a backend (${facts?.auto})${who}`);
  check(landlock?.available === true && landlock.details?.helper?.startsWith(pkg), `doctor finds the addon and helper the install built${who}${landlock?.available ? '' : `: ${JSON.stringify(landlock?.reason ?? landlock)}`}`);

  const demo = run(bin('celistra'), ['demo', '--json'], { user, env, capture: true });
  const result = parse(demo.stdout);
  check(demo.status === 0 && result?.ok === true, `celistra demo --json passes${who}${result?.failures?.length ? `: ${result.failures.join('; ')}` : ''}`);
  check(result?.escapes?.attempted > 0 && result.escapes.blocked === result.escapes.attempted && result.escapes.escaped === 0, `the demo's escape attempts were all blocked (${result?.escapes?.blocked}/${result?.escapes?.attempted})${who}`);

  // One case of the suite: dist/conformance ships and runs from the install.
  const conformance = run(bin('celistra'), ['conformance', '--backend', facts?.auto ?? 'all', '--case', '02', '--json'], { user, env, capture: true });
  const suite = parse(conformance.stdout);
  const cases = suite?.backends?.flatMap((b) => b.cases ?? []) ?? [];
  check(conformance.status === 0 && cases.length === 1 && cases[0].status === 'held', `celistra conformance --case 02 holds (${cases.map((c) => c.status).join(', ') || 'no case ran'})${who}`);

  const help = run(bin('celistrad'), ['--help'], { user, env, capture: true });
  check(help.status === 0 && /USAGE/.test(help.stdout) && /daemon/.test(help.stdout), `celistrad --help exits 0 with the usage${who}`);
}

function run(cmd, args, { cwd = '/', user, env = {}, capture = false } = {}) {
  const argv = user ? ['runuser', '-u', user, '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args] : [cmd, ...args];
  process.stdout.write(`\n$ ${argv.join(' ')}\n`);
  const r = spawnSync(argv[0], argv.slice(1), { cwd, env: user ? process.env : { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'], maxBuffer: 64 << 20 });
  if (r.error) die(`${argv[0]}: ${r.error.message}`);
  return r;
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    process.stdout.write(`(not JSON: ${text.slice(0, 500)})\n`);
    return undefined;
  }
}

/**
 * The Node headers node-gyp builds against, when this user's npm config names them
 * (`nodedir`, e.g. a machine that cannot reach nodejs.org to download them): the other
 * user, with a home of its own, gets the same setting.
 */
function inheritedNodedir() {
  const dir = spawnSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' }).stdout?.trim();
  return dir && dir !== 'undefined' && dir !== 'null' ? { npm_config_nodedir: dir } : {};
}

function userIds(user) {
  const id = (flag) => Number(spawnSync('id', [flag, user], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

function usage(message) {
  process.stderr.write(`check-package: ${message}\nusage: node scripts/check-package.js [--as USER]\n`);
  process.exit(2);
}

function die(message) {
  throw new Error(message);
}
