import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { expandHome } from '../src/policy/home-path.js';

test('expandHome: ~ and ~/x under home, anything else unchanged', () => {
  assert.equal(expandHome('~', '/home/u'), '/home/u');
  assert.equal(expandHome('~/.ssh', '/home/u'), '/home/u/.ssh');
  assert.equal(expandHome('/etc/x', '/home/u'), '/etc/x');
  assert.equal(expandHome('~user/x', '/home/u'), '~user/x');
  assert.equal(expandHome('x/~/y', '/home/u'), 'x/~/y');
});

test('expandHome gives what path.join gives, for normal and odd homes and rests', () => {
  const homes = ['/home/u', '/', '/home/u/', '/home//u', '/home/./u', '/a/../home', 'rel/home', ''];
  const rests = ['.ssh', '.config/gh', '', '.', '..', '../x', 'a//b', 'a/./b', 'a/', '.a', 'a..'];
  for (const home of homes) {
    for (const rest of rests) assert.equal(expandHome(`~/${rest}`, home), join(home, rest), `~/${rest} with home ${home}`);
  }
});
