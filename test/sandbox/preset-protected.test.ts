/**
 * A preset's state dir is the agent's config dir, read again by its next run and by the
 * user resuming its session. The entries that configure what the agent runs (hooks, MCP
 * servers, plugins, instructions) must stay read-only under the fence, or a fenced agent
 * could plant code that runs outside the task it was given. For every preset, backend and protected entry,
 * each way of changing it is tried from inside the fence: every attempt must fail and the
 * host entry must be unchanged (content, mode, mtime, listing). In the same run, a write
 * elsewhere in the state dir must succeed: the agent keeps its state.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCelistra } from '../support/celistra-cli.js';
import { snapshotTree } from '../support/fence-stage.js';
import { locateBwrap } from '../../src/backends/bwrap/locate.js';
import { expandHome } from '../../src/policy/policy.js';
import { PRESETS, type AgentStateDir, type ProtectedEntry } from '../../src/policy/presets/catalog.js';
import { agentStateDirPath, prepareAgentStateDir } from '../../src/policy/presets/state-dir.js';
import { celistraPaths } from '../../src/policy/paths.js';
import { scratchDir } from '../support/scratch-dir.js';
import { taskWorktreeSkip } from '../support/fence-skip.js';

const BACKENDS: { name: 'landlock' | 'bwrap'; skip: string | false }[] = [
  { name: 'landlock', skip: taskWorktreeSkip('landlock') },
  { name: 'bwrap', skip: locateBwrap(process.env).found ? taskWorktreeSkip('bwrap') : 'bwrap is not installed (apt-get install -y bubblewrap)' },
];
const OLD = new Date('2020-01-02T03:04:05Z');
/** What the user already had there: it must survive, and must not be replaced by the seed. */
const USER_CONTENT = 'the user\'s own configuration\n';

interface Stage {
  home: string;
  ws: string;
  env: Record<string, string>;
  cleanup(): void;
}

/**
 * A scratch home and workspace under `parent`. Under /tmp both backends keep /tmp itself
 * read-only; elsewhere (where real homes are) they give the agent a private /tmp: the
 * read-only binds must hold in both layouts.
 */
