import { allGaps, type Backend } from '../../core/backend.js';
import { CelistraError } from '../../core/errors.js';

// Placeholder until the bwrap backend lands; it is never available, so nothing runs through it.
export const bwrapBackend: Backend = {
  name: 'bwrap',
  probe: () => ({ backend: 'bwrap', available: false, unavailableReason: 'not built yet', details: {}, guarantees: allGaps('not built yet') }),
  plan: () => {
    throw new CelistraError('E_NO_BACKEND', 'bwrap backend not built yet');
  },
};
