import type { ArgsDef } from 'citty';
import { repeatedFlag, unknownFlags } from './argv.js';
import { CelistraError } from '../policy/errors.js';

/**
 * A command's options as plain data: one table drives both the fast parser below (what
 * `celistra run` uses on every fenced command, without loading citty) and citty's
 * `--help` text (cittyArgs), so the two cannot drift apart. Adding an option is one
 * entry.
 */
export interface StringFlag {
  type: 'string';
  description: string;
  valueHint?: string;
  default?: string;
  /** Every occurrence counts (`--allow-write a --allow-write b`), read as repeatedFlag() does. */
  repeatable?: true;
}

export interface BooleanFlag {
  type: 'boolean';
  description: string;
}

export type FlagSpec = StringFlag | BooleanFlag;
export type FlagTable = Record<string, FlagSpec>;

/**
 * What a flag parses to. `--no-NAME` reads as `false` for any flag, string ones included
 * (citty's reading, kept so that `--no-net` still fails as `--net must be on or off, not
 * "false"`). A string flag given without a value (last argument) is the empty string.
 */
export type FlagValue<S extends FlagSpec> = S extends BooleanFlag
  ? boolean
  : S extends { repeatable: true }
    ? string[]
    : S extends { default: string }
      ? string | false
      : string | false | undefined;

export type FlagValues<T extends FlagTable> = { -readonly [K in keyof T]: FlagValue<T[K]> };

export interface ParsedArgs<T extends FlagTable> {
  flags: FlagValues<T>;
  /** Everything after the first `--`: the command, never read for flags. */
  command: string[];
}

/**
 * Parses `rawArgs` exactly as citty 0.2 (node:util parseArgs, strict: false) did for
 * the same table, with repeatable flags read by repeatedFlag(): same values for every
 * input, so every message and exit status stays as it was. What that means:
 * - a string flag takes the next argument as its value whatever it looks like
 *   (`--name --` names the agent `--`); `--flag=value` splits at the first `=`;
 * - the last occurrence wins for flags that are not repeatable;
 * - a boolean with `=value` is true unless the value is `false`;
 * - `--no-NAME` before the first `--` sets NAME to false after everything else;
 * - single-dash arguments never set a flag (no table has one-letter names);
 * - an unknown flag before the first `--` is a usage error, the first one named.
 */
export function parseFlags<T extends FlagTable>(table: T, rawArgs: string[], helpCommand: string): ParsedArgs<T> {
  const unknown = unknownFlags(rawArgs, Object.keys(table));
  if (unknown.length) throw new CelistraError('E_USAGE', `unknown option --${unknown[0]}`, `${helpCommand} lists the options; the command goes after --`);

  const firstDashes = rawArgs.indexOf('--');
  const ownEnd = firstDashes === -1 ? rawArgs.length : firstDashes;
  const negated: string[] = [];
  // `--no-NAME` is taken out before anything else reads the arguments, as citty does, so
  // it never becomes the value of the flag before it.
  const args: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (i < ownEnd && arg.startsWith('--no-')) negated.push(arg.slice('--no-'.length));
    else args.push(arg);
  }

  const camelNames = new Map(Object.keys(table).map((name) => [name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), name]));
  const values: Record<string, string | boolean | string[] | undefined> = {};
  const camelValues: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    // A `--` taken as a flag's value above does not end the options; this one does.
    if (arg === '--') break;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    const given = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    // citty also took `--allowWrite` for `--allow-write`. Before the first `--` that
    // spelling is refused above; after a `--` taken as a value it still counts.
    const name = Object.hasOwn(table, given) ? given : camelNames.get(given);
    if (name === undefined) continue;
    const spec = table[name]!;
    const into = name === given ? values : camelValues;
    if (spec.type === 'boolean') {
      into[name] = eq === -1 ? true : arg.slice(eq + 1) !== 'false';
      continue;
    }
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (i + 1 < args.length) value = args[++i]!;
    else value = '';
    if (!spec.repeatable) into[name] = value;
  }

  for (const [name, spec] of Object.entries(table)) {
    values[name] ??= camelValues[name];
    if (spec.type === 'string' && spec.repeatable) values[name] = repeatedFlag(rawArgs, name);
    else if (spec.type === 'boolean') values[name] ??= false;
    else values[name] ??= spec.default;
  }
  for (const name of negated) {
    const spec = Object.hasOwn(table, name) ? table[name] : undefined;
    if (spec !== undefined && !(spec.type === 'string' && spec.repeatable)) values[name] = false;
  }
  return { flags: values as FlagValues<T>, command: firstDashes === -1 ? [] : rawArgs.slice(firstDashes + 1) };
}

/** The table as citty's `args`, for `--help` (citty renders it in this order). */
export function cittyArgs(table: FlagTable): ArgsDef {
  const args: ArgsDef = {};
  for (const [name, spec] of Object.entries(table)) {
    if (spec.type === 'boolean') args[name] = { type: 'boolean', description: spec.description };
    else {
      args[name] = { type: 'string', description: spec.description };
      if (spec.valueHint !== undefined) args[name].valueHint = spec.valueHint;
      if (spec.default !== undefined) args[name].default = spec.default;
    }
  }
  return args;
}
