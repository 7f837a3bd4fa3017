/**
 * A fenced agent reads only its own preset state. Agent A runs with a preset and keeps a
 * transcript and its login copy; the base also holds what fenced agents left there when
 * it was one shared config dir (a login, transcripts). Agent B (same preset) and agent C
 * (no preset), fenced, then try to list and read all of it. Every read must fail, no
 * listing may show A's dir or the old shared files, and A's dir and the base must be
 * unchanged on the host, while B still keeps its own state and gets the user's login.
 * A control runs B with `--backend none` and requires the same attempts to leak: the
 * checks below are able to fail.
 */
import { isolatedEnv } from '../support/isolated-env.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { runCelistra } from '../support/celistra-cli.js';
import { snapshotTree } from '../support/fence-stage.js';
import { locateBwrap } from '../../src/backends/bwrap/locate.js';
import { expandHome } from '../../src/policy/policy.js';
import { PRESETS, type AgentStateDir } from '../../src/policy/presets/catalog.js';
import { agentStateDirPath } from '../../src/policy/presets/state-dir.js';
import { taskWorktreeSkip } from '../support/fence-skip.js';

// The stage's own agents run with namespaces; without them the preset runs are refused (the forced cases below test that).
const landlockSkip = taskWorktreeSkip('landlock');
const BACKENDS: { name: 'landlock' | 'bwrap'; skip: string | false }[] = [
  { name: 'landlock', skip: landlockSkip },
  { name: 'bwrap', skip: locateBwrap(process.env).found ? taskWorktreeSkip('bwrap') : 'bwrap is not installed (apt-get install -y bubblewrap)' },
];
/** Under the system temp dir (the fence keeps only these dirs of /tmp) and outside /tmp. */
const LAYOUTS = [tmpdir(), '/var/tmp'];
const OLD = new Date('2020-01-02T03:04:05Z');

/** What each preset's agent keeps that another must not read: a transcript-like state file. */
const TRANSCRIPT: Record<string, string> = { claude: 'projects/-wt-a/session.jsonl', codex: 'sessions/rollout-a.jsonl' };

const MARKS = {
  transcript: 'A-TRANSCRIPT-7f3c',
  login: 'USER-LOGIN-2b9e',
  legacyLogin: 'LEGACY-LOGIN-c41d',
  legacyTranscript: 'LEGACY-TRANSCRIPT-90aa',
};

interface Stage {
  home: string;
  wsA: string;
  wsB: string;
  wsC: string;
  env: Record<string, string>;
  cleanup(): void;
}

