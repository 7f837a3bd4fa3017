import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { CelistraError } from '../policy/errors.js';
import { ANSWERS_DIR, CHANNEL_ENV, isFinal, parseAnswer, type ApprovalAnswer, type ApprovalAsk } from './protocol.js';

/** How long past its own timeout an asker waits for the daemon's expiry before giving up itself. */
const GRACE_MS = 5000;
/** fs.watch on the answers dir is the fast path; this poll covers a missed event. */
const POLL_MS = 200;

/**
 * The fenced side of the channel: submit one request through the agent's spool and wait
 * for its answer. Resolves with the final answer, or `undefined` when none came in time.
 */
export async function askAndWait(ask: ApprovalAsk, env: NodeJS.ProcessEnv, onPending?: (id: string) => void): Promise<ApprovalAnswer | undefined> {
  const dir = env[CHANNEL_ENV];
  if (!dir) {
    throw new CelistraError('E_DAEMON', `no approval channel: ${CHANNEL_ENV} is not set`, 'approvals work for agents the daemon runs: celistra ctl spawn ...');
  }
  const key = randomBytes(12).toString('hex');
  const answerPath = join(dir, ANSWERS_DIR, `${key}.json`);
  const tmp = join(dir, `.${key}.tmp`);
  try {
    writeFileSync(tmp, JSON.stringify(ask), { flag: 'wx', mode: 0o600 });
    renameSync(tmp, join(dir, `${key}.json`));
  } catch (e) {
    throw new CelistraError('E_DAEMON', `cannot submit the request through ${dir}: ${(e as Error).message}`);
  }
  const deadline = Date.now() + ask.timeoutSec * 1000 + GRACE_MS;
  return new Promise((resolve) => {
    let pendingSeen = false;
    let watcher: FSWatcher | undefined;
    let done = false;
    const finish = (a: ApprovalAnswer | undefined) => {
      if (done) return;
      done = true;
      clearInterval(poll);
      clearTimeout(timer);
      watcher?.close();
      resolve(a);
    };
    const check = () => {
      let text: string;
      try {
        text = readFileSync(answerPath, 'utf8');
      } catch {
        return;
      }
      const a = parseAnswer(text);
      if (!a) return;
      if (isFinal(a)) finish(a);
      else if (!pendingSeen) {
        pendingSeen = true;
        onPending?.(a.id);
      }
    };
    try {
      watcher = watch(join(dir, ANSWERS_DIR), check);
      watcher.on('error', () => undefined);
    } catch {
      // Polling alone answers too.
    }
    const poll = setInterval(check, POLL_MS);
    const timer = setTimeout(() => finish(undefined), Math.max(0, deadline - Date.now()));
    check();
  });
}
