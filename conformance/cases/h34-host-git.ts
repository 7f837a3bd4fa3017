import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext, CustomResult } from '../case.js';
import { ownTaskWorktree } from '../own-task-worktree.js';
import { sh } from '../quoting.js';

/**
 * Host git in a task worktree runs nothing the agent planted. Case 16 plants hooks and
 * fsmonitors in the task's own git dirs; this case plants what reaches the user's plain
 * git through the tree itself: a gitlink to a nested repository (whose config runs
 * programs) with a `.gitmodules` that sets `ignore = none` — committed, only in an older
 * commit, only in the index — and filter/diff drivers, aliases, pagers, external diffs and
 * credential helpers in every config the agent can write, named by its `.gitattributes`;
 * a gitlink checked out with no `.gitmodules` at all (your `git add -A` / `stash` enter it
 * whatever the ignore settings), and a half-done rebase whose todo list runs a command.
 * Each attempt is one fenced run in a task worktree of a repository of its own (so `pull`
 * moves nothing the other cases use); after the run ends the host runs Celistra's
 * commands and, as a user would by hand, plain git there. Any marker is code run unfenced.
 */

interface Plant {
  name: string;
  /** The agent's steps inside the fence (`$M` is the marker dir, `$ADMIN`/`$SHADOW` the task's git dirs). */
  script: (m: (what: string) => string) => string;
  /** Checked on the host after the run: the plant is really there (else the attempt proves nothing). */
  planted: (wt: string, container: string) => boolean;
  /** Run on the host after the user's steps, to leave the worktree on the task branch for the next plant. */
  after?: string;
  /** What a user does by hand that this plant aims at, run before the common steps (`$M` as in script; `signer` a host program). */
  userSteps?: (m: (what: string) => string, signer: string) => string[];
  /** Checked on the host right after `userSteps`: what the plant did to the user's own work, or undefined. */
  harm?: (wt: string) => string | undefined;
}

/** Whether the admin dir, or the host-owned quarantine Celistra moved it to, holds `rel` (a rebase's state). */
function inAdminOrQuarantine(container: string, rel: string): boolean {
  const quarantine = join(container, 'quarantine');
  const there = (p: string) => lstatSync(p, { throwIfNoEntry: false }) !== undefined;
  return there(join(container, 'admin', rel)) || (existsSync(quarantine) && readdirSync(quarantine).some((d) => there(join(quarantine, d, rel))));
}

/** A nested repository at `path` with an fsmonitor, a post-checkout hook and a clean filter of its own. */
function nestedRepo(path: string, m: (what: string) => string): string {
  return [
    `git init -q ${path}`,
    `(cd ${path} && echo n > n && git add n && git commit -qm n && git config core.fsmonitor ${sh(`touch ${m(`${path}-fsmonitor`)}; false`)} && git config filter.x.clean ${sh(`touch ${m(`${path}-filter`)}; cat`)} && echo '* filter=x' > .gitattributes && printf '#!/bin/sh\\ntouch %s\\n' ${sh(m(`${path}-hook`))} > .git/hooks/post-checkout && chmod +x .git/hooks/post-checkout)`,
  ].join(' && ');
}

function section(name: string, path: string, extra = ''): string {
  return `'[submodule "${name}"]\\n\\tpath = ${path}\\n\\turl = ./${path}\\n\\tignore = none\\n${extra}'`;
}

/** Two commits, then an interactive rebase of them stopped at a break (picks reversed: git makes new commits), then `extra`. */
function halfDone(tag: string, extra: string): string {
  const todo = '"$(git rev-parse --git-path rebase-merge)/git-rebase-todo"';
  return `(git stash -q -u || true) && for i in 1 2; do echo $i > conf34-${tag}$i && git add conf34-${tag}$i && git commit -qm ${tag}$i; done && GIT_SEQUENCE_EDITOR="sed -i '1i break'" git rebase -q -i HEAD~2 && grep '^pick' ${todo} | tac > ${todo}.new && mv ${todo}.new ${todo} && ${extra}`;
}

