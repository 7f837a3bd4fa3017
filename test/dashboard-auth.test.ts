import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DashboardAuth, LOGIN_TOKEN_TTL_MS, SESSION_TTL_MS, sessionCookie, sessionFromCookie } from '../src/daemon/dashboard/auth.js';

test('a login token gives one session and is spent by its first use', () => {
  const auth = new DashboardAuth();
  const { token } = auth.issueLoginToken();
  const session = auth.exchange(token);
  assert.ok(session && auth.isSession(session));
  assert.equal(auth.exchange(token), undefined, 'the second use is refused');
});

test('a login token older than its lifetime is refused', () => {
  let now = 1_000_000;
  const auth = new DashboardAuth(() => now);
  const { token, expiresAt } = auth.issueLoginToken();
  assert.equal(expiresAt, 1_000_000 + LOGIN_TOKEN_TTL_MS);
  now += LOGIN_TOKEN_TTL_MS + 1;
  assert.equal(auth.exchange(token), undefined);
});

test('a session ends after its lifetime', () => {
  let now = 1_000_000;
  const auth = new DashboardAuth(() => now);
  const session = auth.exchange(auth.issueLoginToken().token)!;
  now += SESSION_TTL_MS + 1;
  assert.equal(auth.isSession(session), false);
});

test('made-up tokens and sessions are refused', () => {
  const auth = new DashboardAuth();
  auth.issueLoginToken();
  assert.equal(auth.exchange(''), undefined);
  assert.equal(auth.exchange('x'.repeat(43)), undefined);
  assert.equal(auth.isSession(undefined), false);
  assert.equal(auth.isSession('x'.repeat(43)), false);
});

test('the session cookie is HttpOnly and SameSite=Strict, and is read back from a Cookie header', () => {
  const cookie = sessionCookie('abc');
  assert.match(cookie, /; HttpOnly/);
  assert.match(cookie, /; SameSite=Strict/);
  assert.equal(sessionFromCookie('theme=dark; celistra_session=abc; x=y'), 'abc');
  assert.equal(sessionFromCookie('other_celistra_session=abc'), undefined);
});
