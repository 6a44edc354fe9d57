// Account security in real Chromium: two-factor at sign-in, an agent's own sessions, and the
// administrator's levers on another agent's.
//
// The server runs with a one-second heartbeat, so a console whose session ends is told within
// about a second. TOTP codes are computed here (RFC 6238, tests/browser/totp.mjs); the server
// takes each step's code once and the current step ±1, so turning two-factor on uses this
// step's code and the sign-in after it the next step's.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Switchboard, api, launchBrowser, waitFor, watchErrors } from './harness.mjs';
import { totp, totpStep, wrongCode } from './totp.mjs';

const GRACE = { name: 'Grace Hopper', email: 'grace@northwind.example', password: 'grace-password-1' };
const ALAN = { name: 'Alan Turing', email: 'alan@northwind.example', password: 'alan-password-1' };
const KATHERINE = { name: 'Katherine Johnson', email: 'katherine@northwind.example', password: 'katherine-password-1' };
const TOKEN_KEY = 'switchboard.console.token';

let server;
let browser;
let adminToken;
const errors = [];

before(async () => {
  server = await Switchboard.start({ SWITCHBOARD_WS_HEARTBEAT_SECS: '1' });
  browser = await launchBrowser();
  adminToken = (await api(server, 'POST', '/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).token;
  for (const agent of [GRACE, ALAN, KATHERINE]) {
    await api(server, 'POST', '/v1/admin/agents', { ...agent, role: 'agent', max_concurrent: 2 }, adminToken);
  }
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const text = async (locator) => ((await locator.textContent()) ?? '').trim();
const focusedTestId = (page) => page.evaluate(() => document.activeElement?.dataset?.testid ?? document.activeElement?.id ?? null);

/** Resolves once every finite animation and transition on the page has ended. */
function settled(page) {
  return page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((animation) => animation.effect?.getComputedTiming().iterations !== Infinity)
        .map((animation) => animation.finished.catch(() => {})),
    ),
  );
}

/** Records the page's requests to `/v1/…` as "METHOD path". */
function recordRequests(page) {
  const requests = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/v1/')) requests.push(`${request.method()} ${url.pathname}`);
  });
  return requests;
}

/** A new browser (own storage) with the console open on the sign-in form. */
async function openConsole(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  const page = await context.newPage();
  watchErrors(page, errors);
  await page.goto(`${server.base}/agent`);
  await page.getByTestId('login-email').waitFor();
  return page;
}

/** Signs in with email and password (no code) and waits for the connected console. */
async function signIn(page, who) {
  await page.getByTestId('login-email').fill(who.email);
  await page.getByTestId('login-password').fill(who.password);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
  assert.equal(await text(page.getByTestId('agent-name')), who.name);
}

async function openSecurity(page) {
  await page.getByTestId('security-open').click();
  const dialog = page.getByTestId('security-dialog');
  await dialog.waitFor();
  return dialog;
}

const overflow = (page) =>
  page.evaluate(() => {
    const dialog = document.querySelector('[data-testid="security-dialog"]');
    return { page: document.documentElement.scrollWidth - document.documentElement.clientWidth, dialog: dialog ? dialog.scrollWidth - dialog.clientWidth : 0 };
  });

