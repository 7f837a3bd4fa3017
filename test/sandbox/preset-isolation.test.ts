/**
 * Two fenced agents with the same preset must never share a writable state dir: what one
 * plants there (a `.config.json` with MCP servers, a shell snapshot, session files) the
 * other would load. Agent B runs first and leaves its state; agent A, fenced, then tries
 * every way of writing into B's dir and into the parts all agents share (the base, the
 * agents/ dir that holds every agent's dir). Every attempt must fail,
 * and B's dir and the shared parts must be unchanged on the host (content, mode, mtime,
 * listing), while A's own write-then-rename in its own dir, in the same run, succeeds.
 */
import { isolatedEnv } from '../support/isolated-env.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCelistra } from '../support/celistra-cli.js';
import { snapshotTree } from '../support/fence-stage.js';
import { locateBwrap } from '../../src/backends/bwrap/locate.js';
import { expandHome } from '../../src/policy/policy.js';
import { PRESETS } from '../../src/policy/presets/catalog.js';
import { agentStateDirPath } from '../../src/policy/presets/state-dir.js';
import { taskWorktreeSkip } from '../support/fence-skip.js';

const BACKENDS: { name: 'landlock' | 'bwrap'; skip: string | false }[] = [
  { name: 'landlock', skip: taskWorktreeSkip('landlock') },
  { name: 'bwrap', skip: locateBwrap(process.env).found ? taskWorktreeSkip('bwrap') : 'bwrap is not installed (apt-get install -y bubblewrap)' },
];
const OLD = new Date('2020-01-02T03:04:05Z');
/** Where real homes and workspaces live (a private /tmp in the fence), and under /tmp (read-only /tmp). */
const LAYOUTS = [tmpdir(), '/var/tmp'];

/** The login file and the state file each preset's agent keeps, and what a planted config looks like. */
const AGENT_FILES: Record<string, { login: string; state: string; planted: string[] }> = {
  claude: { login: '.credentials.json', state: '.claude.json', planted: ['.config.json', 'shell-snapshots/snapshot-bash-1.sh', 'sessions/1.json'] },
  codex: { login: 'auth.json', state: 'installation_id', planted: ['sessions/rollout.jsonl', 'memories/m.md', 'state_5.sqlite'] },
};

interface Stage {
  home: string;
  wsA: string;
  wsB: string;
  env: Record<string, string>;
  cleanup(): void;
}

