/**
 * The audit log keeps which environment variables an agent got, never their values:
 * values are where API keys and tokens live.
 */
export function redactEnv(env: Record<string, string | undefined>): string[] {
  return Object.keys(env)
    .filter((name) => env[name] !== undefined)
    .sort();
}

/**
 * Applied to every event's data before it is stored, whoever the caller is: an `env`
 * given as an object of name → value is reduced to its names, so a caller that forgets
 * redactEnv() still cannot write a secret into the log.
 */
export function redactEventData(data: Record<string, unknown>): Record<string, unknown> {
  const env = data.env;
  if (env === null || typeof env !== 'object' || Array.isArray(env)) return data;
  return { ...data, env: redactEnv(env as Record<string, string | undefined>) };
}