const PLANTS: Plant[] = [
  {
    name: 'commit a gitlink to a nested repo (fsmonitor, hook, filter) with .gitmodules ignore = none',
    script: (m) => `${nestedRepo('conf34-sub', m)} && printf ${section('conf34 sub', 'conf34-sub', '\\tfetchRecurseSubmodules = true\\n')} > .gitmodules && git add .gitmodules conf34-sub 2>/dev/null && git commit -qm 'conf34: submodule'`,
    planted: (wt) => existsSync(join(wt, 'conf34-sub', '.git')) && existsSync(join(wt, '.gitmodules')) && readFileSync(join(wt, '.gitmodules'), 'utf8').includes('conf34 sub'),
  },
  {
    name: 'a submodule name that only an older commit has (update = !cmd), for a later checkout',
    script: (m) =>
      `${nestedRepo('conf34-old', m)} && cp .gitmodules conf34-keep && printf ${section('conf34.old "q"'.replace(/"/g, '\\\\"'), 'conf34-old', `\\tupdate = !touch ${m('old-update')}\\n`)} >> .gitmodules && git add .gitmodules conf34-old 2>/dev/null && git commit -qm 'conf34: old' && mv conf34-keep .gitmodules && git commit -qam 'conf34: forget old'`,
    planted: (wt) => existsSync(join(wt, 'conf34-old', '.git')),
  },
  {
    name: 'a submodule name only in the index (the worktree .gitmodules removed)',
    script: (m) => `${nestedRepo('conf34-staged', m)} && cp .gitmodules conf34-keep && printf ${section('conf34-staged', 'conf34-staged')} >> .gitmodules && git add .gitmodules conf34-staged 2>/dev/null && rm .gitmodules`,
    planted: (wt) => existsSync(join(wt, 'conf34-staged', '.git')) && !existsSync(join(wt, '.gitmodules')),
  },
  {
    name: 'a submodule name only a commit named by a ref linked to a file in the worktree has (no branch, no reflog), for your checkout of that ref',
    script: (m) =>
      [
        `${nestedRepo('conf34-linked', m)} && printf ${section('conf34-linked', 'conf34-linked')} >> .gitmodules`,
        `git add .gitmodules conf34-linked 2>/dev/null && git commit -qm 'conf34: linked' && git rev-parse HEAD > conf34-linked-ref && git reset -q --hard HEAD~1`,
        'rm -f "$(git rev-parse --git-path ORIG_HEAD)" && for f in $(find "$SHADOW/logs" "$ADMIN/logs" -type f); do : > "$f"; done && ln -s "$PWD/conf34-linked-ref" "$SHADOW/refs/heads/conf34-linked"',
      ].join(' && '),
    planted: (wt, container) => existsSync(join(wt, 'conf34-linked', '.git')) && lstatSync(join(container, 'git', 'refs', 'heads', 'conf34-linked'), { throwIfNoEntry: false })?.isSymbolicLink() === true,
    userSteps: () => ['git checkout conf34-linked', 'git status'],
    after: 'git checkout -q -f agent/t',
  },
  {
    name: 'a gitlink checked out as a nested repo (fsmonitor, filter) with no .gitmodules, for your git add -A/-u/./commit -a/stash with local changes',
    script: (m) => `${nestedRepo('conf34-bare', m)} && git add conf34-bare 2>/dev/null && git -c diff.ignoreSubmodules=none commit -qm 'conf34: bare gitlink' 2>/dev/null && touch -d 2001-01-01 conf34-bare/n`,
    planted: (wt) => existsSync(join(wt, 'conf34-bare', '.git')),
  },
  {
    name: 'a half-done rebase whose todo list starts with an exec line, for your git rebase --continue/--skip',
    script: (m) =>
      `(git stash -q -u || true) && for i in 1 2; do echo $i > conf34-r$i && git add conf34-r$i && git commit -qm r$i; done && GIT_SEQUENCE_EDITOR="sed -i '1i break'" git rebase -q -i HEAD~2 && sed -i ${sh(`1i exec touch ${m('rebase-exec')}`)} "$(git rev-parse --git-path rebase-merge)/git-rebase-todo"`,
    planted: (_, container) => inAdminOrQuarantine(container, 'rebase-merge/git-rebase-todo'),
    after: 'git rebase --abort; git checkout -q -f agent/t',
  },
  // The attack review of the git guard (h-atk-gitx): state git reads differently than it
  // looks, signing requests, a recorded resolution, a bisect start that is an option, a
  // locked index, a state dir the user cannot read until they chmod it.
  {
    name: 'a half-done rebase whose strategy is "ort " (trailing blank: git runs git-merge-"ort "), for your git rebase --continue',
    script: (m) =>
      `${halfDone('ort', `printf 'ort \\n' > "$(git rev-parse --git-path rebase-merge)/strategy"`)} && printf '#!/bin/sh\\ntouch %s\\n' ${sh(m('strategy-ort-blank'))} > 'git-merge-ort ' && chmod +x 'git-merge-ort '`,
    planted: (_, container) => inAdminOrQuarantine(container, 'rebase-merge/strategy'),
    userSteps: () => ['PATH=.:$PATH git rebase --continue'],
    after: "git rebase --abort; rm -f 'git-merge-ort '; git checkout -q -f agent/t",
  },
  {
    name: 'a half-done rebase that asks to sign (gpg_sign_opt -S<key>), for your git rebase --continue with your gpg',
    script: () => halfDone('gpg', `echo -SDEADBEEFCAFE > "$(git rev-parse --git-path rebase-merge)/gpg_sign_opt"`),
    planted: (_, container) => inAdminOrQuarantine(container, 'rebase-merge/gpg_sign_opt'),
    userSteps: (_, signer) => [`git -c gpg.program=${sh(signer)} rebase --continue`],
    after: 'git rebase --abort; git checkout -q -f agent/t',
  },
  {
    name: 'an rr-cache with the agent\'s resolution of a conflict, for your own git merge',
    script: () =>
      [
        'git checkout -qb conf34-x && echo theirs > conf34-rr.txt && git add conf34-rr.txt && git commit -qm x && git checkout -q agent/t',
        'echo ours > conf34-rr.txt && git add conf34-rr.txt && git commit -qm ours',
        'git -c rerere.enabled=true merge -q conf34-x >/dev/null 2>&1; echo AGENT-RESOLUTION > conf34-rr.txt && git add conf34-rr.txt && git -c rerere.enabled=true commit -qm merged',
        'git reset -q --hard HEAD~1',
      ].join(' && '),
    planted: (_, container) => existsSync(join(container, 'git', 'rr-cache')),
    userSteps: () => ['git merge conf34-x'],
    harm: (wt) => (readFileSync(join(wt, 'conf34-rr.txt'), 'utf8').includes('AGENT-RESOLUTION') ? 'your merge took the agent\'s recorded resolution (rerere)' : undefined),
    after: 'git merge --abort; git checkout -q -f agent/t',
  },
  {
    name: 'a bisect state whose BISECT_START is an option (-f), for your git bisect reset with uncommitted work',
    script: () => 'echo committed > conf34-bisect.txt && git add conf34-bisect.txt && git commit -qm bisect && git bisect start >/dev/null && printf -- "-f\\n" > "$(git rev-parse --git-path BISECT_START)"',
    planted: (_, container) => inAdminOrQuarantine(container, 'BISECT_START'),
    userSteps: () => ['echo your-work > conf34-bisect.txt && git bisect reset'],
    harm: (wt) => (readFileSync(join(wt, 'conf34-bisect.txt'), 'utf8') !== 'your-work\n' ? 'git bisect reset threw away your uncommitted change (checkout -f)' : undefined),
    after: 'git bisect reset; git checkout -q -f agent/t',
  },
  {
    name: 'an index left locked (index.lock) with an unmarked gitlink, for your rm of the stale lock then git add -A',
    script: (m) =>
      `${nestedRepo('conf34-locked', m)} && git add conf34-locked 2>/dev/null && git -c diff.ignoreSubmodules=none commit -qm 'conf34: locked gitlink' && touch -d 2001-01-01 conf34-locked/n && git -c core.hooksPath=/dev/null update-index --no-skip-worktree conf34-locked && touch "$(git rev-parse --git-path index.lock)"`,
    planted: (wt) => existsSync(join(wt, 'conf34-locked', '.git')),
    userSteps: () => ['rm -f "$(git rev-parse --git-path index.lock)"; echo conf34 >> conf34-wip.txt && git add -A', 'git stash'],
    after: 'git stash pop; git checkout -q -f agent/t',
  },
  {
    name: 'a half-done rebase with an exec line in a state dir made unreadable (chmod 000), for your chmod then git rebase --continue',
    script: (m) => `${halfDone('mode000', `sed -i ${sh(`1i exec touch ${m('rebase-exec-000')}`)} "$(git rev-parse --git-path rebase-merge)/git-rebase-todo"`)} && chmod 000 "$(git rev-parse --git-path rebase-merge)"`,
    planted: (_, container) => inAdminOrQuarantine(container, 'rebase-merge'),
    userSteps: () => ['chmod -R u+rwx "$(git rev-parse --git-path rebase-merge)"; git rebase --continue'],
    after: 'git rebase --abort; git checkout -q -f agent/t',
  },
  {
    name: 'drivers, aliases, pager, external diff, editor, credential helper in every config it can write; .gitattributes naming them',
    script: (m) => {
      const settings: [string, string][] = [
        ['filter.conf34.clean', `touch ${m('clean')}; cat`],
        ['filter.conf34.smudge', `touch ${m('smudge')}; cat`],
        ['filter.conf34.process', `touch ${m('process')}`],
        ['diff.conf34.command', `touch ${m('diff-driver')}`],
        ['diff.conf34.textconv', `touch ${m('textconv')}; cat`],
        ['merge.conf34.driver', `touch ${m('merge-driver')}`],
        ['diff.external', `touch ${m('ext-diff')}`],
        ['core.pager', `touch ${m('pager')}; cat`],
        ['core.editor', `touch ${m('editor')}`],
        ['core.fsmonitor', `touch ${m('fsmonitor')}; false`],
        ['core.hooksPath', '$ADMIN'],
        ['alias.st', `!touch ${m('alias')}`],
        ['credential.helper', `!touch ${m('credential')}`],
        ['core.sshCommand', `touch ${m('ssh')}`],
        ['extensions.worktreeConfig', 'true'],
      ];
      const files = ['$ADMIN/config', '$ADMIN/config.worktree', '$SHADOW/config', '$HOME/.gitconfig', '$HOME/.config/git/config', 'conf34-sub/.git/config'];
      // `$ADMIN`-style values are the shell's to expand; the rest are quoted as they are.
      const value = (v: string) => (v.startsWith('$') ? `"${v}"` : sh(v));
      const writes = files.flatMap((f) => settings.map(([k, v]) => `git config --file "${f}" ${k} ${value(v)} 2>/dev/null`));
      return `${writes.join('; ')}; printf '#!/bin/sh\\ntouch %s\\n' ${sh(m('admin-hook'))} > "$ADMIN/post-checkout"; chmod +x "$ADMIN/post-checkout"; printf '* filter=conf34 diff=conf34 merge=conf34\\n' > .gitattributes; echo text > conf34.txt; git add .gitattributes conf34.txt && git commit -qm 'conf34: attributes'`;
    },
    planted: (wt) => existsSync(join(wt, '.gitattributes')),
  },
];

