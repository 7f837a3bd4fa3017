/**
 * The agent presets proven with the real agents: each agent is started interactively
 * (in a PTY, as a user would) under `celistra run --preset NAME`, driven to its first
 * screens, and must get there with no sandbox error while writing its state where the
 * preset grants. The same agent run unsandboxed (`--backend none`) in another fresh home
 * is the baseline: everything it writes must lie inside the preset's directories, and
 * every state entry it creates must also appear under the fence (a denied write would be
 * missing), except inside the entries the preset keeps read-only (its config: hooks,
 * plugins, ...), which fenced must still hold exactly what the preset seeded them with.
 * docs/presets.md explains what each agent writes and why.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, rmdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import xtermHeadless from '@xterm/headless';
import { CELISTRA_BIN } from '../support/celistra-cli.js';
import { expandHome, isWithin } from '../../src/policy/policy.js';
import { PRESETS, seedText } from '../../src/policy/presets/catalog.js';
import { agentStateDirPath } from '../../src/policy/presets/state-dir.js';
import { celistraPaths } from '../../src/policy/paths.js';
import { scratchDir } from '../support/scratch-dir.js';
import { taskWorktreeSkip } from '../support/fence-skip.js';

type AgentName = 'claude' | 'codex';
type BackendName = 'none' | 'landlock' | 'bwrap';

const FENCES: BackendName[] = ['landlock', 'bwrap'];
const NODE_BIN_DIR = fileURLToPath(new URL('../../../node_modules/.bin/', import.meta.url));
/** What a fence error looks like in an agent's output, whatever the agent's wording. */
const SANDBOX_ERROR = /EACCES|EROFS|EPERM|read-only file system|permission denied|operation not permitted/i;
/**
 * With no writable root under /tmp, both backends give the agent a private, empty /tmp;
 * that is how agents normally run (workspaces live in the user's projects), so the fresh
 * homes and workspaces go to /var/tmp. But a private /tmp also hides an agent binary that
 * lives under /tmp (`npm test` runs the unprivileged pass from a copy of the checkout
 * there): then the stage goes under /tmp, which keeps that stage's /tmp/<x> visible.
 */
const AGENTS_UNDER_TMP = isWithin(realpathSync(NODE_BIN_DIR), '/tmp');
const STAGE_PARENT = AGENTS_UNDER_TMP ? '/tmp' : '/var/tmp';

interface Step {
  /** Screen text that says the agent waits for this input. */
  when: RegExp;
  keys: string;
}

interface AgentScript {
  /** The agent's first screen: reaching it is the proof the agent starts under the fence. */
  firstScreen: RegExp;
  /** Further onboarding steps, each answered once its screen is up. */
  steps: Step[];
  /** The screen the run ends on. */
  done: RegExp;
  /** Extra environment for the run (never a secret: the API is unreachable anyway). */
  env: Record<string, string>;
  /** Arguments after the agent's path. */
  args: string[];
  /** State the agent must have written in its home, relative to the home. */
  requiredState: (home: string, ws: string) => void;
}

const SCRIPTS: Record<AgentName, AgentScript> = {
  claude: {
    firstScreen: /Choose the text style/,
    steps: [
      { when: /Choose the text style/, keys: '\r' },
      { when: /Security notes/, keys: '\r' },
      { when: /trust this folder/i, keys: '\r' },
    ],
    done: /\? for shortcuts/,
    // Any token switches Claude Code from OAuth to token auth, which skips the network
    // preflight that otherwise ends onboarding here with "Unable to connect".
    env: { ANTHROPIC_AUTH_TOKEN: 'celistra-test-not-a-real-token' },
    args: [],
    requiredState: (home, ws) => {
      const state = agentStateDir('claude', home, ws);
      // Written by write-then-rename under a mkdir lock: proves renames inside ~/.claude work.
      const config = JSON.parse(readFileSync(join(state, '.claude.json'), 'utf8'));
      assert.equal(config.hasCompletedOnboarding, true, 'onboarding recorded in the agent\'s .claude.json');
      assert.equal(config.projects?.[ws]?.hasTrustDialogAccepted, true, 'folder trust recorded in the agent\'s .claude.json');
      // The theme choice goes to settings.json, which the preset keeps read-only (it also
      // holds hooks): fenced, the write is refused and Claude Code carries on without it.
      assert.ok(readdirSync(join(state, 'backups')).some((n) => n.startsWith('.claude.json.backup.')), 'a backup of .claude.json in the agent\'s backups/');
      assert.ok(!existsSync(join(home, '.claude.json')), 'nothing written beside ~/.claude in $HOME');
    },
  },
  codex: {
    firstScreen: /Sign in with ChatGPT/,
    steps: [],
    done: /Sign in with ChatGPT/,
    env: {},
    args: [],
    requiredState: (home, ws) => {
      const state = agentStateDir('codex', home, ws);
      for (const f of ['config.toml', 'installation_id']) assert.ok(lstatSync(join(state, f)).isFile(), `the agent's ${f} written`);
      assert.ok(readdirSync(state).some((n) => /\.sqlite$/.test(n)), 'sqlite state in ~/.codex');
      // The seeded config.toml keeps the background app-server off (it would need a unix
      // socket, which the fence refuses): none of its files appear, fenced or not.
      for (const d of ['app-server-daemon', 'app-server-control', 'packages']) assert.ok(!existsSync(join(state, d)), `no ${d}/: the background app-server stayed off`);
    },
  },
};