test('an agent turns on two-factor in the console, then signs in with a code', async () => {
  const page = await openConsole();
  const requests = recordRequests(page);
  await signIn(page, GRACE);

  // Account security from the top bar: two-factor off, one session (this one).
  const dialog = await openSecurity(page);
  assert.equal(await page.getByTestId('security-open').getAttribute('aria-haspopup'), 'dialog');
  await page.locator('[data-testid="security-2fa-state"][data-state="off"]').waitFor();
  assert.equal(await text(page.getByTestId('security-2fa-state')), 'Off');
  await page.locator('[data-testid="security-session"][data-current="true"]').waitFor();
  assert.equal(await page.getByTestId('security-session').count(), 1);
  assert.equal(await page.getByTestId('security-revoke-others').isVisible(), false, 'nobody else to sign out');

  // Turning it on: the key in groups of four and an otpauth:// link, then a code.
  await page.getByTestId('security-2fa-start').click();
  await page.getByTestId('security-2fa-setup').waitFor();
  const grouped = await text(page.getByTestId('security-2fa-secret'));
  assert.match(grouped, /^[A-Z2-7]{4}( [A-Z2-7]{4})*( [A-Z2-7]{1,3})?$/, `grouped in fours: ${grouped}`);
  const secret = grouped.replace(/ /g, '');
  assert.ok(secret.length >= 16, secret);
  const href = await page.getByTestId('security-2fa-link').getAttribute('href');
  const uri = new URL(href);
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.searchParams.get('secret'), secret, 'the link carries the key shown');
  assert.equal(await focusedTestId(page), 'security-2fa-code', 'the code box has the focus');
  assert.equal(await page.getByTestId('security-2fa-code').getAttribute('inputmode'), 'numeric');
  assert.equal(await page.getByTestId('security-2fa-code').getAttribute('autocomplete'), 'one-time-code');
  await settled(page);
  await page.screenshot({ path: join(ARTIFACTS, 'agent-console-2fa-setup.png') });

  // Five digits are refused without a request; a wrong code by the server, in words.
  const enables = () => requests.filter((request) => request === 'POST /v1/me/two-factor/enable').length;
  await page.getByTestId('security-2fa-code').fill('12345');
  await page.getByTestId('security-2fa-enable').click();
  await page.getByTestId('security-2fa-error').getByText('The code is 6 digits, such as 123456.').waitFor();
  assert.equal(await page.getByTestId('security-2fa-code').getAttribute('aria-invalid'), 'true');
  assert.equal(enables(), 0);
  await page.getByTestId('security-2fa-code').fill(wrongCode(secret));
  await page.getByTestId('security-2fa-enable').click();
  await page.getByTestId('security-2fa-error').getByText('That code is wrong or was already used.', { exact: false }).waitFor();
  assert.equal(enables(), 1);
  assert.equal(await page.getByTestId('security-2fa-code').inputValue(), '', 'the wrong code is emptied');

  // This step's code turns it on; the key leaves the page.
  const step = totpStep();
  await page.getByTestId('security-2fa-code').fill(totp(secret, step));
  await page.getByTestId('security-2fa-code').press('Enter');
  await page.locator('[data-testid="security-2fa-state"][data-state="on"]').waitFor();
  assert.equal(await text(page.getByTestId('security-2fa-state')), 'On');
  assert.match(await text(page.getByTestId('security-2fa-done')), /^Two-factor authentication is on\./);
  assert.equal(await page.getByTestId('security-2fa-setup').isVisible(), false);
  assert.equal(await page.getByTestId('security-2fa-secret').textContent(), '', 'no key in the page any more');
  const token = await page.evaluate((key) => localStorage.getItem(key), TOKEN_KEY);
  assert.equal((await api(server, 'GET', '/v1/me/two-factor', undefined, token)).enabled, true);

  // Escape closes the dialog and gives the focus back to the button.
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await focusedTestId(page), 'security-open');

  // Signed out and in again: the password first, then the code.
  await page.getByTestId('logout').click();
  await page.getByTestId('login-email').fill(GRACE.email);
  await page.getByTestId('login-password').fill(GRACE.password);
  assert.equal(await page.getByTestId('login-totp-field').isVisible(), false, 'no code field before the password was checked');
  await page.getByTestId('login-submit').click();
  const code = page.getByTestId('login-totp');
  await code.waitFor();
  await waitFor('the code box to have the focus', async () => (await focusedTestId(page)) === 'login-totp');
  assert.equal(await code.getAttribute('inputmode'), 'numeric');
  assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
  assert.match(await text(page.locator('#login-totp-hint')), /Enter the 6-digit code from your authenticator app/);
  assert.equal(await page.getByTestId('login-error').isVisible(), false, 'asking for the code is no error');
  await page.screenshot({ path: join(ARTIFACTS, 'agent-console-login-code.png') });

  // A wrong code: a readable notice, the field emptied and marked.
  await code.fill(wrongCode(secret, step + 1));
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-error').getByText('That code is wrong or was already used.', { exact: false }).waitFor();
  assert.equal(await code.getAttribute('aria-invalid'), 'true');
  assert.equal(await code.inputValue(), '');
  assert.equal(await page.locator('#app').isVisible(), false, 'still signed out');

  // The code of this step was spent turning it on: the next step's code signs in.
  await code.fill(totp(secret, step + 1));
  await code.press('Enter');
  await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
  assert.equal(await text(page.getByTestId('agent-name')), GRACE.name);

  // The same code again is refused by the server (each code once), with the same notice.
  const again = await fetch(`${server.base}/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: GRACE.email, password: GRACE.password, totp: totp(secret, step + 1) }) });
  assert.equal(again.status, 401);
  assert.equal((await again.json()).error.code, 'invalid_totp');

  // The dialog on a phone, in Chinese: nothing scrolls sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  await openSecurity(page);
  await page.locator('[data-testid="security-2fa-state"][data-state="on"]').waitFor();
  await page.getByTestId('lang').evaluate((button) => button.click());
  await page.getByTestId('security-dialog').getByText('双重验证', { exact: true }).waitFor();
  assert.equal(await text(page.getByTestId('security-2fa-state')), '已开启');
  assert.deepEqual(await overflow(page), { page: 0, dialog: 0 });
  await page.getByTestId('lang').evaluate((button) => button.click());
  await page.getByTestId('security-dialog').getByText('Two-factor authentication', { exact: true }).waitFor();

  // Turning it off takes a current code: a wrong one is refused, a fresh one works.
  await page.getByTestId('security-2fa-stop').click();
  await page.getByTestId('security-2fa-off-code').fill(wrongCode(secret));
  await page.getByTestId('security-2fa-disable').click();
  await page.getByTestId('security-2fa-error').getByText('That code is wrong or was already used.', { exact: false }).waitFor();
  // Step + 2 is unused and within ±1 of now once the next step starts: wait for it if need be.
  await waitFor('the step after the sign-in', async () => totpStep() >= step + 1, 35_000);
  await page.getByTestId('security-2fa-off-code').fill(totp(secret, step + 2));
  await page.getByTestId('security-2fa-disable').click();
  await page.locator('[data-testid="security-2fa-state"][data-state="off"]').waitFor();
  assert.match(await text(page.getByTestId('security-2fa-done')), /^Two-factor authentication is off\./);
  await page.getByTestId('security-done').click();
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.context().close();

  // And signing in takes the password alone again.
  assert.ok((await api(server, 'POST', '/v1/auth/login', { email: GRACE.email, password: GRACE.password })).token);
  assert.deepEqual(errors, []);
});

test('an agent signs out her other sessions; their consoles are told at once', async () => {
  const here = await openConsole();
  const there = await openConsole({ viewport: { width: 390, height: 844 } });
  const elsewhere = await openConsole();
  await signIn(here, ALAN);
  await signIn(there, ALAN);
  await signIn(elsewhere, ALAN);
  const thereToken = await there.evaluate((key) => localStorage.getItem(key), TOKEN_KEY);

  // Three sessions, this one first and marked as this device.
  await openSecurity(here);
  await waitFor('three sessions', async () => (await here.getByTestId('security-session').count()) === 3);
  const sessions = here.getByTestId('security-session');
  assert.equal(await sessions.first().getAttribute('data-current'), 'true');
  assert.equal(await here.locator('[data-testid="security-session"][data-current="true"]').count(), 1);
  assert.equal(await text(sessions.first().getByTestId('security-session-current')), 'This device');
  assert.equal(await sessions.first().getByTestId('security-session-revoke').isVisible(), false, 'this one signs out with Log out');
  assert.match(await text(sessions.first().getByTestId('security-session-device')), /^Chrome on Linux$/);
  assert.match(await text(sessions.first().getByTestId('security-session-meta')), /^127\.0\.0\.1 · signed in .+ · until .+/);
  assert.equal(await text(here.getByTestId('security-sessions-count')), '3');

  // One other session, by its own button: that console returns to sign-in.
  const elsewhereToken = await elsewhere.evaluate((key) => localStorage.getItem(key), TOKEN_KEY);
  const ids = await sessions.evaluateAll((items) => items.map((item) => item.dataset.sessionId));
  const elsewhereId = await waitFor('the third session', async () => {
    const answer = await api(server, 'GET', '/v1/me/sessions', undefined, elsewhereToken);
    return answer.sessions.find((session) => session.current)?.id;
  });
  assert.ok(ids.includes(elsewhereId));
  await here.locator(`[data-testid="security-session"][data-session-id="${elsewhereId}"]`).getByTestId('security-session-revoke').click();
  await here.getByTestId('security-sessions-done').getByText('Signed out Chrome on Linux.').waitFor();
  await waitFor('two sessions left', async () => (await here.getByTestId('security-session').count()) === 2);
  await elsewhere.getByTestId('login-error').getByText('You were signed out', { exact: false }).waitFor({ timeout: 10_000 });

  // Everywhere else: the phone's console is signed out within a couple of seconds.
  await here.screenshot({ path: join(ARTIFACTS, 'agent-console-security.png') });
  const closed = there.evaluate(() => new Promise((resolve) => {
    // The console's socket is the page's only one: its close frame says why.
    const check = () => (document.getElementById('login-screen').hidden ? setTimeout(check, 50) : resolve(Date.now()));
    check();
  }));
  const started = Date.now();
  await here.getByTestId('security-revoke-others').click();
  await here.getByTestId('security-sessions-done').getByText('Signed out of 1 other session. Only this device stays signed in.').waitFor();
  await waitFor('this session alone', async () => (await here.getByTestId('security-session').count()) === 1);
  assert.equal(await here.getByTestId('security-revoke-others').isVisible(), false);
  assert.equal(await text(here.getByTestId('security-sessions-empty')), 'You are signed in on this device only.');
  const signedOutAt = await closed;
  assert.ok(signedOutAt - started < 5_000, `signed out after ${signedOutAt - started} ms`);
  assert.match(await text(there.getByTestId('login-error')), /^You were signed out: this session was ended from another device or by an administrator\./);
  assert.equal(await there.evaluate((key) => localStorage.getItem(key), TOKEN_KEY), null, 'the token is forgotten');
  const refused = await fetch(`${server.base}/v1/me`, { headers: { Authorization: `Bearer ${thereToken}` } });
  assert.equal(refused.status, 401, 'the old token is refused');

  // This console carries on.
  assert.equal(await here.locator('[data-testid="connection"][data-state="connected"]').count(), 1);
  await here.getByTestId('security-done').click();
  for (const page of [here, there, elsewhere]) await page.context().close();
  assert.deepEqual(errors, []);
});

test('an admin resets an agent’s two-factor and signs her out everywhere from the agents table', async () => {
  // Katherine turns two-factor on (through the API) and has her console open.
  const session = (await api(server, 'POST', '/v1/auth/login', { email: KATHERINE.email, password: KATHERINE.password })).token;
  const { secret } = await api(server, 'POST', '/v1/me/two-factor/setup', undefined, session);
  await api(server, 'POST', '/v1/me/two-factor/enable', { code: totp(secret) }, session);
  const refused = await fetch(`${server.base}/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: KATHERINE.email, password: KATHERINE.password }) });
  assert.equal(refused.status, 401);
  assert.equal((await refused.json()).error.code, 'totp_required');
  const consolePage = await openConsole();
  await consolePage.evaluate(([key, token]) => localStorage.setItem(key, token), [TOKEN_KEY, session]);
  await consolePage.reload();
  await consolePage.locator('[data-testid="connection"][data-state="connected"]').waitFor();

  // The dashboard: Katherine's row has more actions behind "⋯".
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const admin = await context.newPage();
  watchErrors(admin, errors);
  const requests = recordRequests(admin);
  await admin.goto(`${server.base}/admin`);
  await admin.getByTestId('login-email').fill(ADMIN_EMAIL);
  await admin.getByTestId('login-password').fill(ADMIN_PASSWORD);
  await admin.getByTestId('login-submit').click();
  const row = admin.locator(`[data-testid="agent-row"][data-email="${KATHERINE.email}"]`);
  await row.waitFor();
  const more = row.getByTestId('agent-more');
  assert.equal(await more.getAttribute('aria-label'), `More actions for ${KATHERINE.name}`);
  assert.equal(await more.getAttribute('aria-expanded'), 'false');

  // With the keyboard: Enter opens the menu on its first item, the arrow keys move, Escape closes.
  await more.focus();
  await admin.keyboard.press('Enter');
  const menu = row.getByTestId('agent-menu');
  await menu.waitFor();
  assert.equal(await more.getAttribute('aria-expanded'), 'true');
  assert.equal(await focusedTestId(admin), 'agent-signout');
  await admin.keyboard.press('ArrowDown');
  assert.equal(await focusedTestId(admin), 'agent-reset-2fa');
  await admin.keyboard.press('ArrowDown');
  assert.equal(await focusedTestId(admin), 'agent-signout', 'the arrows wrap around');
  await admin.keyboard.press('Escape');
  await menu.waitFor({ state: 'hidden' });
  assert.equal(await focusedTestId(admin), 'agent-more');

  // Reset two-factor: asked first (Cancel has the focus and sends nothing).
  const resets = () => requests.filter((request) => request.endsWith('/two-factor/reset')).length;
  await more.click();
  await row.getByTestId('agent-reset-2fa').click();
  const confirm = admin.getByTestId('agent-action-dialog');
  await confirm.waitFor();
  assert.equal(await text(admin.locator('#agent-action-title')), `Reset ${KATHERINE.name}’s two-factor?`);
  assert.equal(await text(admin.getByTestId('agent-action-target')), `${KATHERINE.name} · ${KATHERINE.email}`);
  assert.equal(await focusedTestId(admin), 'agent-action-cancel');
  await admin.keyboard.press('Enter');
  await confirm.waitFor({ state: 'hidden' });
  assert.equal(resets(), 0);
  assert.equal(await focusedTestId(admin), 'agent-more', 'the focus goes back to the row');
  await more.click();
  await row.getByTestId('agent-reset-2fa').click();
  await confirm.waitFor();
  await settled(admin);
  await admin.screenshot({ path: join(ARTIFACTS, 'admin-agent-reset-2fa.png') });
  await admin.getByTestId('agent-action-submit').click();
  await confirm.waitFor({ state: 'hidden' });
  await admin.locator('#toast').getByText(`Two-factor authentication is off for ${KATHERINE.name}.`, { exact: false }).waitFor();
  assert.equal(resets(), 1);

  // Katherine signs in with her password alone, and no code is asked for.
  const fresh = await openConsole();
  await signIn(fresh, KATHERINE);
  assert.equal(await fresh.getByTestId('login-totp-field').isVisible(), false);
  await fresh.context().close();

  // Sign out everywhere: both of her consoles return to sign-in within seconds.
  const second = await openConsole();
  await signIn(second, KATHERINE);
  await more.click();
  await row.getByTestId('agent-signout').click();
  await confirm.waitFor();
  assert.equal(await text(admin.locator('#agent-action-title')), `Sign ${KATHERINE.name} out everywhere?`);
  await admin.getByTestId('agent-action-submit').click();
  await confirm.waitFor({ state: 'hidden' });
  await admin.locator('#toast').getByText(`${KATHERINE.name} was signed out of`, { exact: false }).waitFor();
  for (const page of [consolePage, second]) {
    await page.getByTestId('login-error').getByText('You were signed out', { exact: false }).waitFor({ timeout: 10_000 });
  }
  const gone = await fetch(`${server.base}/v1/me`, { headers: { Authorization: `Bearer ${session}` } });
  assert.equal(gone.status, 401);

  // In Chinese, the menu speaks Chinese.
  await admin.getByTestId('lang').click();
  await more.click();
  await row.getByTestId('agent-reset-2fa').getByText('重置双重验证…').waitFor();
  await admin.keyboard.press('Escape');
  await admin.getByTestId('lang').click();
  await settled(admin);

  for (const page of [consolePage, second, admin]) await page.context().close();
  assert.deepEqual(errors, []);
});

