import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { celistraPaths, type CelistraPaths } from '../src/policy/paths.js';
import { layoutFor } from '../src/worktree/record.js';
import { shadowReadOnlyPaths } from '../src/worktree/shadow.js';
import { addWorktree } from '../src/worktree/lifecycle.js';

/** A process standing in for another agent or the daemon, as the host sees it. */
export interface VictimInfo {
  /** Its pid in the host's pid namespace. */
  pid: number;
  /** Its process group (signals to a group are attempted too). */
  pgid: number;
  /** Address of a canary buffer in its memory (process_vm_writev, /proc/<pid>/mem). */
  canaryAddr: string;
}

/** The listeners standing in for the daemon's and other agents' sockets. */
export interface SocketInfo {
  /** Abstract unix socket name, without the leading NUL. */
  abstractName: string;
  /** The daemon's control socket (pathname) in Celistra's runtime dir. */
  daemonSocket: string;
  /** Another agent's pathname socket in its own directory. */
  agentSocket: string;
  tcpPort: number;
}

/**
 * Everything an attempt may aim at, built fresh per backend run: a repository `main`
 * with the sibling linked worktrees `wt-a` (under test) and `wt-b`, a canary home with
 * the files agents would love to persist in, Celistra's own dirs with a token and a
 * policy, and secrets whose appearance in any output proves a read got through.
 */
export interface Stage {
  root: string;
  /** Unique per run; names the few objects that must live outside `root` (/tmp, /dev/shm, /etc). */
  tag: string;
  main: string;
  wtA: string;
  wtB: string;
  /** `main/.git`, shared by every worktree. */
  gitCommon: string;
  /** Each task worktree's git dirs (see src/worktree/record.ts): admin and shadow. */
  adminA: string;
  shadowA: string;
  adminB: string;
  shadowB: string;
  /** Paths inside wt-a's own git dirs that must stay read-only (from the git grants). */
  readOnlyA: string[];
  /** A loose object that existed before the run (must never change). */
  existingObject: string;
  home: string;
  paths: CelistraPaths;
  /** A directory outside every fence holding files to hard-link, and the victims' script. */
  outside: string;
  /** A file outside, opened for append and handed to `celistra run` as fd 3. */
  leakedFdFile: string;
  /** The other agent's private temp dir (what `celistra run` would make for it). */
  otherAgentTmp: string;
  /** Another agent's objects in the shared /tmp and /dev/shm. */
  sharedTmpDir: string;
  sharedShmFile: string;
  /** A name in /etc that must never appear. */
  etcProbe: string;
  /** The global npm module dir (`<node prefix>/lib/node_modules`). */
  npmGlobal: string;
  secrets: { token: string; policy: string; sshKey: string; otherTmp: string; daemonConfig: string; victimEnv: string };
  files: { token: string; policy: string; daemonConfig: string; sshKey: string };
  /** Environment for `celistra run` and for the host's own git calls on the stage. */
  env: Record<string, string>;
  victims: { agent?: VictimInfo; daemon?: VictimInfo };
  sockets?: SocketInfo;
}

/** Where stages go: not under /tmp, which some backends replace with a private one. */
export function stageBase(env: NodeJS.ProcessEnv = process.env): string {
  const wanted = env.CELISTRA_CONFORMANCE_DIR;
  if (wanted) return wanted;
  try {
    accessSync('/var/tmp', constants.W_OK);
    return '/var/tmp';
  } catch {
    return tmpdir();
  }
}

const HOME_FILES: Record<string, string> = {
  '.bashrc': '# canary bashrc\n',
  '.bash_profile': '# canary bash_profile\n',
  '.profile': '# canary profile\n',
  '.zshrc': '# canary zshrc\n',
  '.npmrc': '# canary npmrc\n',
  'canary.txt': 'the user home canary\n',
  '.ssh/authorized_keys': 'ssh-ed25519 AAAAcanary user@host\n',
  '.ssh/config': 'Host *\n',
  '.config/systemd/user/.keep': '',
  'Library/LaunchAgents/.keep': '',
  '.local/bin/.keep': '',
};

function secret(label: string): string {
  return `CELISTRA-SECRET-${label}-${randomBytes(8).toString('hex')}`;
}

