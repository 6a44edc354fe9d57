// The API tokens section of the admin dashboard, in real Chromium.
//
// From the nav the admin opens API tokens (empty at first). The new-token dialog refuses a
// missing name, no scope, a rate of 0 or 70000 and an expiry of 4000 or 2.5 days without a
// request, and shows a server refusal (answered by a route in the server's format) in words.
// A read token is created: it is shown once (sbk_ and 64 hex digits, the warning, Copy puts it
// on the clipboard) and is gone from the page when the dialog closes. The test uses it for
// `GET /v1/conversations` (200); the list shows its name, scope, prefix, rate, creator, expiry
// and, read again, its last use. Revoking asks first in the page (Cancel sends nothing); after
// it the same request answers 401 token_revoked and the row says Revoked, also after a
// reload. On a phone nothing scrolls sideways; the section switches to Chinese.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Switchboard, api, launchBrowser, waitFor, watchErrors } from './harness.mjs';

let server;
let browser;
let adminToken;
const errors = [];

before(async () => {
  server = await Switchboard.start();
  browser = await launchBrowser();
  adminToken = (await api(server, 'POST', '/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).token;
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const text = async (locator) => ((await locator.textContent()) ?? '').trim();
const focusedTestId = (page) => page.evaluate(() => document.activeElement?.dataset?.testid ?? null);

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

/** Records the page's requests to the admin API as "METHOD path". */
function recordRequests(page) {
  const requests = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/v1/admin/')) requests.push(`${request.method()} ${url.pathname}`);
  });
  return requests;
}

/** `GET /v1/conversations` with `token`: the status and the error code, if any. */
async function listConversations(token) {
  const response = await fetch(`${server.base}/v1/conversations`, { headers: { Authorization: `Bearer ${token}` } });
  const body = await response.json().catch(() => ({}));
  return { status: response.status, code: body?.error?.code ?? null, body };
}

test('an admin creates a read token, sees it once, and revokes it', async () => {
  const me = (await api(server, 'GET', '/v1/me', undefined, adminToken)).agent;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  const page = await context.newPage();
  watchErrors(page, errors);
  const requests = recordRequests(page);
  await page.goto(`${server.base}/admin`);
  await page.getByTestId('login-email').fill(ADMIN_EMAIL);
  await page.getByTestId('login-password').fill(ADMIN_PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('agents-table').waitFor();

  // From the nav, between Webhooks and Audit & privacy.
  const nav = await page.locator('.admin-nav-link').evaluateAll((links) => links.map((link) => link.dataset.view));
  assert.deepEqual(nav, ['overview', 'webhooks', 'tokens', 'audit']);
  await page.getByTestId('nav-tokens').click();
  await page.getByTestId('tokens-view').waitFor();
  assert.equal(new URL(page.url()).hash, '#tokens');
  assert.equal(await page.getByTestId('nav-tokens').getAttribute('aria-current'), 'page');
  assert.equal(await page.title(), 'API tokens — Admin — Switchboard');
  await page.getByTestId('tokens-empty').waitFor();
  assert.equal(await page.getByTestId('tokens-table').isVisible(), false);

  // The dialog checks what the server checks, without sending anything.
  const posts = () => requests.filter((request) => request === 'POST /v1/admin/api-tokens').length;
  const dialog = page.getByTestId('token-dialog');
  const error = page.getByTestId('token-error');
  await page.getByTestId('token-new').click();
  await dialog.waitFor();
  assert.equal(await focusedTestId(page), 'token-name');
  await page.getByTestId('token-submit').click();
  await error.getByText('Give the token a name of 1 to 100 characters.').waitFor();
  assert.equal(await page.getByTestId('token-name').getAttribute('aria-invalid'), 'true');
  // Spaces alone are no name (the box itself takes at most 100 characters).
  await page.getByTestId('token-name').fill('   ');
  await page.getByTestId('token-submit').click();
  await error.getByText('Give the token a name of 1 to 100 characters.').waitFor();
  assert.equal(await page.getByTestId('token-name').getAttribute('maxlength'), '100');
  await page.getByTestId('token-name').fill('CRM <sync> & reports');
  await page.getByTestId('token-submit').click();
  await error.getByText('Choose at least one scope.').waitFor();
  assert.equal(await focusedTestId(page), 'token-scope');
  await page.locator('[data-testid="token-scope"][value="read"]').check();
  for (const rate of ['0', '70000', '2.5']) {
    await page.getByTestId('token-rate').fill(rate);
    await page.getByTestId('token-submit').click();
    await error.getByText('Requests per minute: a whole number from 1 to 60000, or empty for 600.').waitFor();
    assert.equal(await focusedTestId(page), 'token-rate');
  }
  await page.getByTestId('token-rate').fill('120');
  for (const days of ['4000', '2.5', '-1']) {
    await page.getByTestId('token-expiry').fill(days);
    await page.getByTestId('token-submit').click();
    await error.getByText('Expiry: a whole number of days from 0 to 3650, or empty for a token that never expires.').waitFor();
    assert.equal(await page.getByTestId('token-expiry').getAttribute('aria-invalid'), 'true');
  }
  await page.getByTestId('token-expiry').fill('30');
  assert.equal(await error.isVisible(), false, 'typing clears the complaint');
  assert.equal(posts(), 0, 'nothing sent for a refused form');

  // A refusal by the server is shown in words, on the field it names.
  await page.route('**/v1/admin/api-tokens', async (route) => {
    if (route.request().method() !== 'POST') return route.fallback();
    await route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ error: { code: 'invalid_argument', message: 'rate_per_minute: must be at most 60000' } }) });
  }, { times: 1 });
  await page.getByTestId('token-submit').click();
  await error.getByText('Requests per minute: must be at most 60000').waitFor();
  assert.equal(await page.getByTestId('token-rate').getAttribute('aria-invalid'), 'true');
  assert.equal(posts(), 1);

  // Created: the token once, with the warning and Copy.
  const created = page.waitForResponse((response) => response.request().method() === 'POST' && new URL(response.url()).pathname === '/v1/admin/api-tokens');
  await page.getByTestId('token-submit').click();
  const answer = await (await created).json();
  assert.equal((await created).status(), 201);
  const secretDialog = page.getByTestId('token-secret-dialog');
  await secretDialog.waitFor();
  await dialog.waitFor({ state: 'hidden' });
  const token = await page.getByTestId('token-secret').inputValue();
  assert.match(token, /^sbk_[0-9a-f]{64}$/);
  assert.equal(token, answer.token);
  assert.equal(await text(page.getByTestId('token-secret-name')), 'CRM <sync> & reports', 'the name as text');
  assert.match(await text(page.getByTestId('token-secret-note')), /Copy this token now\. You won’t see it again/);
  assert.equal(await focusedTestId(page), 'token-secret', 'the token is selected for copying');
  await page.getByTestId('token-secret-copy').click();
  await page.getByTestId('token-secret-copied').getByText('Copied to the clipboard.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
  await settled(page);
  await page.screenshot({ path: join(ARTIFACTS, 'admin-token-created.png') });
  // A click on the backdrop does not lose it; "I've saved it" does, and the page forgets it.
  await page.mouse.click(10, 10);
  assert.ok(await secretDialog.isVisible(), 'still shown after a stray click');
  await page.getByTestId('token-secret-done').click();
  await secretDialog.waitFor({ state: 'hidden' });
  assert.equal(await page.getByTestId('token-secret').inputValue(), '');
  assert.equal(await page.evaluate((secret) => document.documentElement.outerHTML.includes(secret), token), false, 'no token left in the page');
  assert.equal(await focusedTestId(page), 'token-new');

  // The list: name, scope, prefix, rate, creator, expiry; never used yet.
  const row = page.locator(`[data-testid="token-row"][data-token-id="${answer.api_token.id}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute('data-state'), 'active');
  assert.equal(await text(row.getByTestId('token-row-name')), 'CRM <sync> & reports');
  assert.equal(await text(row.getByTestId('token-row-scopes')), 'read');
  assert.equal(await text(row.getByTestId('token-row-prefix')), `${token.slice(0, 12)}…`);
  assert.equal(answer.api_token.prefix, token.slice(0, 12));
  assert.equal(await text(row.getByTestId('token-row-rate')), '120/min');
  assert.equal(await text(row.getByTestId('token-row-creator')), `by ${me.name}`);
  assert.equal(await text(row.getByTestId('token-row-used')), 'never');
  assert.equal(await text(row.getByTestId('token-row-status')), 'Active');
  assert.match(await text(row.getByTestId('token-row-expiry')), /^expires /);
  assert.equal(await text(page.getByTestId('tokens-count')), '1');

  // The token works for what its scope allows, and not beyond.
  const works = await listConversations(token);
  assert.equal(works.status, 200, JSON.stringify(works.body));
  assert.ok(Array.isArray(works.body.conversations));
  const beyond = await fetch(`${server.base}/v1/admin/agents`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(beyond.status, 403);

  // Read again (the section reopened), it was used.
  await page.getByTestId('nav-overview').click();
  await page.getByTestId('nav-tokens').click();
  await waitFor('the last use', async () => (await text(row.getByTestId('token-row-used'))) !== 'never');
  assert.match(await text(row.getByTestId('token-row-used')), /^\d{1,2}:\d{2}/, 'today: a clock time');

  // Revoking asks first; Cancel (which has the focus) sends nothing.
  const deletes = () => requests.filter((request) => request.startsWith('DELETE '));
  const confirm = page.getByTestId('token-revoke-dialog');
  await row.getByTestId('token-revoke').click();
  await confirm.waitFor();
  assert.equal(await text(page.getByTestId('token-revoke-target')), `CRM <sync> & reports · ${token.slice(0, 12)}…`);
  assert.match(await text(confirm), /Revoke this token\?.*401 token_revoked.*can’t be undone/s);
  assert.equal(await focusedTestId(page), 'token-revoke-cancel');
  await page.keyboard.press('Enter');
  await confirm.waitFor({ state: 'hidden' });
  assert.deepEqual(deletes(), []);
  assert.equal(await focusedTestId(page), 'token-revoke');
  // With the keyboard: Enter on Revoke, Tab to the confirmation, Enter.
  await page.keyboard.press('Enter');
  await confirm.waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await focusedTestId(page), 'token-revoke-submit');
  await page.keyboard.press('Enter');
  await confirm.waitFor({ state: 'hidden' });
  assert.deepEqual(deletes(), [`DELETE /v1/admin/api-tokens/${answer.api_token.id}`]);
  await page.locator('#toast').getByText('Token “CRM <sync> & reports” revoked.').waitFor();
  await page.locator(`[data-testid="token-row"][data-token-id="${answer.api_token.id}"][data-state="revoked"]`).waitFor();
  assert.equal(await text(row.getByTestId('token-row-status')), 'Revoked');
  assert.match(await text(row.getByTestId('token-row-expiry')), /^revoked /);
  assert.equal(await row.getByTestId('token-revoke').isVisible(), false);
  assert.equal(await text(page.getByTestId('tokens-count')), '0');

  // The same request is refused now.
  const refused = await listConversations(token);
  assert.equal(refused.status, 401);
  assert.equal(refused.code, 'token_revoked');

  // A second token for the picture: write and admin, no expiry.
  await page.getByTestId('token-new').click();
  await page.getByTestId('token-name').fill('Help desk bot');
  await page.locator('[data-testid="token-scope"][value="write"]').check();
  await page.getByTestId('token-submit').click();
  await page.getByTestId('token-secret-dialog').waitFor();
  await page.getByTestId('token-secret-done').click();
  const bot = page.getByTestId('token-row').filter({ hasText: 'Help desk bot' });
  await bot.waitFor();
  assert.equal(await text(bot.getByTestId('token-row-rate')), '600/min', 'the default rate');
  assert.equal(await text(bot.getByTestId('token-row-expiry')), 'never expires');
  // Newest first.
  assert.deepEqual(await page.getByTestId('token-row-name').allTextContents(), ['Help desk bot', 'CRM <sync> & reports']);

  // After a reload: the same, and "Show revoked" hides the revoked one.
  await page.reload();
  await page.getByTestId('tokens-view').waitFor();
  await page.locator(`[data-testid="token-row"][data-token-id="${answer.api_token.id}"][data-state="revoked"]`).waitFor();
  await page.getByTestId('tokens-show-revoked').uncheck();
  await waitFor('only the active token', async () => (await page.getByTestId('token-row').count()) === 1);
  await page.getByTestId('tokens-show-revoked').check();
  await waitFor('both tokens', async () => (await page.getByTestId('token-row').count()) === 2);
  await page.locator('#toast').waitFor({ state: 'hidden', timeout: 10_000 });
  await page.mouse.move(0, 0);
  await settled(page);
  await page.screenshot({ path: join(ARTIFACTS, 'admin-tokens.png') });

  // A phone: nothing scrolls sideways and every value is labelled.
  await page.setViewportSize({ width: 390, height: 844 });
  await settled(page);
  const overflow = await page.evaluate(() => {
    const dashboard = document.getElementById('dashboard');
    return { page: document.documentElement.scrollWidth - document.documentElement.clientWidth, dashboard: dashboard.scrollWidth - dashboard.clientWidth };
  });
  assert.deepEqual(overflow, { page: 0, dashboard: 0 }, 'nothing scrolls sideways on a phone');
  assert.equal(await bot.locator('td').first().evaluate((cell) => getComputedStyle(cell, '::before').content), '"Name"');
  await page.getByTestId('token-new').click();
  await dialog.waitFor();
  assert.ok(await dialog.evaluate((node) => node.scrollWidth <= node.clientWidth), 'the dialog fits a phone');
  await page.getByTestId('token-cancel').click();
  await page.screenshot({ path: join(ARTIFACTS, 'admin-tokens-phone.png') });
  await page.setViewportSize({ width: 1280, height: 900 });

  // In Chinese: the nav, the columns, the states.
  await page.getByTestId('lang').click();
  await page.getByTestId('nav-tokens').getByText('API 令牌').waitFor();
  assert.equal(await text(row.getByTestId('token-row-status')), '已吊销');
  assert.equal(await text(bot.getByTestId('token-row-used')), '从未使用');
  assert.equal(await text(page.getByTestId('tokens-table').locator('th').first()), '名称');
  await page.getByTestId('lang').click();
  await page.getByTestId('nav-tokens').getByText('API tokens').waitFor();

  assert.deepEqual(errors, []);
});
