import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const RELAY = pathToFileURL(join(import.meta.dirname, '..', '..', 'src', 'run', 'stdio-relay.js')).href;

/**
 * A module for `node --input-type=module -e` that runs `sh -c "$CMD"` behind the stdio
 * relay (src/run/stdio-relay.ts) with `routes`, as `celistra run` does, and exits with
 * the command's status once the relay has finished. No sandbox: the relay is Celistra's
 * own process.
 */
export function relayScript(routes: ['inherit' | 'relay', 'inherit' | 'relay', 'inherit' | 'relay']): string {
  return `
import { prepareStdioRelay } from ${JSON.stringify(RELAY)};
import { spawn } from 'node:child_process';
const relay = prepareStdioRelay({ routes: ${JSON.stringify(routes)}, sharedOutput: false });
const child = spawn('sh', ['-c', process.env.CMD], { stdio: relay.stdio });
relay.start(child);
child.once('exit', async (code) => { await relay.finish(); process.exit(code ?? 99); });
`;
}