export function buildStage(): Stage {
  const base = stageBase();
  const root = realpathSync(mkdtempSync(join(base, 'celistra-conformance-')));
  chmodSync(root, 0o755);
  const tag = randomBytes(4).toString('hex');
  const home = join(root, 'home');
  const runtimeBase = join(root, 'run');
  const env: Record<string, string> = {
    // A plain system PATH: the caller's may hold per-user shims (pyenv, nvm) living in
    // the real home, which the stage's home replaces.
    PATH: [...new Set([dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])].join(':'),
    HOME: home,
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_RUNTIME_DIR: runtimeBase,
    LANG: 'C.UTF-8',
  };
  const paths = celistraPaths(env);

  for (const [rel, content] of Object.entries(HOME_FILES)) {
    const p = join(home, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  const secrets = {
    token: secret('token'),
    policy: secret('policy'),
    sshKey: secret('sshkey'),
    otherTmp: secret('othertmp'),
    daemonConfig: secret('daemonconfig'),
    victimEnv: secret('victimenv'),
  };
  writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = Conformance\n\temail = conformance@example.invalid\n[init]\n\tdefaultBranch = main\n');
  const sshKey = join(home, '.ssh', 'id_ed25519');
  writeFileSync(sshKey, `-----BEGIN OPENSSH PRIVATE KEY-----\n${secrets.sshKey}\n`, { mode: 0o600 });
  chmodSync(join(home, '.ssh'), 0o700);

  mkdirSync(runtimeBase, { mode: 0o700 });
  for (const d of [paths.stateDir, paths.configDir, paths.runtimeDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
  const files = {
    token: join(paths.configDir, 'token'),
    daemonConfig: join(paths.configDir, 'config.json'),
    policy: join(paths.stateDir, 'policies', 'agent-b.json'),
    sshKey,
  };
  writeFileSync(files.token, `${secrets.token}\n`, { mode: 0o600 });
  writeFileSync(files.daemonConfig, JSON.stringify({ secret: secrets.daemonConfig }), { mode: 0o600 });
  mkdirSync(dirname(files.policy), { recursive: true, mode: 0o700 });
  writeFileSync(files.policy, JSON.stringify({ workspace: 'wt-b', note: secrets.policy }), { mode: 0o600 });
  mkdirSync(join(paths.runtimeDir, 'tmp'), { mode: 0o700 });
  const otherAgentTmp = mkdtempSync(join(paths.runtimeDir, 'tmp', 'agent-b-'));
  writeFileSync(join(otherAgentTmp, 'scratch.txt'), `${secrets.otherTmp}\n`);

  const outside = join(root, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'linkme.txt'), 'outside file for hard links\n');
  writeFileSync(join(outside, 'leaked-fd.txt'), 'must never be written through an inherited fd\n');

  const repo = join(root, 'repo');
  const main = join(repo, 'main');
  mkdirSync(join(main, 'src'), { recursive: true });
  writeFileSync(join(main, 'README.md'), '# stage repository\n');
  writeFileSync(join(main, 'src', 'app.js'), 'console.log("app");\n');
  writeFileSync(join(main, 'notes.txt'), 'tracked notes\n');
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: { ...env, GIT_CONFIG_NOSYSTEM: '1' }, stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
  git(main, 'init', '-q', '-b', 'main');
  git(main, 'add', '-A');
  git(main, 'commit', '-q', '-m', 'initial');
  git(main, 'tag', 'v1');
  git(main, 'pack-refs');
  // The task worktrees exactly as `celistra worktree add` makes them, so `celistra run`
  // carries their git grants.
  const a = addWorktree({ name: 'a', repo: main, path: join(repo, 'wt-a') }).record;
  const b = addWorktree({ name: 'b', repo: main, path: join(repo, 'wt-b') }).record;
  const layoutA = layoutFor(a.commonDir, 'a');
  const layoutB = layoutFor(b.commonDir, 'b');
  // A plain git worktree whose directory is gone: `git worktree prune` would delete its admin dir.
  git(main, 'worktree', 'add', '-q', '../wt-gone', '-b', 'agent/gone');
  rmSync(join(repo, 'wt-gone'), { recursive: true, force: true });
  writeFileSync(join(repo, 'wt-b', 'work.txt'), 'agent b uncommitted work\n');
  const blob = git(main, 'rev-parse', 'HEAD:README.md');
  // An empty directory in each protected place, for rmdir attempts.
  for (const d of [join(repo, 'wt-b'), main, home, paths.stateDir]) mkdirSync(join(d, 'empty'));
  const gitCommon = join(main, '.git');

  const sharedTmpDir = join(tmpdir(), `celistra-conf-${tag}-b`);
  mkdirSync(sharedTmpDir, { mode: 0o755 });
  writeFileSync(join(sharedTmpDir, 'scratch.txt'), `${secrets.otherTmp}\n`, { mode: 0o644 });
  const sharedShmFile = existsSync('/dev/shm') ? `/dev/shm/celistra-conf-${tag}-b` : join(tmpdir(), `celistra-conf-${tag}-shm`);
  writeFileSync(sharedShmFile, `${secrets.otherTmp}\n`, { mode: 0o644 });

  return {
    root,
    tag,
    main,
    wtA: join(repo, 'wt-a'),
    wtB: join(repo, 'wt-b'),
    gitCommon,
    adminA: layoutA.adminDir,
    shadowA: layoutA.shadowDir,
    adminB: layoutB.adminDir,
    shadowB: layoutB.shadowDir,
    readOnlyA: [join(layoutA.adminDir, 'gitdir'), join(layoutA.adminDir, 'commondir'), ...shadowReadOnlyPaths(layoutA)],
    existingObject: join(gitCommon, 'objects', blob.slice(0, 2), blob.slice(2)),
    home,
    paths,
    outside,
    leakedFdFile: join(outside, 'leaked-fd.txt'),
    otherAgentTmp,
    sharedTmpDir,
    sharedShmFile,
    etcProbe: `/etc/celistra-conf-${tag}`,
    npmGlobal: join(dirname(dirname(process.execPath)), 'lib', 'node_modules'),
    secrets,
    files,
    env,
    victims: {},
  };
}

/** Names outside the stage root that a run may have created (by escaping) or made. */
function strayPaths(stage: Stage): string[] {
  const strays = [stage.sharedTmpDir, stage.sharedShmFile];
  for (const dir of ['/etc', stage.npmGlobal, '/usr/local/bin']) {
    try {
      for (const name of readdirSync(dir)) if (name.startsWith(`celistra-conf-${stage.tag}`)) strays.push(join(dir, name));
    } catch {
      // the directory may not exist on this machine
    }
  }
  return strays;
}

export function destroyStage(stage: Stage): void {
  // An escape may have left read-only or foreign-mode entries; make them removable first.
  try {
    execFileSync('chmod', ['-R', 'u+rwX', stage.root], { stdio: 'ignore' });
  } catch {
    // best effort: rmSync below reports nothing either way
  }
  rmSync(stage.root, { recursive: true, force: true });
  for (const p of strayPaths(stage)) rmSync(p, { recursive: true, force: true });
}
