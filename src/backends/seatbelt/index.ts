import { allGaps, type Backend } from '../../core/backend.js';
import { CelistraError } from '../../core/errors.js';

// Placeholder until the seatbelt backend lands; it is never available, so nothing runs through it.
export const seatbeltBackend: Backend = {
  name: 'seatbelt',
  probe: () => ({ backend: 'seatbelt', available: false, unavailableReason: 'not built yet', details: {}, guarantees: allGaps('not built yet') }),
  plan: () => {
    throw new CelistraError('E_NO_BACKEND', 'seatbelt backend not built yet');
  },
};