function stage(parent: string): Stage {
  const { root, home, env } = isolatedEnv('celistra-preset-privacy-', parent);
  const [wsA, wsB, wsC] = ['wt-a', 'wt-b', 'wt-c'].map((n) => join(root, n)) as [string, string, string];
  for (const d of [wsA, wsB, wsC]) mkdirSync(d);
  return { home, wsA, wsB, wsC, env, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

function q(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

interface Attempt {
  /** `read`: must fail and print nothing secret. `list`: may succeed, but must not name A's dir or the old shared files. */
  kind: 'read' | 'list';
  cmd: string;
}

/** Every way B or C could look into A's dir or the old shared state in the base. */
function attempts(base: string, dirA: string, login: string, transcript: string): Attempt[] {
  const keyA = basename(dirA);
  const read = (cmd: string): Attempt => ({ kind: 'read', cmd });
  const list = (cmd: string): Attempt => ({ kind: 'list', cmd });
  return [
    read(`cat ${q(join(dirA, transcript))}`),
    read(`cat ${q(join(dirA, login))}`),
    read(`ls -a ${q(dirA)}`),
    read(`cd ${q(dirA)} && cat ./${q(transcript)}`),
    read(`cat ${q(`${base}/agents/../agents/${keyA}/${transcript}`)}`),
    read(`cat ${q(join(base, login))}`),
    read(`cat ${q(join(base, 'projects', 'old', 'session.jsonl'))}`),
    read(`grep -r -e ${MARKS.transcript} -e ${MARKS.legacyLogin} -e ${MARKS.legacyTranscript} ${q(base)}`),
    list(`ls -a ${q(base)}`),
    list(`ls -a ${q(join(base, 'agents'))}`),
    list(`find ${q(base)}`),
  ];
}

/**
 * Runs every attempt inside one fenced `sh`, then the agent's own control (write-then-rename
 * in its own dir, when it has one; print its login copy). One output line per attempt:
 * exit status and base64 of what it printed.
 */
function probe(s: Stage, backend: string, ws: string, preset: string | undefined, tries: Attempt[], control: string, env: Record<string, string>) {
  const script = `for a in "$@"; do out=$(sh -c "$a" 2>/dev/null); rc=$?; printf '%s %s\\n' "$rc" "$(printf '%s' "$out" | base64 -w0)"; done; echo CONTROL; sh -c ${q(control)} || { echo CONTROL FAILED; exit 3; }`;
  const args = ['run', '--backend', backend, ...(preset ? ['--preset', preset] : []), '--workspace', ws, '--', 'sh', '-c', script, 'sh', ...tries.map((t) => t.cmd)];
  const r = runCelistra(args, { env: { ...s.env, ...env } });
  const [results = '', tail = ''] = r.stdout.toString().split('CONTROL\n');
  const lines = results.split('\n').filter(Boolean);
  assert.equal(lines.length, tries.length, `one result per attempt: ${r.stdout.toString()}${r.stderr}`);
  return {
    status: r.status,
    stderr: r.stderr,
    control: tail,
    results: lines.map((l, i) => {
      const [rc, b64 = ''] = l.split(' ');
      return { ...tries[i]!, rc: Number(rc), out: Buffer.from(b64, 'base64').toString() };
    }),
  };
}

/** Agent A's run and the old shared state: returns A's dir and the base. */
function setUp(s: Stage, backend: string, preset: string, state: AgentStateDir) {
  const login = state.logins[0]!;
  const base = expandHome(state.base, s.home);
  const transcript = TRANSCRIPT[preset]!;
  // The user's own login, and what fenced agents wrote in the base when it was shared.
  const userLogin = expandHome(login.source, s.home);
  mkdirSync(dirname(userLogin), { recursive: true, mode: 0o700 });
  writeFileSync(userLogin, `${MARKS.login}\n`, { mode: 0o600 });
  utimesSync(userLogin, OLD, OLD);
  mkdirSync(join(base, 'projects', 'old'), { recursive: true, mode: 0o700 });
  writeFileSync(join(base, login.name), `${MARKS.legacyLogin}\n`, { mode: 0o600 });
  writeFileSync(join(base, 'projects', 'old', 'session.jsonl'), `${MARKS.legacyTranscript}\n`);

  const dirA = agentStateDirPath(base, s.wsA);
  const plant = `mkdir -p "$(dirname "$${state.envVar}/${transcript}")" && echo ${MARKS.transcript} > "$${state.envVar}/${transcript}" && cat "$${state.envVar}/${transcript}" "$${state.envVar}/${login.name}"`;
  const a = runCelistra(['run', '--backend', backend, '--preset', preset, '--workspace', s.wsA, '--', 'sh', '-c', plant], { env: s.env });
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout.toString(), `${MARKS.transcript}\n${MARKS.login}\n`, 'agent A reads its own transcript and login copy');
  assert.equal(readFileSync(join(dirA, transcript), 'utf8'), `${MARKS.transcript}\n`, "agent A's transcript reached the host");
  assert.equal(readFileSync(join(dirA, login.name), 'utf8'), `${MARKS.login}\n`, 'agent A got the user\'s own login, not the one in the base');
  for (const p of [join(dirA, transcript), dirA, join(base, 'agents'), base]) utimesSync(p, OLD, OLD);
  return { base, dirA, login: login.name, transcript };
}

/**
 * Everything B or C printed must hide A's dir and every secret; each read must have failed.
 * A listing may show the agent's own dir (its own login copy included), nothing else.
 */
function assertNothingLeaked(results: ReturnType<typeof probe>['results'], base: string, dirA: string, login: string): void {
  const keyA = basename(dirA);
  const shared = [join(base, login), join(base, 'projects')];
  for (const r of results) {
    for (const mark of Object.values(MARKS)) assert.ok(!r.out.includes(mark), `${r.cmd} printed ${mark}`);
    if (r.kind === 'read') {
      assert.notEqual(r.rc, 0, `${r.cmd} succeeded: ${r.out}`);
      continue;
    }
    for (const line of r.out.split('\n')) {
      const shown = line.includes(keyA) || line === login || line === 'projects' || shared.some((p) => line.startsWith(p));
      assert.ok(!shown, `${r.cmd} shows ${line}`);
    }
  }
}

for (const preset of Object.values(PRESETS).filter((p) => p.stateDir)) {
  const state = preset.stateDir!;
  for (const backend of BACKENDS) {
    describe(`agents with the ${preset.name} preset under ${backend.name}`, { skip: backend.skip }, () => {
      for (const parent of LAYOUTS) {
        test(`agent B and an agent without a preset cannot list or read agent A's state dir or the old shared base, which stay unchanged (stage in ${parent})`, () => {
          const s = stage(parent);
          try {
            const { base, dirA, login, transcript } = setUp(s, backend.name, preset.name, state);
            const beforeA = snapshotTree(dirA);
            const beforeBase = snapshotTree(base);
            const tries = attempts(base, dirA, login, transcript);

            const dirB = agentStateDirPath(base, s.wsB);
            const own = join(dirB, 'agent-state.json');
            const controlB = `test "$${state.envVar}" = ${q(dirB)} && echo B > ${q(own)}.tmp && mv ${q(own)}.tmp ${q(own)} && cat "$${state.envVar}/${login}"`;
            const b = probe(s, backend.name, s.wsB, preset.name, [...tries, { kind: 'list', cmd: `ls -a "$${state.envVar}/.."` }], controlB, {});
            assert.equal(b.status, 0, `${b.control}${b.stderr}`);
            assertNothingLeaked(b.results, base, dirA, login);
            assert.equal(b.control, `${MARKS.login}\n`, 'agent B reads its own copy of the user\'s login');
            assert.equal(readFileSync(own, 'utf8'), 'B\n', "agent B's write-then-rename in its own dir reached the host");

            const c = probe(s, backend.name, s.wsC, undefined, tries, 'echo C > ./c.tmp && mv ./c.tmp ./c', {});
            assert.equal(c.status, 0, `${c.control}${c.stderr}`);
            assertNothingLeaked(c.results, base, dirA, login);

            assert.deepEqual(snapshotTree(dirA), beforeA, "agent A's state dir changed");
            const base2 = snapshotTree(base) as { entries: [string, unknown][] };
            const base1 = beforeBase as { entries: [string, unknown][] };
            // agents/ gained B's dir; everything else in the base is as it was.
            assert.deepEqual(base2.entries.filter(([n]) => n !== 'agents'), base1.entries.filter(([n]) => n !== 'agents'), 'the base changed');
          } finally {
            s.cleanup();
          }
        });
      }
    });
  }

  test(`control: unfenced (--backend none), agent B with the ${preset.name} preset reads agent A's state, so the checks above can fail`, { skip: BACKENDS[1]!.skip && BACKENDS[0]!.skip }, () => {
    const s = stage('/var/tmp');
    try {
      const backend = BACKENDS.find((b) => !b.skip)!.name;
      const { base, dirA, login, transcript } = setUp(s, backend, preset.name, state);
      const b = probe(s, 'none', s.wsB, preset.name, attempts(base, dirA, login, transcript), 'true', {});
      assert.equal(b.status, 0, b.stderr);
      assert.throws(() => assertNothingLeaked(b.results, base, dirA, login));
      const leaked = b.results.filter((r) => r.kind === 'read' && r.rc === 0).map((r) => r.cmd);
      assert.equal(leaked.length, b.results.filter((r) => r.kind === 'read').length, `every read succeeds unfenced; these did: ${leaked.join('; ')}`);
    } finally {
      s.cleanup();
    }
  });
}

describe('landlock without user namespaces', { skip: landlockSkip }, () => {
  const noUserns = { CELISTRA_FORCE_NO_USERNS: '1', CELISTRA_LANDLOCK_ROOT_WITHOUT_USERNS: 'accept-metadata-gap' };
  for (const preset of Object.values(PRESETS).filter((p) => p.stateDir)) {
    test(`an agent without a preset cannot list or read ${preset.name} agents' state (Landlock grants read only beside the bases)`, () => {
      const s = stage('/var/tmp');
      try {
        const { base, dirA, login, transcript } = setUp(s, 'landlock', preset.name, preset.stateDir!);
        const before = snapshotTree(base);
        const c = probe(s, 'landlock', s.wsC, undefined, attempts(base, dirA, login, transcript), 'echo C > ./c.tmp && mv ./c.tmp ./c', noUserns);
        assert.equal(c.status, 0, `${c.control}${c.stderr}`);
        assertNothingLeaked(c.results, base, dirA, login);
        assert.deepEqual(snapshotTree(base), before, 'the base changed');
      } finally {
        s.cleanup();
      }
    });

    test(`the ${preset.name} preset is refused rather than run with other agents' state readable or its config writable`, () => {
      const s = stage('/var/tmp');
      try {
        const r = runCelistra(['run', '--backend', 'landlock', '--preset', preset.name, '--workspace', s.wsB, '--', 'true'], { env: { ...s.env, ...noUserns } });
        assert.notEqual(r.status, 0, 'the run must not start');
        assert.match(r.stderr, /user namespaces/);
      } finally {
        s.cleanup();
      }
    });
  }
});
