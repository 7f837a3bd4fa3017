import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (or CELISTRA_CHROMIUM), headless, as the dashboard's browser tests drive it; exits 2 saying why when there is none. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = [process.env.CELISTRA_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
  if (!executablePath) {
    process.stderr.write('no chromium (apt-get install chromium, or set CELISTRA_CHROMIUM)\n');
    process.exit(2);
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu'],
  });
}

/** `--NAME N` from the command line, or the default. */
export function numberFlag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
}
