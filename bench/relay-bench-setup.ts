import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What the relay benches (stdio-relay.ts, terminal-relay.ts) share: their command line
 * (`[runs] [--mb N] [--baseline DIR]`) and a scratch directory with a workspace and
 * Celistra's own dirs in it, so a bench run touches nothing of the user's.
 */
export function relayBenchArgs(defaultMb: number): { runs: number; mb: number; baselineDir: string | undefined } {
  const cli = process.argv.slice(2);
  const flagValue = (name: string) => {
    const i = cli.indexOf(name);
    return i === -1 ? undefined : cli[i + 1];
  };
  const runs = Number(cli.find((a, i) => /^\d+$/.test(a) && !['--baseline', '--mb'].includes(cli[i - 1] ?? '')) ?? 10);
  return { runs, mb: Number(flagValue('--mb') ?? defaultMb), baselineDir: flagValue('--baseline') };
}

export function relayBenchScratch(prefix: string): { scratch: string; ws: string; env: Record<string, string> } {
  const scratch = mkdtempSync(join(tmpdir(), prefix));
  const ws = join(scratch, 'ws');
  mkdirSync(ws);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    HOME: join(scratch, 'home'),
    XDG_STATE_HOME: join(scratch, 'state'),
    XDG_CONFIG_HOME: join(scratch, 'config'),
    XDG_RUNTIME_DIR: join(scratch, 'run'),
  };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  mkdirSync(env.HOME!, { recursive: true });
  mkdirSync(env.XDG_RUNTIME_DIR!, { recursive: true, mode: 0o700 });
  return { scratch, ws, env };
}
