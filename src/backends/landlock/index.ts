import { allGaps, type Backend } from '../../core/backend.js';
import { CelistraError } from '../../core/errors.js';

// Placeholder until the landlock backend lands; it is never available, so nothing runs through it.
export const landlockBackend: Backend = {
  name: 'landlock',
  probe: () => ({ backend: 'landlock', available: false, unavailableReason: 'not built yet', details: {}, guarantees: allGaps('not built yet') }),
  plan: () => {
    throw new CelistraError('E_NO_BACKEND', 'landlock backend not built yet');
  },
};
