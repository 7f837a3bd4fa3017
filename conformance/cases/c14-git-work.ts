import { execFileSync } from 'node:child_process';
import type { Case } from '../case.js';
import type { Stage } from '../stage.js';

/** What the user sees from the host in wt-a (the agent's commits live in its shadow git dir until `celistra pull`). */
function hostGit(s: Stage, ...args: string[]): string {
  try {
    return execFileSync('git', ['--no-optional-locks', '-C', s.wtA, ...args], { env: s.env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (e) {
    return `host git failed: ${(e as Error).message}`;
  }
}

/** Normal git in the agent's own worktree must work; the host must see the commits. */
const c: Case = {
  id: '14',
  title: 'git in wt-a: status, diff, add, commit, stash, own branch + switch, log of main',
  section: 'C',
  expect: 'allow',
  attempts: (s) => [
    {
      name: 'sh git status, diff, log main',
      via: 'sh',
      script: 'set -e; echo change >> README.md; git status --short; git diff --stat; git log --oneline main; git checkout -- README.md',
      verify: (o) => (o.stdout.includes('initial') ? undefined : `git log main did not show the initial commit: ${o.stdout.trim()}`),
    },
    {
      name: 'sh git add + commit on agent/a',
      via: 'sh',
      script: 'set -e; echo "agent a work" > conf-14-file.txt; git add conf-14-file.txt; git commit -q -m "conf-14 commit from wt-a"; git log -1 --format=%s',
      verify: () => {
        const log = hostGit(s, 'log', '-1', '--format=%s', 'agent/a');
        return log.includes('conf-14 commit from wt-a') ? undefined : `the host does not see the commit on agent/a (tip: ${log.trim()})`;
      },
    },
    {
      name: 'sh git stash push + pop',
      via: 'sh',
      script: 'set -e; echo stash-me >> conf-14-file.txt; git stash push -q; git stash list | grep -q stash; git stash pop -q; grep -q stash-me conf-14-file.txt',
    },
    {
      name: 'sh git branch + switch within its own namespace (agent/a-*)',
      via: 'sh',
      script: 'set -e; git switch -q -c agent/a-topic; echo topic > conf-14-topic.txt; git add conf-14-topic.txt; git commit -q -m "conf-14 topic"; git switch -q agent/a',
      verify: () => {
        const log = hostGit(s, 'log', '-1', '--format=%s', 'agent/a-topic');
        return log.includes('conf-14 topic') ? undefined : 'the host does not see branch agent/a-topic';
      },
    },
  ],
};
export default c;