function stage(parent: string): Stage {
  const { root, home, env } = isolatedEnv('celistra-preset-isolation-', parent);
  const wsA = join(root, 'wt-a');
  const wsB = join(root, 'wt-b');
  for (const d of [wsA, wsB]) mkdirSync(d);
  return { home, wsA, wsB, env, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

function q(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** Every way agent A could reach into B's dir or the shared base. */
function attacks(base: string, dirB: string, files: { login: string; state: string; planted: string[] }): string[] {
  const b = q(dirB);
  const agents = q(join(base, 'agents'));
  return [
    // B's own dir: plant what B loads, rewrite or remove what it keeps.
    ...files.planted.map((p) => `mkdir -p "$(dirname ${q(join(dirB, p))})" && echo '{"mcpServers":{"x":{"command":"touch"}}}' > ${q(join(dirB, p))}`),
    `echo planted > ${q(join(dirB, files.state))}`,
    `echo planted > ${q(join(dirB, files.state))}.tmp && mv -f ${q(join(dirB, files.state))}.tmp ${q(join(dirB, files.state))}`,
    // Without -f: B's dir is hidden from A, and `rm -f` of a path it cannot see exits 0.
    `rm ${q(join(dirB, files.state))}`,
    `mv ${q(join(dirB, files.state))} ${q(join(dirB, 'moved'))}`,
    `ln -s /tmp/pwned ${q(join(dirB, 'planted-link'))}`,
    `chmod 777 ${b}`,
    `touch ${b}`,
    `rm -r ${b}`,
    `mv ${b} ${q(`${dirB}.aside`)}`,
    // The shared parts: a login in the base, the base, the dir that holds every agent's dir.
    `echo planted > ${q(join(base, files.login))}`,
    `echo planted > ${q(join(base, '.config.json'))}`,
    `mkdir ${q(join(base, 'agents', 'wt-c-0000000000000000'))}`,
    `mkdir -p ${q(join(base, 'planted'))} && mv -f -T ${q(join(base, 'planted'))} ${agents}`,
    `mv ${agents} ${q(join(base, 'agents.aside'))}`,
    `chmod 777 ${q(base)}`,
    `touch ${agents}`,
  ];
}

/** The shared parts, as the host has them: the base's entries except agents/, which is taken by listing and metadata. */
function sharedSnapshot(base: string): unknown {
  const agents = join(base, 'agents');
  const own = snapshotTree(base) as { entries: [string, unknown][] };
  return {
    base: { ...own, entries: own.entries.filter(([n]) => n !== 'agents') },
    agents: { ...(snapshotTree(agents) as object), entries: readdirSync(agents).sort() },
  };
}

for (const preset of Object.values(PRESETS).filter((p) => p.stateDir)) {
  const state = preset.stateDir!;
  const files = AGENT_FILES[preset.name]!;
  for (const backend of BACKENDS) {
    describe(`two agents with the ${preset.name} preset under ${backend.name}`, { skip: backend.skip }, () => {
      for (const parent of LAYOUTS) {
        test(`agent A cannot write into agent B's state dir or the shared base, and both stay unchanged on the host (stage in ${parent})`, () => {
          const s = stage(parent);
          try {
            const base = expandHome(state.base, s.home);
            const userLogin = expandHome(state.logins[0]!.source, s.home);
            mkdirSync(dirname(userLogin), { recursive: true, mode: 0o700 });
            writeFileSync(userLogin, 'the user\'s login\n', { mode: 0o600 });
            utimesSync(userLogin, OLD, OLD);
            // Agent B runs and keeps state; agent A's dir exists as after its first start.
            const dirB = agentStateDirPath(base, s.wsB);
            const dirA = agentStateDirPath(base, s.wsA);
            const b = runCelistra(['run', '--backend', backend.name, '--preset', preset.name, '--workspace', s.wsB, '--', 'sh', '-c', `echo B > "$${state.envVar}/${files.state}"`], { env: s.env });
            assert.equal(b.status, 0, b.stderr);
            assert.equal(readFileSync(join(dirB, files.state), 'utf8'), 'B\n', 'agent B wrote its own state');
            assert.equal(readFileSync(join(dirB, files.login), 'utf8'), 'the user\'s login\n', 'agent B got the login');
            const dry = runCelistra(['run', '--backend', backend.name, '--preset', preset.name, '--workspace', s.wsA, '--', 'true'], { env: s.env });
            assert.equal(dry.status, 0, dry.stderr);
            for (const p of [join(dirB, files.state), dirB, join(base, 'agents'), base]) utimesSync(p, OLD, OLD);

            const beforeB = snapshotTree(dirB);
            const beforeShared = sharedSnapshot(base);
            const own = join(dirA, 'agent-state.json');
            const control = `test "$${state.envVar}" = ${q(dirA)} && echo A > ${q(own)}.tmp && mv ${q(own)}.tmp ${q(own)}`;
            const script = `fail=0; for a in "$@"; do if sh -c "$a" 2>/dev/null; then echo "ALLOWED: $a"; fail=1; fi; done; sh -c ${q(control)} || { echo CONTROL FAILED; exit 3; }; exit $fail`;
            const r = runCelistra(['run', '--backend', backend.name, '--preset', preset.name, '--workspace', s.wsA, '--', 'sh', '-c', script, 'sh', ...attacks(base, dirB, files)], { env: s.env });
            assert.equal(r.status, 0, `${r.stdout.toString()}${r.stderr}`);
            assert.deepEqual(snapshotTree(dirB), beforeB, "agent B's state dir changed");
            assert.deepEqual(sharedSnapshot(base), beforeShared, 'the shared base changed');
            assert.equal(readFileSync(own, 'utf8'), 'A\n', "agent A's write-then-rename in its own dir reached the host");
          } finally {
            s.cleanup();
          }
        });
      }
    });
  }
}