interface Stage {
  root: string;
  home: string;
  ws: string;
  env: Record<string, string>;
}

function newStage(agent: AgentName, backend: BackendName): Stage {
  const root = realpathSync(scratchDir(`celistra-preset-${agent}-${backend}-`, STAGE_PARENT));
  const home = join(root, 'home');
  const ws = join(root, 'ws');
  mkdirSync(home);
  mkdirSync(ws);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    TERM: 'xterm-256color',
    HOME: home,
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_RUNTIME_DIR: join(root, 'run'),
    ...SCRIPTS[agent].env,
    // The claude preset sets this too; repeated for the unsandboxed baseline so that a
    // broken preset cannot let Claude Code `npm install -g` over the host's copy.
    ...(backend === 'none' ? { DISABLE_AUTOUPDATER: '1' } : {}),
  };
  mkdirSync(env.XDG_RUNTIME_DIR!, { mode: 0o700 });
  return { root, home, ws, env };
}

/** The visible screen of a headless terminal, line by line. */
function screenText(term: xtermHeadless.Terminal): string {
  const buf = term.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
  return lines.join('\n').replace(/\n+$/, '');
}

function stripAnsi(s: string): string {
  return s.replace(/\x1b\[[0-9;?]*[ -\/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-B]|\x1b[=>78]/g, ' ');
}

interface AgentRun {
  firstScreen: string;
  finalScreen: string;
  /** Everything the terminal received, escape sequences removed. */
  output: string;
  /** Why the agent's required state was still incomplete while it ran, if it was. */
  stateError?: Error;
  /** The agent's state entries, taken while it still ran (some are removed at exit). */
  shape: Set<string>;
}

/** Retry the state check while the agent finishes writing in the background. */
async function awaitState(check: () => void, timeoutMs = 15_000): Promise<Error | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return undefined;
    } catch (e) {
      if (Date.now() > deadline) return e as Error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface DriveOptions {
  /** Run with `--preset AGENT` (default) and answer the onboarding; without, stop at the first screen. */
  preset?: boolean;
  /** State entries to wait for before stopping the agent (the unsandboxed run's). */
  expectedShape?: Set<string>;
  timeoutMs?: number;
}

/** Start `celistra run` with the agent in a PTY, answer its onboarding, then stop it. */
async function driveAgent(agent: AgentName, backend: BackendName, stage: Stage, opts: DriveOptions = {}): Promise<AgentRun> {
  const { preset = true, expectedShape, timeoutMs = 20_000 } = opts;
  const pty = await import('node-pty');
  const script = SCRIPTS[agent];
  const term = new xtermHeadless.Terminal({ cols: 120, rows: 40, allowProposedApi: true });
  const args = [CELISTRA_BIN, 'run', '--backend', backend, ...(preset ? ['--preset', agent] : ['--preset', 'none']), '--workspace', stage.ws, '--', join(NODE_BIN_DIR, agent), ...script.args];
  const child = pty.spawn(process.execPath, args, { cols: 120, rows: 40, cwd: stage.ws, env: stage.env });
  let raw = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => child.onExit(() => { exited = true; resolve(); }));
  child.onData((d) => {
    raw += d;
    term.write(d);
  });
  const steps = preset ? [...script.steps] : [];
  const done = preset ? script.done : script.firstScreen;
  let firstScreen = '';
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await new Promise((r) => setTimeout(r, 150));
      const screen = screenText(term);
      if (!firstScreen && script.firstScreen.test(screen)) firstScreen = screen;
      if (firstScreen && steps.length === 0 && done.test(screen)) break;
      if (steps.length > 0 && steps[0]!.when.test(screen)) child.write(steps.shift()!.keys);
      if (exited || Date.now() > deadline) {
        assert.fail(`${agent} under --backend ${backend} ${exited ? 'exited' : 'timed out'} before ${firstScreen ? done : script.firstScreen}; screen:\n${screen}`);
      }
    }
    const stateError = preset ? await awaitState(() => script.requiredState(stage.home, stage.ws)) : undefined;
    const shape = await settledShape(stage.home, expectedShape);
    return { firstScreen, finalScreen: screenText(term), output: stripAnsi(raw), stateError, shape };
  } finally {
    if (!exited) child.kill('SIGTERM');
    await Promise.race([exit, new Promise((r) => setTimeout(r, 3000))]);
    if (!exited) child.kill('SIGKILL');
    term.dispose();
    killLeftovers(stage.root);
  }
}

