/**
 * Terminals outside /dev/pts under the Landlock backend (native/src/landlock-ruleset.c):
 * the host's /dev holds the virtual and serial consoles (/dev/ttyN, /dev/ttyS*,
 * /dev/console) and their screen memory (/dev/vcs*). A console login gives the user
 * their /dev/ttyN; root owns the rest. The fence granted read of all of / (with
 * namespaces) or of everything but /dev/pts (without), so a fenced command could open
 * them for reading and take the keystrokes typed there: found by attack (issue 15,
 * "can the command still reach the user's terminal"), /dev/tty1 and /dev/console as
 * root on both modes, and a VT owned by the test user as that user. Bwrap builds its own
 * /dev and has none of them.
 *
 * Run as root it checks the consoles root owns; unprivileged, only those the user could
 * open outside the fence (usually none: the test then skips, saying so).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, constants as fsConstants, openSync, readdirSync, statSync } from 'node:fs';
import { runCelistra } from '../support/celistra-cli.js';
import { fenceStage } from '../support/fence-stage.js';
import { landlockBackend } from '../../src/backends/landlock/index.js';

const caps = landlockBackend.probe();
const MODES: { name: string; env: Record<string, string> }[] = [
  { name: 'with user namespaces', env: {} },
  { name: 'Landlock only (user namespaces forced off)', env: { CELISTRA_FORCE_NO_USERNS: '1', CELISTRA_LANDLOCK_ROOT_WITHOUT_USERNS: 'accept-metadata-gap' } },
];

/** Console terminals and screen memory this process can open for reading outside the fence. */
function openableConsoles(): string[] {
  const names = readdirSync('/dev').filter((n) => /^(console|tty\d+|ttyS\d+|vcsa?\d*|vcsu\d*)$/.test(n)).slice(0, 24);
  return names.map((n) => `/dev/${n}`).filter((p) => {
    try {
      if (!statSync(p).isCharacterDevice()) return false;
      closeSync(openSync(p, fsConstants.O_RDONLY | fsConstants.O_NOCTTY | fsConstants.O_NONBLOCK));
      return true;
    } catch {
      return false;
    }
  });
}

const consoles = caps.available ? openableConsoles() : [];
const skip = !caps.available ? `landlock backend unavailable here: ${caps.unavailableReason}` : consoles.length === 0 ? 'no console terminal (/dev/ttyN, /dev/console, /dev/vcs*) this user can open outside the fence, so nothing to attack' : false;

for (const mode of MODES) {
  test(`${mode.name}: the host's console terminals cannot be opened for reading, and stay as they were`, { skip }, () => {
    const s = fenceStage('celistra-landlock-consoles-');
    try {
      const before = consoles.map((p) => statSync(p));
      // Each open is non-blocking: a console opened by mistake must not hold the test on its input.
      const script = 'import os, sys\nfor p in sys.argv[1:]:\n  try:\n    os.close(os.open(p, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)); print("OPENED", p)\n  except OSError as e:\n    print(p, os.strerror(e.errno))\n';
      const r = runCelistra(['run', '--backend', 'landlock', '--workspace', s.ws, '--', 'python3', '-c', script, ...consoles], { env: { ...s.env, ...mode.env } });
      assert.equal(r.status, 0, r.stderr.toString());
      const out = r.stdout.toString();
      assert.doesNotMatch(out, /OPENED/, out);
      for (const p of consoles) assert.match(out, new RegExp(`${p} Permission denied`), out);
      const after = consoles.map((p) => statSync(p));
      assert.deepEqual(after.map((st) => [st.mode, st.uid, st.gid, st.ctimeMs]), before.map((st) => [st.mode, st.uid, st.gid, st.ctimeMs]));
    } finally {
      s.cleanup();
    }
  });

  test(`${mode.name}: the device files a program needs still work beside them`, { skip: caps.available ? false : `landlock backend unavailable here: ${caps.unavailableReason}` }, () => {
    const s = fenceStage('celistra-landlock-devices-');
    try {
      const r = runCelistra(['run', '--backend', 'landlock', '--workspace', s.ws, '--', 'sh', '-c', 'echo x > /dev/null && head -c 8 /dev/urandom | wc -c && head -c 3 /dev/zero | wc -c && ls /dev/fd/ >/dev/null && echo fd-ok; (: < /dev/tty) 2>&1 | grep -q "No such device" && echo no-ctty'], { env: { ...s.env, ...mode.env } });
      assert.equal(r.status, 0, r.stderr.toString());
      assert.equal(r.stdout.toString(), '8\n3\nfd-ok\nno-ctty\n');
    } finally {
      s.cleanup();
    }
  });
}
