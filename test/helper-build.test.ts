import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { landlockFacts } from '../src/backends/landlock/probe.js';
import { nativeBuild } from '../src/backends/landlock/native-addon.js';
import { helperBuild } from '../src/backends/landlock/helper-build.js';

const facts = landlockFacts({});
const skip = facts.built ? false : `the native addon is not built here: ${facts.buildProblem}`;

test('doctor names how the helper was built, and the musl build wherever musl-gcc is installed', { skip }, () => {
  const build = helperBuild(nativeBuild().helperPath);
  assert.match(build, /^(static|static-pie|dynamic), (musl|glibc)/);
  const muslInstalled = spawnSync('musl-gcc', ['--version'], { stdio: 'ignore' }).status === 0;
  if (muslInstalled) assert.equal(build, 'static, musl', 'musl-gcc is installed: a helper built before it was needs `npm rebuild` (native/build-helper.sh)');
  else assert.match(build, /apt-get install musl-tools/);
});

test('a helper that cannot say (built before --build existed) is reported as unknown, with the fix', () => {
  assert.match(helperBuild('/bin/false'), /^unknown .*npm rebuild celistra/);
});