/**
 * Codex daemonises its app-server (setsid), so it can outlive `celistra run` when no pid
 * namespace holds it. Every such process runs a binary from this stage's home: end those,
 * and only those.
 */
function killLeftovers(root: string): void {
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(`${root}/`)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Paths under `dir`, relative to it, without following symlinks; entries may vanish meanwhile. */
function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const name of names) {
      const p = join(d, name);
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      out.push(relative(dir, p));
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** The agent's own state dir under its preset's base (the workspace's realpath names it). */
function agentStateDir(agent: AgentName, home: string, ws: string): string {
  return agentStateDirPath(expandHome(PRESETS[agent]!.stateDir!.base, home), ws);
}

/** `<base>/agents/<key>` as one folded name: each stage's workspace, and so its key, differs. */
const AGENT_DIR = new RegExp(`^(${Object.values(PRESETS).flatMap((p) => (p.stateDir ? [p.stateDir.base.slice(2).replace(/[.]/g, '\\.')] : [])).join('|')})/agents/[^/]+`);

/** The agent's state entries two levels deep, names with pids, times and random parts folded. */
function stateShape(home: string): Set<string> {
  const transient = /\.tmp|\.staging\.|\.lock$/;
  return new Set(
    listTree(home)
      .map((p) => p.replace(AGENT_DIR, '$1/AGENT'))
      .filter((p) => p.split('/').length <= 3 && !transient.test(p))
      .map((p) => p.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID').replace(/\d+/g, 'N')),
  );
}

/**
 * The state shape once the agent is done writing: when every `expected` entry is there,
 * or else once nothing changed for two seconds (bounded, so a denied write still ends).
 */
async function settledShape(home: string, expected?: Set<string>, timeoutMs = 10_000): Promise<Set<string>> {
  const deadline = Date.now() + timeoutMs;
  let last = stateShape(home);
  let stableSince = Date.now();
  for (;;) {
    if (expected && [...expected].every((p) => last.has(p))) return last;
    if (!expected && Date.now() - stableSince >= 2000) return last;
    if (Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, 250));
    const now = stateShape(home);
    if (now.size !== last.size || [...now].some((p) => !last.has(p))) stableSince = Date.now();
    last = now;
  }
}

/** The preset bases, relative to the home: Celistra creates each (empty) on every run, to hide it from the agent. */
const BASES = Object.values(PRESETS).flatMap((p) => (p.stateDir ? [p.stateDir.base.slice(2)] : []));

/**
 * Everything written in the home apart from Celistra's own state and config (its audit log
 * of the run) and the preset bases themselves (what lies inside them still counts).
 */
function agentWrites(stage: Stage): string[] {
  const own = celistraPaths(stage.env);
  return listTree(stage.home).filter((p) => {
    const abs = join(stage.home, p);
    return !BASES.includes(p) && ![own.stateDir, own.configDir].some((d) => isWithin(abs, d) || isWithin(d, abs));
  });
}

/**
 * What the agent wrote in its home outside its own state dir and the preset's writable
 * dirs. The state dir's parents (the base and its agents/ dir) are Celistra's doing.
 */
function writesOutsidePreset(agent: AgentName, stage: Stage): string[] {
  const own = agentStateDir(agent, stage.home, stage.ws);
  const granted = [own, ...PRESETS[agent]!.writableDirs.map((d) => expandHome(d, stage.home))];
  return agentWrites(stage).filter((p) => {
    const abs = join(stage.home, p);
    return !granted.some((g) => isWithin(abs, g)) && !isWithin(own, abs);
  });
}

/** True when a folded state-shape path is, or lies in, one of the preset's protected entries (written unsandboxed, refused fenced, on purpose). */
function insideProtected(agent: AgentName, shaped: string): boolean {
  const state = PRESETS[agent]!.stateDir!;
  const dir = join('/', state.base.slice(2), 'AGENT');
  return state.protectedEntries.some((e) => isWithin(join('/', shaped), join(dir, e.path)));
}

/** Each protected entry as the host has it: a file's content, a directory's listing. */
function protectedContents(agent: AgentName, stage: Stage): Record<string, string | string[]> {
  const dir = agentStateDir(agent, stage.home, stage.ws);
  const out: Record<string, string | string[]> = {};
  for (const e of PRESETS[agent]!.stateDir!.protectedEntries) {
    const abs = join(dir, e.path);
    out[e.path] = e.kind === 'file' ? readFileSync(abs, 'utf8') : readdirSync(abs);
  }
  return out;
}

/** What a fresh home's protected entries hold once the preset created them: the seeds and empty directories. */
function seededContents(agent: AgentName, stage: Stage): Record<string, string | string[]> {
  return Object.fromEntries(PRESETS[agent]!.stateDir!.protectedEntries.map((e) => [e.path, e.kind === 'file' ? seedText(e.seed, stage.ws) : []]));
}

/** Entries of a host directory created while `fn` ran, removed again (the `none` run's /tmp litter). */
async function removingNewEntries<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const existed = existsSync(dir);
  const before = new Set(existed ? readdirSync(dir) : []);
  try {
    return await fn();
  } finally {
    if (existsSync(dir)) {
      for (const name of readdirSync(dir)) if (!before.has(name)) rmSync(join(dir, name), { force: true, recursive: true });
      if (!existed && readdirSync(dir).length === 0) rmdirSync(dir);
    }
  }
}

/** Why a fence cannot run here (bubblewrap is optional), or false when it can. */
function fenceMissing(backend: BackendName): string | false {
  if (backend === 'none') return false;
  return taskWorktreeSkip(backend);
}

function agentMissing(agent: AgentName): string | false {
  if (process.platform !== 'linux') return 'the landlock and bwrap backends are Linux-only';
  return existsSync(join(NODE_BIN_DIR, agent)) ? false : `${join(NODE_BIN_DIR, agent)} is not installed (npm ci installs it as a devDependency)`;
}

for (const agent of ['claude', 'codex'] as const) {
  describe(`the ${agent} preset with the real ${agent}`, { skip: agentMissing(agent) }, () => {
    const stages: Stage[] = [];
    let baseline: { run: AgentRun; stage: Stage };

    before(async () => {
      const stage = newStage(agent, 'none');
      stages.push(stage);
      const uid = process.getuid?.() ?? 0;
      // Unsandboxed, Codex's daemon locks /tmp/codex-daemon-<uid> on the host's /tmp.
      const run = await removingNewEntries(`/tmp/codex-daemon-${uid}`, () => driveAgent(agent, 'none', stage));
      baseline = { run, stage };
    });

    after(() => {
      for (const s of stages) {
        killLeftovers(s.root);
        rmSync(s.root, { recursive: true, force: true });
      }
    });

    test(`unsandboxed, ${agent} writes its state only inside the preset's directories`, () => {
      assert.ifError(baseline.run.stateError);
      assert.deepEqual(writesOutsidePreset(agent, baseline.stage), []);
    });

    for (const backend of FENCES) {
      const skip = fenceMissing(backend);
      test(`under ${backend}, ${agent} reaches its first screen with no sandbox error and writes its state where the preset grants`, { skip }, async () => {
        const stage = newStage(agent, backend);
        stages.push(stage);
        const run = await driveAgent(agent, backend, stage, { expectedShape: baseline.run.shape });
        assert.match(run.firstScreen, SCRIPTS[agent].firstScreen);
        assert.doesNotMatch(run.output, SANDBOX_ERROR, `sandbox error in ${agent}'s output; final screen:\n${run.finalScreen}`);
        assert.ifError(run.stateError);
        assert.deepEqual(writesOutsidePreset(agent, stage), []);
        const denied = [...baseline.run.shape].filter((p) => !run.shape.has(p) && !insideProtected(agent, p));
        assert.deepEqual(denied, [], `written unsandboxed but missing under ${backend}`);
        assert.deepEqual(protectedContents(agent, stage), seededContents(agent, stage), `${agent} changed an entry the preset protects`);
        rmSync(stage.root, { recursive: true, force: true });
      });

      if (agent === 'claude') {
        test(`under ${backend} without the preset, claude still starts but can write nothing in its home`, { skip }, async () => {
          const stage = newStage(agent, backend);
          stages.push(stage);
          const run = await driveAgent(agent, backend, stage, { preset: false });
          assert.match(run.firstScreen, SCRIPTS[agent].firstScreen);
          // Claude Code swallows the denied writes, so the home listing is the evidence.
          assert.deepEqual(agentWrites(stage), []);
          rmSync(stage.root, { recursive: true, force: true });
        });
      }

      test(`${agent} --version runs under ${backend} with the preset`, { skip }, () => {
        const stage = newStage(agent, backend);
        stages.push(stage);
        const r = spawnSync(process.execPath, [CELISTRA_BIN, 'run', '--backend', backend, '--preset', agent, '--workspace', stage.ws, '--', join(NODE_BIN_DIR, agent), '--version'], { env: stage.env, timeout: 20_000 });
        assert.equal(r.status, 0, r.stderr.toString());
        assert.match(r.stdout.toString(), agent === 'claude' ? /\(Claude Code\)/ : /^codex-cli \d/);
        assert.doesNotMatch(r.stderr.toString(), SANDBOX_ERROR);
      });
    }
  });
}
