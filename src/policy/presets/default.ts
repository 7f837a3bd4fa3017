import { CelistraError } from '../errors.js';
import { PRESETS, presetNames } from './catalog.js';

/** `--preset none`: run a known agent without its preset (its state then goes where it would unfenced, mostly refused). */
export const NO_PRESET = 'none';

/**
 * The preset a command runs with: the one asked for, none for `--preset none`, else the
 * preset named like the program when it is a known agent (`claude --print ...` gets the
 * claude preset). Without its preset a real agent cannot start under the fence: it
 * would write its state into ~/.claude or ~/.codex, which the fence refuses.
 */
export function resolvePreset(asked: string | undefined, argv: readonly string[]): string | undefined {
  if (asked === NO_PRESET) return undefined;
  if (asked !== undefined) {
    if (!PRESETS[asked]) throw new CelistraError('E_POLICY', `unknown preset "${asked}"`, `known presets: ${presetNames().join(', ')}, or none`);
    return asked;
  }
  const program = programName(argv[0]);
  return program !== undefined && Object.hasOwn(PRESETS, program) ? program : undefined;
}

/** The program's name: `/usr/local/bin/claude` → claude. */
function programName(file: string | undefined): string | undefined {
  if (!file) return undefined;
  return file.slice(file.lastIndexOf('/') + 1) || undefined;
}
