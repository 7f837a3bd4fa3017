import { runCelistra } from './celistra-cli.js';

/** An escape the scripted agent tries: append a line to a file it must not write. */
export interface EscapeTarget {
  /** Stable id in the JSON result: other-worktree | main-checkout | home | git-config. */
  id: string;
  /** For a person: "the other task's worktree". */
  label: string;
  path: string;
}

export interface AgentJob {
  task: string;
  /** The main checkout: `celistra run --worktree` resolves the task from there. */
  repo: string;
  /** File inside its worktree the agent edits and commits. */
  file: string;
  commitMessage: string;
  escapes: EscapeTarget[];
  backend: string;
  env: Record<string, string>;
}

/** What the agent reported about one escape attempt (informative only; the host decides). */
export interface AttemptReport {
  id: string;
  wrote: boolean;
  /** The shell's error when the write failed, e.g. "Read-only file system". */
  message: string;
}

export interface AgentRun {
  status: number;
  /** The backend `celistra run --verbose` says it used. */
  backend: string | null;
  /** The commit the agent made, as it printed it. */
  committed: string | null;
  attempts: AttemptReport[];
  stdout: string;
  stderr: string;
  argv: string[];
}

/**
 * The agent: a shell script that first does its job (edit, add, commit — all allowed)
 * and then tries each escape in turn, reporting on stdout what it saw. It exits non-zero
 * only when its own job failed.
 */
const AGENT_SCRIPT = `
task=$1; file=$2; message=$3; shift 3
printf '%s was here\\n' "$task" >> "$file" && git add -- "$file" && git commit -q -m "$message" || exit 3
echo "celistra-demo committed $(git rev-parse HEAD)"
while [ $# -ge 2 ]; do
  id=$1; target=$2; shift 2
  if err=$( (printf '# %s tried to write here\\n' "$task" >> "$target") 2>&1 ); then
    echo "celistra-demo attempt $id wrote"
  else
    echo "celistra-demo attempt $id denied $(printf '%s' "$err" | tr '\\n' ' ')"
  fi
done
`;

/**
 * Run the agent the way a user would: `celistra run --worktree TASK -- sh -c ...`.
 * When `stop` fires, the run is sent SIGTERM (it passes it on to the agent) and the
 * promise still settles only once the process has exited.
 */
export async function runAgent(job: AgentJob, stop: AbortSignal): Promise<AgentRun> {
  const argv = [
    'run', '--worktree', job.task, '--backend', job.backend, '--verbose', '--',
    'sh', '-c', AGENT_SCRIPT, 'celistra-demo-agent', job.task, job.file, job.commitMessage,
    ...job.escapes.flatMap((e) => [e.id, e.path]),
  ];
  const { status, stdout, stderr } = await runCelistra(argv, job.repo, job.env, stop);
  return {
    status,
    backend: /^celistra: backend (\S+);/m.exec(stderr)?.[1] ?? null,
    committed: /^celistra-demo committed ([0-9a-f]+)$/m.exec(stdout)?.[1] ?? null,
    attempts: parseAttempts(stdout),
    stdout,
    stderr,
    argv: ['celistra', ...argv.slice(0, argv.indexOf('--') + 1), 'sh', '-c', '<agent script>', '...'],
  };
}

function parseAttempts(stdout: string): AttemptReport[] {
  const out: AttemptReport[] = [];
  for (const m of stdout.matchAll(/^celistra-demo attempt (\S+) (wrote|denied)(?: (.*))?$/gm)) {
    out.push({ id: m[1]!, wrote: m[2] === 'wrote', message: shortError(m[3] ?? '') });
  }
  return out;
}

/** "sh: 1: cannot create /x: Read-only file system" → "Read-only file system". */
function shortError(raw: string): string {
  const s = raw.trim();
  const i = s.lastIndexOf(': ');
  return i === -1 ? s : s.slice(i + 2);
}
