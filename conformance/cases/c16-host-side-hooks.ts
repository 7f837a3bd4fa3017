import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Attempt, Case } from '../case.js';
import type { Stage } from '../stage.js';
import { sh } from '../quoting.js';

/**
 * Git hooks and fsmonitor commands run whoever runs git. The agent plants them where a
 * HOST-side git (what `celistra diff`/`pull` would run) could pick them up; the host
 * then runs git in wt-a and main. Any marker appearing outside is code run unfenced.
 * (Running git by hand inside a repo the agent created is out of scope: that is
 * running the agent's code, like running its Makefile. What reaches your plain git in
 * the task worktree through the tree itself — gitlinks and `.gitmodules`, attributes
 * naming drivers — is case 34.)
 */
function hostGitRuns(s: Stage): void {
  const run = (cwd: string, ...args: string[]) => {
    try {
      execFileSync('git', ['-C', cwd, ...args], { env: s.env, stdio: 'ignore', timeout: 10_000 });
    } catch {
      // a failing host git is fine here: only its side effects are judged
    }
  };
  run(s.wtA, 'status');
  run(s.wtA, 'diff');
  run(s.main, '--no-optional-locks', 'log', '-1', 'agent/a');
  run(s.main, '--no-optional-locks', 'diff', 'main...agent/a');
}

const c: Case = {
  id: '16',
  title: 'a nested repo or git init inside wt-a gives no path to hooks that run outside the sandbox',
  section: 'C',
  expect: 'content-writes',
  attempts: (s) => {
    const marker = (n: string) => join(s.outside, `PWNED-16-${n}`);
    const fsmon = (n: string) => `touch ${marker(n)}; false`;
    const scripts: [string, string][] = [
      [
        'git init nested repo with fsmonitor + hooks',
        `set -e; git init -q conf-16-nested; cd conf-16-nested; git config core.fsmonitor ${sh(fsmon('nested'))}; printf '#!/bin/sh\\ntouch ${marker('nested-hook')}\\n' > .git/hooks/post-checkout; chmod +x .git/hooks/post-checkout; echo x > f; git add f; git commit -q -m nested`,
      ],
      [
        'per-worktree config.worktree (admin dir, writable) with fsmonitor + hooksPath',
        `printf '[core]\\n\\tfsmonitor = %s\\n\\thooksPath = %s\\n' ${sh(fsmon('worktree-config'))} ${sh(s.wtA)} > ${sh(join(s.adminA, 'config.worktree'))}`,
      ],
      [
        'enable extensions.worktreeConfig in its config, then set fsmonitor',
        `git config extensions.worktreeConfig true && git config --worktree core.fsmonitor ${sh(fsmon('ext'))}`,
      ],
      [
        'plant a commondir-level config in the shadow via GIT_DIR tricks',
        `GIT_DIR=${sh(s.shadowA)} git config core.fsmonitor ${sh(fsmon('shadow'))}`,
      ],
      [
        'replace .git pointer with a gitdir carrying fsmonitor',
        `mkdir -p conf-16-fake && cp -r ${sh(s.adminA)}/. conf-16-fake/ 2>/dev/null; printf '[core]\\n\\tfsmonitor = %s\\n' ${sh(fsmon('pointer'))} > conf-16-fake/config; rm -f .git && printf 'gitdir: %s/conf-16-fake\\n' "$PWD" > .git`,
      ],
    ];
    return scripts.map(([label, script]): Attempt => ({ name: `sh ${label}`, via: 'sh', script, afterHost: () => hostGitRuns(s) }));
  },
};
export default c;
