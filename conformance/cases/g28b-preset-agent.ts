import { fileURLToPath } from 'node:url';
import type { Case } from '../case.js';
import { sh } from '../quoting.js';

const CLAUDE = fileURLToPath(new URL('../../../node_modules/.bin/claude', import.meta.url));

/** A preset agent starts under the fence with its preset's home paths. */
const c: Case = {
  id: '28b',
  title: 'a preset agent starts: claude --version with the claude preset',
  section: 'G',
  expect: 'allow',
  launch: { preset: 'claude', names: [CLAUDE] },
  attempts: () => [
    {
      name: 'claude --version',
      via: 'sh',
      timeoutMs: 60_000,
      script: `${sh(CLAUDE)} --version`,
      verify: (o) => (/\d+\.\d+\.\d+/.test(o.stdout) ? undefined : `no version printed: ${o.stdout.trim()} ${o.stderr.trim()}`),
    },
  ],
};
export default c;
