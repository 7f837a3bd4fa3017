import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs as cittyParseArgs, renderUsage, type CommandDef } from 'citty';
import { CelistraError } from '../src/policy/errors.js';
import { cittyArgs, parseFlags } from '../src/cli/flag-table.js';
import { RUN_FLAGS, parseRunArgs } from '../src/cli/run-flags.js';
import { unknownFlags } from '../src/cli/argv.js';
import { errorCode } from './support/error-code.js';
import { runCelistra } from './support/celistra-cli.js';
import { isolatedEnv } from './support/isolated-env.js';
import { spoolDir } from '../src/audit/spool.js';
import { celistraPaths } from '../src/policy/paths.js';

const FULL_CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

function usageError(fn: () => unknown): { message: string; hint: string | undefined } {
  try {
    fn();
  } catch (e) {
    if (e instanceof CelistraError && e.code === 'E_USAGE') return { message: e.message, hint: e.hint };
    throw e;
  }
  assert.fail('expected a usage error');
}

test('repeated flags keep every value, in order, in both spellings', () => {
  const { flags } = parseRunArgs(['--allow-write', '/a', '--deny-read=/x', '--allow-write=/b', '--workspace', 'w', '--allow-write', '/c', '--', 'cmd', '--allow-write', '/not-ours']);
  assert.deepEqual(flags['allow-write'], ['/a', '/b', '/c']);
  assert.deepEqual(flags['deny-read'], ['/x']);
  assert.deepEqual(parseRunArgs(['--', 'true']).flags['allow-write'], []);
});

test('a flag that is not repeatable keeps its last value', () => {
  assert.equal(parseRunArgs(['--workspace', '/a', '--workspace=/b', '--', 'true']).flags.workspace, '/b');
  assert.equal(parseRunArgs(['--net', 'off', '--net', 'on']).flags.net, 'on');
});

test('--flag=value splits at the first =, and may be empty', () => {
  const { flags } = parseRunArgs(['--name=a=b', '--workspace=', '--net=off']);
  assert.equal(flags.name, 'a=b');
  assert.equal(flags.workspace, '');
  assert.equal(flags.net, 'off');
});

test('defaults apply when a flag is absent; booleans are false unless given', () => {
  const { flags } = parseRunArgs(['--workspace', 'w', '--', 'true']);
  assert.equal(flags.backend, 'auto');
  assert.equal(flags.net, 'on');
  assert.equal(flags.verbose, false);
  assert.equal(flags['allow-unix-sockets'], false);
  assert.equal(flags.preset, undefined);
});

test('booleans: bare is true, =false and --no- are false, any other value is true', () => {
  assert.equal(parseRunArgs(['--verbose']).flags.verbose, true);
  assert.equal(parseRunArgs(['--verbose=false']).flags.verbose, false);
  assert.equal(parseRunArgs(['--verbose=0']).flags.verbose, true);
  assert.equal(parseRunArgs(['--verbose', '--no-verbose']).flags.verbose, false);
  // --no- wins wherever it stands before the first --
  assert.equal(parseRunArgs(['--no-verbose', '--verbose']).flags.verbose, false);
});

test('-- ends the options: the command is everything after the first one, untouched', () => {
  const r = parseRunArgs(['--workspace', 'w', '--', 'sh', '-c', 'x', '--verbose', '--bogus', '--', '--no-net']);
  assert.deepEqual(r.command, ['sh', '-c', 'x', '--verbose', '--bogus', '--', '--no-net']);
  assert.equal(r.flags.verbose, false);
  assert.equal(r.flags.net, 'on');
  assert.deepEqual(parseRunArgs(['--workspace', 'w']).command, []);
  assert.deepEqual(parseRunArgs(['--workspace', 'w', '--']).command, []);
});

test('a string flag takes the next argument as its value, even -- (as citty did)', () => {
  const r = parseRunArgs(['--name', '--', 'true']);
  assert.equal(r.flags.name, '--');
  assert.deepEqual(r.command, ['true']);
  // ... and parsing goes on after that --, up to the next one
  const again = parseRunArgs(['--name', '--', '--verbose', '--', 'true']);
  assert.equal(again.flags.verbose, true);
  assert.deepEqual(again.command, ['--verbose', '--', 'true']);
  // Without a next argument the value is empty.
  assert.equal(parseRunArgs(['--workspace']).flags.workspace, '');
});

