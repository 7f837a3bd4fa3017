import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { FORCE_ABI_ENV, FORCE_NO_USERNS_ENV, landlockFacts, unavailability } from '../src/backends/landlock/probe.js';
import { nativeBuild } from '../src/backends/landlock/native-addon.js';
import { landlockBackend } from '../src/backends/landlock/index.js';

const real = landlockFacts({});
const skip = real.built ? false : `the native addon is not built here: ${real.buildProblem}`;

test('the probe reads the kernel ABI and user namespace support through the addon', { skip }, () => {
  assert.ok(real.kernelAbi >= 1, 'this machine offers Landlock');
  assert.equal(real.abi, Math.min(real.kernelAbi, 7));
  assert.equal(typeof real.userNamespaces, 'boolean');
});

test('the addon and the TS table agree on the rights of each ABI', { skip }, () => {
  const addon = createRequire(import.meta.url)(nativeBuild().addonPath) as { rightsForAbi(abi: number): { fs: number; net: number; scopes: number } };
  assert.deepEqual(addon.rightsForAbi(1), { fs: 0x1fff, net: 0, scopes: 0 });
  assert.deepEqual(addon.rightsForAbi(3), { fs: 0x7fff, net: 0, scopes: 0 });
  assert.deepEqual(addon.rightsForAbi(4), { fs: 0x7fff, net: 3, scopes: 0 });
  assert.deepEqual(addon.rightsForAbi(7), { fs: 0xffff, net: 3, scopes: 3 });
});

test('forcing can only take capabilities away', { skip }, () => {
  assert.equal(landlockFacts({ [FORCE_ABI_ENV]: '2' }).abi, Math.min(2, real.abi));
  assert.equal(landlockFacts({ [FORCE_ABI_ENV]: '99' }).abi, real.abi);
  const noUserns = landlockFacts({ [FORCE_NO_USERNS_ENV]: '1' });
  assert.equal(noUserns.userNamespaces, false);
  assert.match(noUserns.userNamespacesProblem ?? '', /CELISTRA_FORCE_NO_USERNS/);
});

test('a forced ABI of 0, or a malformed one, makes the backend unavailable', { skip }, () => {
  assert.match(unavailability(landlockFacts({ [FORCE_ABI_ENV]: '0' }))?.reason ?? '', /disabled/);
  assert.match(unavailability(landlockFacts({ [FORCE_ABI_ENV]: 'seven' }))?.reason ?? '', /not a number/);
  assert.match(unavailability(landlockFacts({ [FORCE_ABI_ENV]: '2', [FORCE_NO_USERNS_ENV]: '1' }))?.reason ?? '', /truncate/);
});

test('probe() reports details for doctor and never throws', () => {
  const caps = landlockBackend.probe();
  assert.equal(caps.backend, 'landlock');
  assert.equal(typeof caps.details.abi, 'number');
  if (!caps.available) assert.ok(caps.unavailableReason && caps.fix);
});
