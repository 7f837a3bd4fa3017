import { CelistraError } from '../policy/errors.js';
import { TERMINAL_ALLOWANCES, type TerminalAllowance } from './output-filter.js';

/**
 * `--allow-terminal title,clipboard,notify` / the API's `terminalAllow` (a list or one
 * comma-separated string): which of an agent's titles, clipboard writes and notifications
 * reach attached terminals (sanitized, terminal/output-filter.ts). Unknown words are refused.
 */
export function parseTerminalAllow(value: unknown): TerminalAllowance[] {
  if (value === undefined || value === null || value === '') return [];
  const words = typeof value === 'string' ? value.split(',') : Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
  if (!words) throw new CelistraError('E_USAGE', 'terminalAllow must be a list of title, clipboard, notify');
  const out = new Set<TerminalAllowance>();
  for (const raw of words) {
    const w = raw.trim();
    if (w === '') continue;
    if (!(TERMINAL_ALLOWANCES as readonly string[]).includes(w)) {
      throw new CelistraError('E_USAGE', `unknown terminal allowance ${JSON.stringify(w)}`, `choose from: ${TERMINAL_ALLOWANCES.join(', ')}`);
    }
    out.add(w as TerminalAllowance);
  }
  return TERMINAL_ALLOWANCES.filter((a) => out.has(a));
}
