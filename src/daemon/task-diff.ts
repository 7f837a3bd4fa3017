/** One file of a task's diff: lines added and removed, null for a binary file. */
export interface DiffFile {
  path: string;
  added: number | null;
  removed: number | null;
}

/**
 * `GET /v1/agents/:name/diff` (docs/api.md): the task's changes against its base, as
 * `celistra diff` shows them. Types only, so that the page (web/) shares them.
 */
export interface TaskDiff {
  agent: string;
  task: string;
  branch: string;
  files: DiffFile[];
  /** Files beyond the listing limit are counted here, not listed. */
  filesOmitted: number;
  added: number;
  removed: number;
  patch: string;
  /** The whole patch's size; `patch` holds at most the limit's worth when `truncated`. */
  patchBytes: number;
  truncated: boolean;
  nested: string[];
}
