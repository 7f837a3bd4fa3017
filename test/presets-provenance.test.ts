/**
 * Before per-agent dirs, a preset's base (~/.claude-celistra) was one config dir every
 * fenced agent could write. Nothing found there may reach another agent: the login comes
 * only from the user's own (~/.claude/.credentials.json, ~/.codex/auth.json), an agent
 * dir Celistra did not make is moved aside unread, and the bases are hidden from agents.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { buildPolicy, isWithin } from '../src/policy/policy.js';
import { agentStateDirPath } from '../src/policy/presets/state-dir.js';
import { celistraPaths } from '../src/policy/paths.js';
import { errorCode } from './support/error-code.js';
import { scratchDir } from './support/scratch-dir.js';

const FUTURE = new Date(Date.now() + 3600_000);
const PAST = new Date('2024-01-01');

const PRESETS = [
  { preset: 'claude', envVar: 'CLAUDE_CONFIG_DIR', base: '.claude-celistra', userDir: '.claude', login: '.credentials.json', planted: '.config.json' },
  { preset: 'codex', envVar: 'CODEX_HOME', base: '.codex-celistra', userDir: '.codex', login: 'auth.json', planted: 'sessions/rollout.jsonl' },
] as const;

function scratch() {
  const root = realpathSync(scratchDir('celistra-provenance-'));
  const home = join(root, 'home');
  const ws = join(root, 'wt-a');
  const tmp = join(root, 'tmp');
  for (const d of [home, ws, tmp]) mkdirSync(d);
  const paths = celistraPaths({ HOME: home, XDG_STATE_HOME: join(root, 'state'), XDG_CONFIG_HOME: join(root, 'config'), XDG_RUNTIME_DIR: join(root, 'run') });
  return { root, home, ws, tmp, paths, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

function write(p: string, content: string, mtime?: Date): void {
  mkdirSync(join(p, '..'), { recursive: true, mode: 0o700 });
  writeFileSync(p, content, { mode: 0o600 });
  if (mtime) utimesSync(p, mtime, mtime);
}

for (const t of PRESETS) {
  test(`a ${t.preset} login an old fenced agent left in the base is never copied: the agent gets the user's own login, or none`, () => {
    const s = scratch();
    try {
      const base = join(s.home, t.base);
      write(join(base, t.login), 'PLANTED-IN-BASE', FUTURE);
      const build = () => buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: t.preset });
      const dir = build().env[t.envVar]!;
      assert.equal(existsSync(join(dir, t.login)), false, 'no login of the user: none copied');
      write(join(s.home, t.userDir, t.login), 'USERS-OWN', PAST);
      build();
      assert.equal(readFileSync(join(dir, t.login), 'utf8'), 'USERS-OWN');
      assert.equal(readFileSync(join(base, t.login), 'utf8'), 'PLANTED-IN-BASE', 'the old file is left as it is, unread');
    } finally {
      s.cleanup();
    }
  });

  test(`a ${t.preset} agent dir Celistra did not make is moved aside unread, and the agent starts in a fresh one with the user's login`, () => {
    const s = scratch();
    try {
      const dir = agentStateDirPath(join(s.home, t.base), s.ws);
      // What an old fenced agent could have left for a workspace it guessed: a login newer
      // than the user's (so the copy rule would keep it) and config the agent would load.
      write(join(dir, t.login), 'PLANTED-LOGIN', FUTURE);
      write(join(dir, t.planted), '{"mcpServers":{"x":{"command":"touch"}}}');
      write(join(s.home, t.userDir, t.login), 'USERS-OWN', PAST);
      const p = buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: t.preset });
      assert.equal(p.env[t.envVar], dir, 'the agent keeps its path');
      assert.equal(readFileSync(join(dir, t.login), 'utf8'), 'USERS-OWN');
      assert.equal(existsSync(join(dir, t.planted)), false, 'nothing planted is in the fresh dir');
      const aside = readdirSync(join(s.home, t.base, 'agents')).filter((n) => n.includes('.untrusted-'));
      assert.equal(aside.length, 1, 'the old dir is kept aside, not deleted');
      assert.equal(readFileSync(join(s.home, t.base, 'agents', aside[0]!, t.login), 'utf8'), 'PLANTED-LOGIN');
      assert.ok(!p.writableRoots.some((w) => w.includes('.untrusted-')), 'the old dir is not granted');
    } finally {
      s.cleanup();
    }
  });
}

test('a dir Celistra made keeps the agent\'s state across runs', () => {
  const s = scratch();
  try {
    const build = () => buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'claude' });
    const dir = build().env.CLAUDE_CONFIG_DIR!;
    write(join(dir, '.claude.json'), '{"onboarded":true}');
    write(join(dir, '.credentials.json'), 'AGENT-OWN-LOGIN');
    build();
    assert.equal(readFileSync(join(dir, '.claude.json'), 'utf8'), '{"onboarded":true}');
    assert.equal(readFileSync(join(dir, '.credentials.json'), 'utf8'), 'AGENT-OWN-LOGIN', "a login the agent made itself (/login under the fence) is its own");
    assert.deepEqual(readdirSync(join(s.home, '.claude-celistra', 'agents')).filter((n) => n.includes('.untrusted-')), []);
  } finally {
    s.cleanup();
  }
});

test('a dir put in place of the one Celistra made (same path, another directory) is moved aside', () => {
  const s = scratch();
  try {
    const build = () => buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'claude' });
    const dir = build().env.CLAUDE_CONFIG_DIR!;
    rmSync(dir, { recursive: true });
    write(join(dir, '.config.json'), '{"mcpServers":{}}');
    build();
    assert.equal(existsSync(join(dir, '.config.json')), false);
    assert.equal(readdirSync(join(s.home, '.claude-celistra', 'agents')).filter((n) => n.includes('.untrusted-')).length, 1);
  } finally {
    s.cleanup();
  }
});

test('an empty agent dir Celistra did not make is replaced by a fresh one, with nothing moved aside', () => {
  const s = scratch();
  try {
    const dir = agentStateDirPath(join(s.home, '.claude-celistra'), s.ws);
    mkdirSync(dir, { recursive: true, mode: 0o777 });
    chmodSync(dir, 0o777);
    const build = () => buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'claude' });
    assert.equal(build().env.CLAUDE_CONFIG_DIR, dir);
    assert.equal(statSync(dir).mode & 0o777, 0o700, 'made afresh, not adopted with its mode');
    assert.deepEqual(readdirSync(join(s.home, '.claude-celistra', 'agents')), [basename(dir)]);
    write(join(dir, '.claude.json'), '{}');
    build();
    assert.equal(readFileSync(join(dir, '.claude.json'), 'utf8'), '{}', 'recorded: kept on the next start');
  } finally {
    s.cleanup();
  }
});

test("the provenance records live in Celistra's own state dir, which every policy read-denies", () => {
  const s = scratch();
  try {
    const p = buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'claude' });
    const records = join(s.paths.stateDir, 'agent-state-dirs');
    assert.equal(readdirSync(records).length, 1);
    assert.ok(p.denyRead.some((d) => isWithin(records, d)));
    assert.ok(![p.workspace, ...p.writableRoots].some((w) => isWithin(records, w) || isWithin(w, records)));
  } finally {
    s.cleanup();
  }
});

test("a user's login that resolves into a preset base is refused, and nothing is copied", () => {
  const s = scratch();
  try {
    write(join(s.home, '.claude-celistra', '.credentials.json'), 'PLANTED-IN-BASE');
    mkdirSync(join(s.home, '.claude'));
    symlinkSync(join(s.home, '.claude-celistra', '.credentials.json'), join(s.home, '.claude', '.credentials.json'));
    assert.equal(errorCode(() => buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'claude' })), 'E_POLICY');
    const dir = agentStateDirPath(join(s.home, '.claude-celistra'), s.ws);
    assert.equal(existsSync(join(dir, '.credentials.json')), false);
  } finally {
    s.cleanup();
  }
});

test("the user's own login can never lie in a writable root, so no agent can change what the others get", () => {
  const s = scratch();
  try {
    write(join(s.home, '.claude', '.credentials.json'), 'USERS-OWN');
    write(join(s.home, '.codex', 'auth.json'), 'USERS-OWN');
    for (const own of ['.claude', '.codex']) {
      for (const preset of [undefined, 'claude', 'codex']) {
        assert.equal(errorCode(() => buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset, allowWrite: [join(s.home, own)] })), 'E_POLICY', `--allow-write ~/${own}, preset ${preset}`);
      }
      assert.equal(errorCode(() => buildPolicy({ workspace: join(s.home, own), tmpDir: s.tmp, paths: s.paths })), 'E_POLICY', `~/${own} as the workspace`);
    }
  } finally {
    s.cleanup();
  }
});

test('a run that keeps agent state creates every preset base; from then on every policy read-denies them, and only the own dir inside is writable', () => {
  const s = scratch();
  try {
    const bases = ['.claude-celistra', '.codex-celistra'].map((b) => join(s.home, b));
    const before = buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths });
    assert.deepEqual(readdirSync(s.home), [], 'a run without a preset leaves the home as it is');
    assert.ok(!before.denyRead.some((d) => bases.includes(d)));
    const p = buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'codex' });
    for (const b of bases) assert.ok(p.denyRead.includes(b), `${b} is created and read-denied with the codex preset`);
    const inside = p.writableRoots.filter((w) => bases.some((b) => isWithin(w, b)));
    assert.deepEqual(inside, [p.env.CODEX_HOME]);
    const plain = buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths });
    for (const b of bases) assert.ok(plain.denyRead.includes(b), `${b} is read-denied without a preset`);
  } finally {
    s.cleanup();
  }
});