/** What a user does by hand in the task worktree after the agent's run, each step judged alone. */
const USER_GIT = [
  'git status',
  'git status --short',
  'git diff',
  'git diff --cached',
  'git diff HEAD~1',
  'git log -p -3',
  'git show',
  'git stash',
  'git stash pop',
  'git checkout HEAD~1',
  'git status',
  'git checkout -',
  'git status',
  'git submodule status',
  'git submodule update',
  'git rebase --continue',
  'git rebase --skip',
  'git cherry-pick --continue',
  'echo conf34 >> conf34-wip.txt && git add -A',
  'echo conf34 >> conf34-wip.txt && git add -u',
  'echo conf34 >> conf34-wip.txt && git add .',
  'echo conf34 >> conf34-wip.txt && git commit -qam conf34-user',
  'echo conf34 >> conf34-wip.txt && git stash',
  'git stash pop',
  'echo conf34 >> conf34-wip2.txt && git stash -u',
  'git stash pop',
];

function markersIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

async function check(ctx: CaseContext): Promise<CustomResult[]> {
  const s = ctx.stage;
  const own = ownTaskWorktree(ctx, 'conf34');
  if ('error' in own) return [{ name: 'set up a task worktree', outcome: 'denied', expect: 'allow', detail: own.error }];
  const { base, repo, wt, cli } = own;
  const markers = join(base, 'markers');
  mkdirSync(markers);
  const env = { ...own.env, GIT_EDITOR: 'true' };
  const hostSh = (script: string, cwd: string) => spawnSync('sh', ['-c', script], { cwd, env, encoding: 'utf8', timeout: 30_000 });
  const container = join(repo, '.git', 'celistra', 'worktrees', 't');
  const home = readFileSync(join(s.home, '.gitconfig'), 'utf8');
  const m = (what: string) => join(markers, what);
  // The user's gpg: it marks that it was asked to sign (and refuses).
  const signer = join(base, 'gpg');
  writeFileSync(signer, `#!/bin/sh\ntouch ${sh(m('gpg-signed'))}\nexit 1\n`, { mode: 0o755 });

  const results: CustomResult[] = [];
  // Markers stay: each is charged to the first step after which it appeared.
  const seen = new Set<string>();
  for (const plant of PLANTS) {
    const ran = spawnSync(process.execPath, [ctx.cli, 'run', '--backend', ctx.backend, '--workspace', wt, '--', 'sh', '-c', plant.script(m)], {
      cwd: wt,
      env: { ...env, ADMIN: join(container, 'admin'), SHADOW: join(container, 'git') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const fired: string[] = [];
    const judge = (step: string) => {
      for (const f of markersIn(markers).filter((x) => !seen.has(x))) {
        seen.add(f);
        fired.push(`${f} (by ${step})`);
      }
    };
    judge('the fenced run itself');
    if (!plant.planted(wt, container)) {
      results.push({ name: `${plant.name}: the agent's own git work`, expect: 'allow', outcome: 'denied', detail: `the plant is not there after the run (exit ${ran.status}): ${ran.stderr.trim().slice(-300)}` });
      continue;
    }
    for (const args of [['worktree', 'ls', '--json'], ['diff', 't']]) {
      cli(...args);
      judge(`celistra ${args.join(' ')}`);
    }
    for (const step of plant.userSteps?.(m, signer) ?? []) {
      hostSh(`(${step}) >/dev/null 2>&1`, wt);
      judge(`plain \`${step}\` in the task worktree`);
    }
    const harmed = plant.harm?.(wt);
    if (harmed) fired.push(harmed);
    for (const step of USER_GIT) {
      hostSh(`${step} >/dev/null 2>&1`, wt);
      judge(`plain \`${step}\` in the task worktree`);
    }
    if (plant.after) hostSh(`(${plant.after}) >/dev/null 2>&1`, wt);
    if (plant === PLANTS[PLANTS.length - 1]) {
      cli('pull', 't');
      judge('celistra pull t');
    }
    if (readFileSync(join(s.home, '.gitconfig'), 'utf8') !== home) fired.push('~/.gitconfig changed');
    results.push(
      fired.length > 0
        ? { name: plant.name, outcome: 'escaped', detail: `ran on the host: ${fired.join(', ')}` }
        : { name: plant.name, outcome: 'held', detail: `no marker after celistra ls/diff and ${USER_GIT.length} plain git commands in the task worktree` },
    );
  }
  const diff = cli('diff', 't');
  results.push({
    name: '`celistra diff` shows the gitlinks and names the nested repositories',
    expect: 'allow',
    outcome: /\+Subproject commit [0-9a-f]{40}/.test(diff.stdout) && /conf34-sub \(gitlink\)/.test(diff.stderr) ? 'held' : 'denied',
    detail: `${diff.stderr.trim().slice(0, 300)}`,
  });
  return results;
}

const c: Case = {
  id: '34',
  title: 'host git in a task worktree (celistra ls/diff/pull, and plain git by hand) runs nothing the agent planted: submodules, drivers, aliases, pagers',
  section: 'H',
  expect: 'content-writes',
  custom: check,
};
export default c;
