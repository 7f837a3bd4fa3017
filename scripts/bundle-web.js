// Bundles the browser dashboard (web/) into dist/web/, which the daemon serves
// (src/daemon/dashboard/server.ts): one script, one stylesheet (xterm.js's included),
// the page shell. Everything the page loads comes from the daemon; no CDN.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/web', { recursive: true, force: true });
mkdirSync('dist/web', { recursive: true });
await build({
  entryPoints: { app: 'web/main.ts' },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  outdir: 'dist/web',
  logLevel: 'warning',
});
await build({ entryPoints: { app: 'web/app.css' }, bundle: true, minify: true, outdir: 'dist/web', logLevel: 'warning' });
copyFileSync('web/index.html', 'dist/web/index.html');
