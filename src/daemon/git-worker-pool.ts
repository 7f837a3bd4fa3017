import { Worker } from 'node:worker_threads';
import { CelistraError } from '../policy/errors.js';
import type { GitJob, GitJobAnswer } from './git-job.js';

/** A person waits for `user` jobs (the diff view, a pull); `background` ones (fleet diff stats) go after them. */
export type JobPriority = 'user' | 'background';

/** An idle worker is ended after this long: a quiet daemon holds no threads. */
const DEFAULT_IDLE_MS = 30_000;

interface Queued {
  job: GitJob;
  keys: string[];
  priority: JobPriority;
  resolve(result: unknown): void;
  reject(e: Error): void;
}

interface Running {
  queued: Queued;
  id: number;
}

export interface GitWorkerPoolOptions {
  /** At most this many git jobs (worker threads) at once. */
  size: number;
  idleMs?: number;
  /** The worker's module (tests swap it). */
  workerUrl?: URL;
}

/**
 * The daemon's host git, off its event loop: jobs (git-job.ts) run in at most `size`
 * worker threads, each running the synchronous, host-safe code that `celistra diff` and
 * `celistra pull` run. Two jobs sharing a key never run at once (a task's jobs share its
 * pins file; pulls share the main checkout), and `user` jobs are taken before
 * `background` ones. Workers are started on demand and ended when idle.
 */
export class GitWorkerPool {
  private readonly queue: Queued[] = [];
  private readonly idle: { worker: Worker; timer: NodeJS.Timeout }[] = [];
  private readonly busy = new Map<Worker, Running>();
  private readonly keysRunning = new Set<string>();
  private nextId = 1;
  private closed = false;
  private readonly size: number;
  private readonly idleMs: number;
  private readonly workerUrl: URL;

  constructor(opts: GitWorkerPoolOptions) {
    this.size = Math.max(1, Math.floor(opts.size));
    this.idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
    this.workerUrl = opts.workerUrl ?? new URL('./git-worker.js', import.meta.url);
  }

  /** Run a job once no job holding one of its keys runs; resolves with its result, rejects with the CelistraError it threw. */
  run<T>(job: GitJob, keys: string[], priority: JobPriority): Promise<T> {
    if (this.closed) return Promise.reject(new CelistraError('E_DAEMON', 'the daemon is stopping: no more git work'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ job, keys, priority, resolve: resolve as (r: unknown) => void, reject });
      this.pump();
    });
  }

  /** Jobs waiting and running (for tests and the benchmark). */
  get load(): { queued: number; running: number; workers: number } {
    return { queued: this.queue.length, running: this.busy.size, workers: this.busy.size + this.idle.length };
  }

  /** End every worker; waiting jobs are refused. */
  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new CelistraError('E_DAEMON', 'the daemon is stopping: the git work was not done'));
    const idle = this.idle.splice(0).map((i) => {
      clearTimeout(i.timer);
      return stopWorker(i.worker);
    });
    // A job still running is cut short (its thread's temp dir may stay behind in /tmp).
    await Promise.all([...idle, ...[...this.busy.keys()].map((w) => w.terminate())]);
  }

  private takeNext(): Queued | undefined {
    for (const priority of ['user', 'background'] as const) {
      const at = this.queue.findIndex((q) => q.priority === priority && !q.keys.some((k) => this.keysRunning.has(k)));
      if (at !== -1) return this.queue.splice(at, 1)[0];
    }
    return undefined;
  }

  private pump(): void {
    while (!this.closed && this.busy.size < this.size) {
      const queued = this.takeNext();
      if (!queued) return;
      const worker = this.workerFor();
      const id = this.nextId++;
      for (const k of queued.keys) this.keysRunning.add(k);
      this.busy.set(worker, { queued, id });
      worker.ref();
      worker.postMessage({ id, job: queued.job });
    }
  }

  private workerFor(): Worker {
    const spare = this.idle.pop();
    if (spare) {
      clearTimeout(spare.timer);
      return spare.worker;
    }
    const worker = new Worker(this.workerUrl);
    worker.on('message', (answer: GitJobAnswer) => this.answered(worker, answer));
    worker.on('error', (e) => this.lost(worker, e));
    worker.on('exit', (code) => {
      exited.add(worker);
      this.lost(worker, new Error(`exit code ${code}`));
    });
    return worker;
  }

  private answered(worker: Worker, answer: GitJobAnswer): void {
    const running = this.busy.get(worker);
    if (!running || running.id !== answer.id) return;
    this.busy.delete(worker);
    for (const k of running.queued.keys) this.keysRunning.delete(k);
    if ('error' in answer) running.queued.reject(new CelistraError(answer.error.code, answer.error.message, answer.error.hint));
    else running.queued.resolve(answer.result);
    if (this.closed) return;
    worker.unref();
    const timer = setTimeout(() => {
      const at = this.idle.findIndex((i) => i.worker === worker);
      if (at !== -1) this.idle.splice(at, 1);
      void stopWorker(worker);
    }, this.idleMs);
    timer.unref();
    this.idle.push({ worker, timer });
    this.pump();
  }

  /** A worker that died (it should not): its job fails, saying so; the next job gets a new worker. */
  private lost(worker: Worker, why: Error): void {
    const running = this.busy.get(worker);
    const at = this.idle.findIndex((i) => i.worker === worker);
    if (at !== -1) {
      clearTimeout(this.idle[at]!.timer);
      this.idle.splice(at, 1);
    }
    if (!running) return;
    this.busy.delete(worker);
    for (const k of running.queued.keys) this.keysRunning.delete(k);
    running.queued.reject(new CelistraError('E_INTERNAL', `the daemon's git worker stopped during ${running.queued.job.op}: ${why.message}`));
    this.pump();
  }
}

const exited = new WeakSet<Worker>();

/** Ask an idle worker to end (git-worker.ts): it exits on its own, running its exit handlers. */
function stopWorker(worker: Worker): Promise<void> {
  if (exited.has(worker)) return Promise.resolve();
  return new Promise((resolve) => {
    worker.once('exit', () => resolve());
    // Kept referenced until it has gone, or the process could end with close() unresolved.
    worker.ref();
    worker.postMessage({ stop: true });
  });
}