test('unknown flags before -- are a usage error naming the first one', () => {
  const e = usageError(() => parseRunArgs(['--workspace', 'w', '--alow-write', '/x', '-q', '--', 'true']));
  assert.equal(e.message, 'unknown option --alow-write');
  assert.equal(e.hint, 'celistra run --help lists the options; the command goes after --');
  assert.equal(usageError(() => parseRunArgs(['-x', '--', 'true'])).message, 'unknown option --x');
  assert.equal(usageError(() => parseRunArgs(['--allowWrite', '/x'])).message, 'unknown option --allowWrite');
  assert.equal(usageError(() => parseRunArgs(['--no-bogus'])).message, 'unknown option --no-bogus');
  // After -- nothing is ours to refuse.
  assert.equal(errorCode(() => parseRunArgs(['--workspace', 'w', '--', 'ls', '--bogus'])), undefined);
});

test('--no-NAME on a string flag reads as false, as citty read it', () => {
  assert.equal(parseRunArgs(['--no-net']).flags.net, false);
  assert.equal(parseRunArgs(['--workspace', 'w', '--no-workspace']).flags.workspace, false);
  // Repeatable flags are read from the raw arguments only.
  assert.deepEqual(parseRunArgs(['--allow-write', '/a', '--no-allow-write']).flags['allow-write'], ['/a']);
});

test('no flag has a one-letter name (single-dash arguments never set a flag)', () => {
  assert.deepEqual(Object.keys(RUN_FLAGS).filter((n) => n.length === 1), []);
});

/** citty's reading of the same arguments, as `celistra run` used it before this parser. */
function cittyReading(rawArgs: string[]): Record<string, unknown> {
  const parsed = cittyParseArgs(rawArgs, cittyArgs(RUN_FLAGS)) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(RUN_FLAGS)) {
    if (spec.type === 'string' && 'repeatable' in spec) continue;
    out[name] = spec.type === 'boolean' ? (parsed[name] ?? false) : parsed[name];
  }
  return out;
}

function ourReading(rawArgs: string[]): Record<string, unknown> {
  const { flags } = parseRunArgs(rawArgs);
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(RUN_FLAGS)) {
    if (spec.type === 'string' && 'repeatable' in spec) continue;
    out[name] = (flags as Record<string, unknown>)[name];
  }
  return out;
}

const WORDS = [
  '--workspace', '--worktree', '--backend', '--preset', '--allow-write', '--deny-read', '--net', '--allow-unix-sockets', '--name', '--verbose',
  '--no-verbose', '--no-net', '--no-workspace', '--no-allow-write', '--no-allow-unix-sockets', '--verbose=false', '--verbose=0', '--verbose=',
  '--net=off', '--workspace=', '--workspace=/w', '--name=a=b', '--backend=none', '--allow-write=/a', '--allow-unix-sockets=false',
  '--', '--', '-', 'x', 'on', 'off', 'none', '/p', '--help=1', '--h', '-workspace', '-h=1', '--no-', '--=x', '--bogus', '-x', '--allowWrite',
];

/** Deterministic, so a failure can be replayed (mulberry32). */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('gives citty\'s values for every flag on 5000 random argument lists, and refuses exactly the ones with unknown flags', () => {
  const random = prng(20261126);
  let compared = 0;
  let refused = 0;
  for (let n = 0; n < 5000; n++) {
    const rawArgs = Array.from({ length: Math.floor(random() * 9) }, () => WORDS[Math.floor(random() * WORDS.length)]!);
    const unknown = unknownFlags(rawArgs, Object.keys(RUN_FLAGS));
    if (unknown.length) {
      assert.equal(usageError(() => parseRunArgs(rawArgs)).message, `unknown option --${unknown[0]}`, JSON.stringify(rawArgs));
      refused++;
      continue;
    }
    assert.deepEqual(ourReading(rawArgs), cittyReading(rawArgs), JSON.stringify(rawArgs));
    compared++;
  }
  // Both kinds must have been exercised for the comparison to mean anything.
  assert.ok(compared > 1000 && refused > 1000, `compared ${compared}, refused ${refused}`);
});

test('the generic parser reads any table: a new flag is one entry', () => {
  const table = { colour: { type: 'string', description: 'c', default: 'red' }, fast: { type: 'boolean', description: 'f' } } as const;
  const r = parseFlags(table, ['--fast', '--colour=blue', '--', 'x'], 'tool --help');
  assert.deepEqual(r, { flags: { colour: 'blue', fast: true }, command: ['x'] });
  assert.equal(usageError(() => parseFlags(table, ['--slow'], 'tool --help')).hint, 'tool --help lists the options; the command goes after --');
});

