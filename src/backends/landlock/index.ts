import type { Backend, Capabilities } from '../backend.js';
import { rightsUpTo } from './abi.js';
import { NESTED_SANDBOXES_REFUSED } from './nested-sandboxes.js';
import { helperBuild } from './helper-build.js';
import { landlockGuarantees } from './guarantees.js';
import { planLandlock, rootWithoutUsernsRefusal } from './plan.js';
import { landlockFacts, unavailability, type LandlockFacts } from './probe.js';

function details(f: LandlockFacts): Capabilities['details'] {
  const d: Capabilities['details'] = {
    abi: f.abi,
    kernelAbi: f.kernelAbi,
    rights: rightsUpTo(f.abi).join(' '),
    userNamespaces: f.userNamespaces,
    seccomp: f.seccomp,
    helper: f.helperPath,
  };
  if (f.userNamespacesProblem) d.userNamespacesProblem = f.userNamespacesProblem;
  // planLandlock refuses any policy with read-only paths inside a writable root here: a task
  // worktree's is its .git pointer and admin files. Said up front, not only when a run fails.
  if (f.userNamespaces) d.nestedSandboxes = NESTED_SANDBOXES_REFUSED.replace(/^nested sandboxes /, '');
  if (!f.userNamespaces) d.taskWorktrees = 'refused (their .git pointer and admin files must stay read-only inside the worktree, which needs a mount namespace); plain --workspace directories run';
  if (f.forcedAbi !== undefined) d.forcedAbi = f.forcedAbi;
  if (f.buildProblem) d.build = f.buildProblem;
  return d;
}

function probe(): Capabilities {
  const f = landlockFacts();
  const missing = unavailability(f) ?? rootWithoutUsernsRefusal(f, process.env, process.getuid?.() ?? -1);
  const caps: Capabilities = {
    backend: 'landlock',
    available: missing === undefined,
    details: details(f),
    guarantees: landlockGuarantees(f),
  };
  if (missing) {
    caps.unavailableReason = missing.reason;
    caps.fix = missing.fix;
  }
  return caps;
}

/** How the helper was built, when it was: the binary itself says (it is spawned for that). */
function diagnose(caps: Capabilities): Capabilities['details'] {
  const helper = caps.details.helper;
  return typeof helper === 'string' && caps.details.build === undefined ? { helperBuild: helperBuild(helper) } : {};
}

/** Linux Landlock, applied by the celistra-exec helper in the child (native/). */
export const landlockBackend: Backend = {
  name: 'landlock',
  probe,
  diagnose,
  plan: (policy, argv, baseEnv) => planLandlock(policy, argv, baseEnv, landlockFacts()),
};
