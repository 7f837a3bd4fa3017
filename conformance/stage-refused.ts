/**
 * The backend refused (E_NO_BACKEND) to fence the stage's task worktree at all, as it
 * must on a machine where it cannot hold one (Landlock without user namespaces cannot
 * keep a worktree's `.git` pointer read-only inside it). No case can run there: the suite
 * reports the backend as unavailable with the backend's own reason, not every case as an
 * error of the suite.
 */
export class StageRefused extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'StageRefused';
  }
}
