import { childProcess } from '../../lazy/child-process.js';

/**
 * How native/build-helper.sh built celistra-exec ("static, musl"), as the helper itself
 * reports it; for `celistra doctor` only (a spawn, kept off every run's path, where
 * node:child_process is not even loaded).
 */
export function helperBuild(helperPath: string): string {
  const r = childProcess().spawnSync(helperPath, ['--build'], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) return 'unknown (a helper older than its sources? run npm rebuild celistra)';
  const build = r.stdout.trim();
  // glibc's start-up costs the helper ~0.5 ms a run on a virtual machine (build-helper.sh).
  return build.endsWith(', musl') ? build : `${build} (with musl-gcc installed, e.g. apt-get install musl-tools, npm rebuild celistra gives a helper that starts ~0.5 ms sooner)`;
}
