import { defineCommand } from 'citty';
import { CelistraError } from '../core/errors.js';
import { runCommand } from './command.js';

// Placeholder until this command lands: it refuses rather than pretending to work.
export default defineCommand({
  meta: { name: 'conformance', description: '(not available yet)' },
  run: () => runCommand(async () => {
    throw new CelistraError('E_USAGE', '`celistra conformance` is not available in this build yet');
  }),
});
