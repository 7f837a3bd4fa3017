/**
 * The task the scripted model walks the real codex through, shared by
 * test/sandbox/agent-loop-codex.test.ts and conformance case 29b: read a tracked file,
 * edit it and write a new node script with apply_patch, run the script (it counts the
 * words of the file and hashes it into `count.txt`), commit, then try to write into a
 * sibling worktree through the shell. Also: running `celistra run` without blocking the
 * scripted model, which answers from this process's event loop.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { applyPatch, execCommand, startScriptedResponses, type ScriptedResponses, type ScriptedTurn } from './scripted-openai-responses.js';
import { codexExecArgs } from './codex-scripted-launch.js';

export interface TaskFile {
  /** A tracked text file in the worktree, relative to it. */
  name: string;
  /** Its one line before the task (without the newline), and what the model makes of it. */
  before: string;
  after: string;
}

export const COMMIT_MESSAGE = 'agent: edit, count, commit';
/** What the sibling attempt prints only if both of its writes got through. */
export const SIBLING_WRITTEN = 'SIBLING-WRITTEN';

/** The node script the model writes: real work whose result the host can check. */
export function countScript(file: TaskFile): string {
  return [
    "const { createHash } = require('node:crypto');",
    "const { readFileSync, writeFileSync } = require('node:fs');",
    `const text = readFileSync(${JSON.stringify(file.name)}, 'utf8');`,
    'const words = text.split(/\\s+/).filter(Boolean).length;',
    "const sha = createHash('sha256').update(text).digest('hex');",
    "writeFileSync('count.txt', `${words} ${sha}\\n`);",
    "console.log('counted', words);",
  ].join('\n');
}

/** What `count.txt` must hold once the script ran on the edited file. */
export function expectedCount(file: TaskFile): string {
  const text = `${file.after}\n`;
  return `${text.split(/\s+/).filter(Boolean).length} ${createHash('sha256').update(text).digest('hex')}\n`;
}

/**
 * The turns. Call ids, for `toolOutput`: `read`, `edit`, `work`, `commit`, `sibling`; the
 * last turn (5) is text only, which ends codex's task.
 */
export function codexTask(file: TaskFile, sibling: string): ScriptedTurn[] {
  const patch = ['*** Begin Patch', `*** Update File: ${file.name}`, '@@', `-${file.before}`, `+${file.after}`, '*** Add File: count.js', ...countScript(file).split('\n').map((l) => `+${l}`), '*** End Patch', ''];
  return [
    { text: 'Reading the file first.', calls: [execCommand('read', `cat ${file.name}`)] },
    { calls: [applyPatch('edit', patch.join('\n'))] },
    { calls: [execCommand('work', 'node count.js && cat count.txt')] },
    { calls: [execCommand('commit', `git add -A && git commit -q -m '${COMMIT_MESSAGE}' && git log -1 --format=%s`)] },
    { calls: [execCommand('sibling', `echo planted > ${sibling}/planted.txt && echo pwned >> ${sibling}/README.md && echo ${SIBLING_WRITTEN}`)] },
    { text: 'Done: edited, counted, committed. The other worktree is not mine to write.' },
  ];
}

/** The turn the model is asked after the sibling attempt: its request must carry the failure. */
export const TURN_AFTER_SIBLING = 5;

/** The exit code codex reported to the model for an exec_command call ("Process exited with code N"). */
export function exitCodeIn(output: string | undefined): number | undefined {
  const m = /Process exited with code (\d+)/.exec(output ?? '');
  return m ? Number(m[1]) : undefined;
}

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node cli ...args` as a child that does not block this process's event loop. */
export function runNodeCli(cli: string, args: string[], cwd: string, env: Record<string, string>, timeoutMs = 180_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

export interface FencedCodexRun {
  /** Path of bin/celistra.js and of the codex launcher. */
  cli: string;
  codex: string;
  backend: string;
  /** `--worktree NAME` or `--workspace DIR`. */
  where: string[];
  /** The agent's worktree (codex's `-C`) and the directory `celistra run` starts in. */
  workdir: string;
  cwd: string;
  env: Record<string, string>;
  catalogPath: string;
  turns: ScriptedTurn[];
  /** More `codex exec` flags (before the prompt). */
  extra?: string[];
}

/** `celistra run --preset codex ... -- codex exec ...` against a scripted model playing `turns`. */
export async function runFencedCodex(o: FencedCodexRun): Promise<{ ran: Ran; model: ScriptedResponses }> {
  const model = await startScriptedResponses(o.turns);
  try {
    const codexArgs = codexExecArgs({ baseUrl: model.baseUrl, catalogPath: o.catalogPath, workdir: o.workdir, prompt: 'Edit the file, count its words, commit.', extra: o.extra });
    const ran = await runNodeCli(o.cli, ['run', '--backend', o.backend, '--preset', 'codex', ...o.where, '--', o.codex, ...codexArgs], o.cwd, o.env);
    return { ran, model };
  } finally {
    await model.close();
  }
}