test('--help is rendered from the same table, every flag in table order', async () => {
  const cmd: CommandDef = { meta: { name: 'run', description: 'd' }, args: cittyArgs(RUN_FLAGS) };
  const help = (await renderUsage(cmd)).replace(/\x1b\[[0-9;]*m/g, '');
  let at = -1;
  for (const [name, spec] of Object.entries(RUN_FLAGS)) {
    const hint = spec.type === 'boolean' ? '' : `=<${'valueHint' in spec ? spec.valueHint : name}>`;
    const line = help.indexOf(`--${name}${hint}`);
    assert.ok(line > at, `--${name} is listed after the flag before it`);
    assert.ok(help.slice(line).split('\n')[0]!.includes(spec.description), `--${name} has its description`);
    at = line;
  }
  assert.match(help, /--backend=<backend> +auto \| landlock .* \(Default: auto\)/);
});

test('the fast path and the full CLI answer the same arguments alike', () => {
  const iso = isolatedEnv('celistra-run-flags-');
  const ws = join(iso.root, 'ws');
  mkdirSync(ws);
  const cases = [
    ['--workspace', ws, '--no-net', '--', 'true'],
    ['--workspace', ws, '--no-backend', '--', 'true'],
    ['--no-workspace', '--', 'true'],
    ['--workspace', ws, '--alow-write', '/x', '--', 'true'],
    ['--workspace', ws],
    ['--workspace', '--', 'true'],
    ['--workspace', ws, '--worktree', 'w', '--', 'true'],
    ['--workspace', ws, '--preset=', '--', 'true'],
    ['--workspace', ws, '--backend', 'none', '--verbose=false', '--', 'sh', '-c', 'echo "$@"', 'x', '--workspace', '--help'],
    ['--workspace=' + ws, '--backend=none', '--allow-write', join(iso.root, 'missing'), '--', 'true'],
  ];
  for (const args of cases) {
    const fast = runCelistra(['run', ...args], { env: iso.env });
    const full = spawnSync(process.execPath, [FULL_CLI, 'run', ...args], { env: iso.env });
    const label = JSON.stringify(args);
    assert.equal(fast.status, full.status, label);
    assert.equal(fast.stderr.replace(/run-[A-Za-z0-9]{6}/g, 'run-X'), full.stderr.toString().replace(/run-[A-Za-z0-9]{6}/g, 'run-X'), label);
    assert.deepEqual(fast.stdout, full.stdout, label);
  }
  // The expectations themselves, for two of them: as before this parser.
  const noNet = runCelistra(['run', '--workspace', ws, '--no-net', '--', 'true'], { env: iso.env });
  assert.equal(noNet.status, 64);
  assert.equal(noNet.stderr, 'celistra: --net must be on or off, not "false"\n');
  const passthrough = runCelistra(['run', '--workspace', ws, '--backend', 'none', '--', 'sh', '-c', 'echo "$@"', 'x', '--workspace', '--help'], { env: iso.env });
  assert.equal(passthrough.stdout.toString(), '--workspace --help\n');
});

test('--no-name and --no-worktree record the default agent name; --name= records an empty one', () => {
  const iso = isolatedEnv('celistra-run-flags-agent-');
  const ws = join(iso.root, 'agent-ws');
  mkdirSync(ws);
  const agentsOf = (flag: string) => {
    const env = { ...iso.env, XDG_STATE_HOME: join(iso.root, `state${flag}`) };
    const r = runCelistra(['run', '--backend', 'none', flag, '--workspace', ws, '--', 'true'], { env });
    assert.equal(r.status, 0, r.stderr);
    const dir = spoolDir(celistraPaths(env).stateDir);
    const lines = readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n'));
    return [...new Set(lines.map((l) => (JSON.parse(l) as { agent: string | null }).agent))];
  };
  assert.deepEqual(agentsOf('--no-name'), ['agent-ws']);
  assert.deepEqual(agentsOf('--no-worktree'), ['agent-ws']);
  assert.deepEqual(agentsOf('--name='), ['']);
  assert.deepEqual(agentsOf('--name=a7'), ['a7']);
});