test('the dashboard asks an administrator for her code, and too many failures say when to try again', async () => {
  const MARY = { name: 'Mary Jackson', email: 'mary@northwind.example', password: 'mary-password-1' };
  await api(server, 'POST', '/v1/admin/agents', { ...MARY, role: 'admin', max_concurrent: 2 }, adminToken);
  const session = (await api(server, 'POST', '/v1/auth/login', { email: MARY.email, password: MARY.password })).token;
  const { secret } = await api(server, 'POST', '/v1/me/two-factor/setup', undefined, session);
  const step = totpStep();
  await api(server, 'POST', '/v1/me/two-factor/enable', { code: totp(secret, step) }, session);

  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  watchErrors(page, errors);
  const logins = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/v1/auth/login') logins.push(JSON.parse(request.postData() ?? '{}'));
  });
  await page.goto(`${server.base}/admin`);
  await page.getByTestId('login-email').fill(MARY.email);
  await page.getByTestId('login-password').fill(MARY.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-totp').waitFor();
  assert.deepEqual(Object.keys(logins[0]).sort(), ['email', 'password'], 'no code sent before it was asked for');
  // Nothing typed: said in the page, nothing sent.
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-error').getByText('Enter the 6-digit code from your authenticator app.').waitFor();
  assert.equal(logins.length, 1);
  // "123 456" as the app shows it: the spaces do not count.
  const code = totp(secret, step + 1);
  await page.getByTestId('login-totp').fill(`${code.slice(0, 3)} ${code.slice(3)}`);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('agents-table').waitFor();
  assert.equal(logins[1].totp, code);
  await page.getByTestId('logout').click();
  await page.getByTestId('login-email').waitFor();
  assert.equal(await page.getByTestId('login-totp-field').isVisible(), false, 'a fresh form asks for the password first');

  // Five wrong passwords lock the account for a while; the sixth try says for how long.
  await page.getByTestId('login-email').fill(MARY.email);
  for (let attempt = 1; attempt <= 5; attempt += 1) {
    await page.getByTestId('login-password').fill(`wrong password ${attempt}`);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').getByText('That email and password don’t match.', { exact: false }).waitFor();
    await waitFor('the answer', async () => !(await page.getByTestId('login-submit').isDisabled()));
  }
  await page.getByTestId('login-password').fill(MARY.password);
  const locked = page.waitForResponse((response) => new URL(response.url()).pathname === '/v1/auth/login');
  await page.getByTestId('login-submit').click();
  const answer = await locked;
  assert.equal(answer.status(), 429);
  assert.ok(Number(answer.headers()['retry-after']) > 0);
  await page.getByTestId('login-error').getByText(/^Too many failed attempts\. For your security, signing in is paused: try again in \d+ min\.$/).waitFor();
  // Until then the form sends nothing for this email.
  const sent = logins.length;
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-error').getByText('Too many failed attempts.', { exact: false }).waitFor();
  assert.equal(logins.length, sent);
  // In Chinese too.
  await page.getByTestId('lang').click();
  await page.getByTestId('login-error').getByText('失败次数过多', { exact: false }).waitFor();
  await page.getByTestId('lang').click();
  await context.close();
  assert.deepEqual(errors, []);
});
