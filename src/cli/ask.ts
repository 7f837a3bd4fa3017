import { defineCommand } from 'citty';
import { CelistraError } from '../policy/errors.js';
import { askAndWait } from '../approvals/asker.js';
import { claudePreToolUse } from '../approvals/claude-hook.js';
import { DEFAULT_TIMEOUT_SEC, MAX_TIMEOUT_SEC, parseAsk, type ApprovalAsk } from '../approvals/protocol.js';
import { runCommand } from './command.js';

/** Exit statuses a script tests: approved, denied (or refused, stale), timed out. */
const APPROVED = 0;
const DENIED = 1;
const TIMED_OUT = 2;

export default defineCommand({
  meta: {
    name: 'ask',
    description: 'Inside an agent run by the daemon: ask a person, and wait. Exits 0 approved, 1 denied, 2 timed out.',
  },
  args: {
    text: { type: 'positional', required: false, description: 'the question, one line: "push to origin/main?"' },
    detail: { type: 'string', description: 'more text for the person (the diff, the command in full)' },
    timeout: { type: 'string', description: 'seconds to wait; then the request expires as denied', default: String(DEFAULT_TIMEOUT_SEC) },
    tool: { type: 'string', description: 'the tool asking (matched by the agent\'s --approve rules), default "ask"' },
    input: { type: 'string', description: 'the tool\'s input as a JSON object, e.g. \'{"command":"git push"}\'', valueHint: 'JSON' },
    hook: { type: 'string', description: 'answer an agent\'s hook on stdin instead: claude (a PreToolUse hook)', valueHint: 'AGENT' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      if (args.hook !== undefined) {
        if (args.hook !== 'claude') throw new CelistraError('E_USAGE', `unknown hook "${args.hook}"`, 'the one hook built in: --hook claude');
        process.stdout.write(await claudePreToolUse(await readStdin(), process.env));
        return 0;
      }
      if (args.text === undefined) throw new CelistraError('E_USAGE', 'no question given', 'usage: celistra ask "text" [--detail TEXT] [--timeout 300] [--tool T]');
      let input: unknown;
      if (args.input !== undefined) {
        try {
          input = JSON.parse(args.input);
        } catch {
          throw new CelistraError('E_USAGE', '--input must be a JSON object');
        }
      }
      const timeoutSec = Number(args.timeout);
      if (!/^\d+$/.test(String(args.timeout)) || timeoutSec < 1 || timeoutSec > MAX_TIMEOUT_SEC) {
        throw new CelistraError('E_USAGE', `--timeout must be a whole number of seconds, 1 to ${MAX_TIMEOUT_SEC}, not "${String(args.timeout)}"`);
      }
      const checked = parseAsk(JSON.stringify({ v: 1, text: args.text, detail: args.detail, tool: args.tool, input, timeoutSec }));
      if (typeof checked === 'string') throw new CelistraError('E_USAGE', checked.replace(/"(\w+)"/, '--$1'));
      const ask: ApprovalAsk = checked;
      const answer = await askAndWait(ask, process.env, (id) => process.stderr.write(`celistra: waiting for a person to answer request ${id} (celistra approve ${id} / celistra deny ${id})\n`));
      if (!answer) {
        process.stderr.write('celistra: no answer in time\n');
        return TIMED_OUT;
      }
      const why = answer.reason ? `: ${answer.reason}` : '';
      process.stderr.write(`celistra: request ${answer.id || '(refused)'} ${answer.state}${answer.by ? ` by ${answer.by}` : ''}${why}\n`);
      if (answer.state === 'approved') return APPROVED;
      if (answer.state === 'expired') return TIMED_OUT;
      return DENIED;
    }),
});

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}
