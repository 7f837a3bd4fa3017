import { readFileSync } from 'node:fs';
import { CelistraError } from '../policy/errors.js';

/**
 * Environment given to one agent (`ctl spawn --env KEY=VAL`, `--env-file F`): its model,
 * key and endpoint settings. Values are secrets as often as not: the audit log records
 * only the names (as for every agent's environment), and `ctl ls` shows only the names.
 */
export type AgentEnv = Record<string, string>;

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function validateEnvKey(key: string, where: string): string {
  if (!KEY.test(key)) throw new CelistraError('E_USAGE', `invalid environment variable name ${JSON.stringify(key)} in ${where}`, 'names are letters, digits and "_", not starting with a digit');
  return key;
}

/** `KEY=VAL` as given on the command line (the value may hold `=` and be empty). */
export function parseEnvAssignment(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new CelistraError('E_USAGE', `--env takes KEY=VALUE, not ${JSON.stringify(text)}`);
  return [validateEnvKey(text.slice(0, eq), '--env'), text.slice(eq + 1)];
}

/**
 * An env file as docker and systemd read them: `KEY=VALUE` a line, blank lines and `#`
 * comments skipped, an optional `export ` before the name, and one pair of matching
 * quotes around the value removed (nothing inside is expanded).
 */
export function parseEnvFile(path: string): AgentEnv {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CelistraError('E_USAGE', `cannot read the env file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const env: AgentEnv = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const body = line.startsWith('export ') ? line.slice('export '.length).trimStart() : line;
    const eq = body.indexOf('=');
    if (eq <= 0) throw new CelistraError('E_USAGE', `${path}:${i + 1}: expected KEY=VALUE`);
    const key = validateEnvKey(body.slice(0, eq).trimEnd(), `${path}:${i + 1}`);
    let value = body.slice(eq + 1).trimStart();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0]!)) value = value.slice(1, -1);
    env[key] = value;
  });
  return env;
}

/** The daemon's check of what a client sent: a flat object of string values with valid names. */
export function validateAgentEnv(value: unknown): AgentEnv | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new CelistraError('E_USAGE', '"env" must be an object of strings');
  const env: AgentEnv = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new CelistraError('E_USAGE', `env ${k} must be a string`);
    if (v.includes('\0')) throw new CelistraError('E_USAGE', `env ${k} holds a NUL byte`);
    env[validateEnvKey(k, 'env')] = v;
  }
  return Object.keys(env).length ? env : undefined;
}