function stage(parent: string): Stage {
  const root = realpathSync(scratchDir('celistra-preset-protected-', parent));
  const home = join(root, 'home');
  const ws = join(root, 'ws');
  mkdirSync(home);
  mkdirSync(ws);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    HOME: home,
    XDG_STATE_HOME: join(root, 'xdg', 'state'),
    XDG_CONFIG_HOME: join(root, 'xdg', 'config'),
    XDG_RUNTIME_DIR: join(root, 'run'),
  };
  mkdirSync(env.XDG_RUNTIME_DIR!, { mode: 0o700 });
  return { home, ws, env, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

const LAYOUTS = [tmpdir(), '/var/tmp'];

function q(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** Every way a fenced process could change the entry, or plant something in its place. */
function attacks(entry: ProtectedEntry, p: string, userFiles: boolean): string[] {
  const e = q(p);
  const evil = q(`${p}.planted`);
  if (entry.kind === 'file') {
    return [
      `echo '{"hooks":{"SessionStart":[{"hooks":[{"type":"command","command":"touch /tmp/pwned"}]}]}}' > ${e}`,
      `echo 'notify = ["touch", "/tmp/pwned"]' >> ${e}`,
      `truncate -s 0 ${e}`,
      `echo planted > ${evil} && mv -f ${evil} ${e}`,
      `ln -sf /tmp/pwned ${evil} && mv -f -T ${evil} ${e}`,
      `rm -f ${e}`,
      `mv ${e} ${e}.aside`,
      `chmod 666 ${e}`,
      `touch ${e}`,
    ];
  }
  return [
    `echo planted > ${e}/planted`,
    `mkdir ${e}/planted`,
    `ln -s /tmp/pwned ${e}/planted`,
    // The user's file inside it (only there when the user had the directory).
    ...(userFiles ? [`echo planted > ${e}/existing`, `rm -f ${e}/existing`, `mv ${e}/existing ${e}.moved`] : []),
    `mv ${e} ${e}.aside`,
    `rm -rf ${e}`,
    `mkdir -p ${evil}/x && mv -f -T ${evil} ${e}`,
    `chmod 777 ${e}`,
    `touch ${e}`,
  ];
}

/** The agent's state dir for this stage's workspace. */
function agentDir(s: Stage, state: AgentStateDir): string {
  return agentStateDirPath(expandHome(state.base, s.home), s.ws);
}

/** The agent's state dir with every protected entry already there, as a configured agent has it. */
function userHome(s: Stage, state: AgentStateDir): void {
  // Made by Celistra first, as a dir it did not make is moved aside; then the user configures it.
  const { dir } = prepareAgentStateDir(state, expandHome(state.base, s.home), s.ws, { home: s.home, celistraStateDir: celistraPaths(s.env).stateDir });
  assert.equal(dir, agentDir(s, state));
  for (const entry of state.protectedEntries) {
    const p = join(dir, entry.path);
    if (entry.kind === 'file') writeFileSync(p, USER_CONTENT, { mode: 0o600 });
    else {
      mkdirSync(p, { recursive: true, mode: 0o700 });
      writeFileSync(join(p, 'existing'), USER_CONTENT, { mode: 0o600 });
      utimesSync(join(p, 'existing'), OLD, OLD);
    }
    utimesSync(p, OLD, OLD);
  }
}

/** Runs every attempt in its own shell inside the fence; prints `ALLOWED: <attempt>` for each that worked. */
function attemptAll(s: Stage, backend: string, preset: string, attempts: string[], control: string) {
  const script = `fail=0; for a in "$@"; do if sh -c "$a" 2>/dev/null; then echo "ALLOWED: $a"; fail=1; fi; done; sh -c ${q(control)} || { echo CONTROL FAILED; exit 3; }; exit $fail`;
  return runCelistra(['run', '--backend', backend, '--preset', preset, '--workspace', s.ws, '--', 'sh', '-c', script, 'sh', ...attempts], { env: s.env });
}

for (const preset of Object.values(PRESETS).filter((p) => (p.stateDir?.protectedEntries.length ?? 0) > 0)) {
  const state = preset.stateDir!;
  for (const backend of BACKENDS) {
    describe(`the ${preset.name} preset under ${backend.name}`, { skip: backend.skip }, () => {
      for (const [existing, parent] of [true, false].flatMap((e) => LAYOUTS.map((l) => [e, l] as const))) {
        const how = existing ? 'the user\'s own entries' : 'entries the preset had to create';
        test(`${how} cannot be written, replaced, moved or deleted, and stay unchanged on the host (home in ${parent})`, () => {
          const s = stage(parent);
          try {
            if (existing) userHome(s, state);
            // A dry run creates the missing entries (the policy does, before the fence is up).
            const dry = runCelistra(['run', '--backend', backend.name, '--preset', preset.name, '--workspace', s.ws, '--', 'true'], { env: s.env });
            assert.equal(dry.status, 0, dry.stderr);
            const stateDir = agentDir(s, state);
            const paths = state.protectedEntries.map((e) => join(stateDir, e.path));
            const before = paths.map((p) => snapshotTree(p));
            for (const [i, p] of paths.entries()) assert.notEqual(before[i], null, `${p} exists before the attack`);
            if (existing) {
              for (const [i, entry] of state.protectedEntries.entries()) {
                const snap = before[i] as { content?: string; entries?: unknown[] };
                if (entry.kind === 'file') assert.equal(Buffer.from(snap.content!, 'base64').toString(), USER_CONTENT, `${entry.path} keeps the user's content`);
                else assert.equal(snap.entries!.length, 1, `${entry.path} keeps the user's files`);
              }
            }
            const control = `echo state > ${q(join(stateDir, 'agent-state.json'))}.tmp && mv ${q(join(stateDir, 'agent-state.json'))}.tmp ${q(join(stateDir, 'agent-state.json'))}`;
            const attempts = state.protectedEntries.flatMap((e, i) => attacks(e, paths[i]!, existing));
            const r = attemptAll(s, backend.name, preset.name, attempts, control);
            assert.equal(r.status, 0, `${r.stdout.toString()}${r.stderr}`);
            assert.deepEqual(paths.map((p) => snapshotTree(p)), before);
            assert.equal(readFileSync(join(stateDir, 'agent-state.json'), 'utf8'), 'state\n', 'a write-then-rename elsewhere in the state dir reached the host');
          } finally {
            s.cleanup();
          }
        });
      }
    });
  }
}

describe('the claude preset under landlock without user namespaces', { skip: BACKENDS[0]!.skip }, () => {
  test('is refused, since Landlock alone cannot keep an entry of a writable dir read-only', () => {
    const s = stage(tmpdir());
    try {
      const settings = join(agentDir(s, PRESETS.claude!.stateDir!), 'settings.json');
      // The carve-out refusal itself: as root, the root-without-namespaces refusal would come first.
      const r = runCelistra(['run', '--backend', 'landlock', '--preset', 'claude', '--workspace', s.ws, '--', 'sh', '-c', `echo planted > ${q(settings)}`], {
        env: { ...s.env, CELISTRA_FORCE_NO_USERNS: '1', CELISTRA_LANDLOCK_ROOT_WITHOUT_USERNS: 'accept-metadata-gap' },
      });
      assert.notEqual(r.status, 0, 'the run must not start');
      assert.match(r.stderr, /read-only/);
      const seed = PRESETS.claude!.stateDir!.protectedEntries.find((e) => e.path === 'settings.json');
      assert.equal(readFileSync(settings, 'utf8'), seed?.kind === 'file' ? seed.seed : '', 'only the seed, not the planted content');
    } finally {
      s.cleanup();
    }
  });
});
