#!/usr/bin/env node
// The package's install script: builds the Landlock addon and the exec helper
// (native/binding.gyp, native/build-helper.sh) with the node-gyp npm provides to install
// scripts. Linux only: the other platforms' backends (Seatbelt, bubblewrap) need nothing
// built. A failed build fails the install with what to install: a package that installs
// "fine" without its sandbox would only refuse later, and npm hides the output of
// install scripts that succeed, so a warning here would never be read.
import { spawnSync } from 'node:child_process';

if (process.platform !== 'linux') process.exit(0);

const gyp = spawnSync('node-gyp', ['rebuild', '--directory', 'native'], { stdio: 'inherit' });
if (gyp.status === 0) process.exit(0);

const why = gyp.error?.code === 'ENOENT' ? 'node-gyp was not found (npm puts it on the PATH of install scripts; run this through npm)' : 'node-gyp failed (its output is above)';
process.stderr.write(
  [
    '',
    `celistra: the native addon and exec helper (Landlock backend) could not be built: ${why}.`,
    'It needs a C/C++ toolchain and Python 3. On Debian/Ubuntu: apt-get install -y build-essential python3',
    'then install celistra again (in a checkout: npm rebuild).',
    '`celistra doctor` shows what each backend needs.',
    '',
  ].join('\n'),
);
process.exit(1);
