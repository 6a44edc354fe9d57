// The Audit & privacy section of the admin dashboard, in real Chromium.
//
// The admin creates an agent (who then signs in, once with a wrong password) and a visitor leaves
// a message. From the nav, the audit log shows the agent.create entry with the admin's name as
// actor and the agent's as target; filtered by "auth." it shows only sign-ins, by actor only
// that agent's. The retention is set to 30 days and is still 30 after a reload; 5000 is refused
// before anything is sent. The visitor's data is downloaded (the JSON holds the message), then
// erased after the in-page confirmation (Cancel sends nothing): the page says what was erased,
// the log shows visitor.erase, and a second export says the visitor was not found. Many entries
// page with "Load older"; the log downloads as NDJSON; on a phone nothing scrolls sideways, and
// the section switches to Chinese.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Switchboard, api, launchBrowser, waitFor, watchErrors, widgetFirstMessage } from './harness.mjs';

const GRACE = { name: 'Grace Hopper', email: 'grace@northwind.example', password: 'grace-password-1' };
const VISITOR_TEXT = 'Please send me everything you keep about me <b>thanks</b>';

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
const rowsOf = (page, action) => page.locator(`[data-testid="audit-row"][data-action="${action}"]`);
const actions = (page) => page.getByTestId('audit-row').evaluateAll((rows) => rows.map((row) => row.dataset.action));

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

/** Records the page's requests to the admin API as "METHOD path?query". */
function recordRequests(page) {
  const requests = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/v1/admin/')) requests.push(`${request.method()} ${url.pathname}${url.search}`);
  });
  return requests;
}

/** Clicks `button` and returns the download it starts: its file name and its text. */
async function downloadFrom(page, button) {
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  const path = await download.path();
  return { name: download.suggestedFilename(), text: await readFile(path, 'utf8') };
}

test('an admin reads the audit log, keeps conversations 30 days, and exports then erases a visitor', async () => {
  // An agent, created by the admin; she signs in with a wrong password first.
  const me = await api(server, 'GET', '/v1/me', undefined, adminToken);
  const adminName = me.agent.name;
  const grace = (await api(server, 'POST', '/v1/admin/agents', { ...GRACE, role: 'agent', max_concurrent: 2 }, adminToken)).agent;
  const refused = await fetch(`${server.base}/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: GRACE.email, password: 'not her password' }) });
  assert.equal(refused.status, 401);
  const graceToken = (await api(server, 'POST', '/v1/auth/login', { email: GRACE.email, password: GRACE.password })).token;

  // The admin routes are for administrators only.
  const forbidden = await fetch(`${server.base}/v1/admin/audit`, { headers: { Authorization: `Bearer ${graceToken}` } });
  assert.equal(forbidden.status, 403);
  assert.equal((await forbidden.json()).error.code, 'forbidden');

  // A visitor leaves a message (nobody is online: the message form), so the visitor exists.
  const visitorPage = await (await browser.newContext()).newPage();
  watchErrors(visitorPage, errors);
  await visitorPage.goto(server.base);
  await visitorPage.getByTestId('sb-launcher').click();
  await visitorPage.locator('[data-testid="sb-connection"][data-state="connected"]').waitFor();
  await widgetFirstMessage(visitorPage, VISITOR_TEXT, 'ada@example.com');
  const visitorId = await waitFor('the visitor in the queue', async () => (await api(server, 'GET', '/v1/queue', undefined, adminToken)).entries[0]?.visitor_id);
  await visitorPage.context().close();

  // The dashboard, signed in, opens on the overview; the nav leads to Audit & privacy.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  watchErrors(page, errors);
  const requests = recordRequests(page);
  await page.goto(`${server.base}/admin`);
  await page.getByTestId('login-email').fill(ADMIN_EMAIL);
  await page.getByTestId('login-password').fill(ADMIN_PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('agents-table').waitFor();
  await page.getByTestId('nav-audit').click();
  await page.getByTestId('audit-view').waitFor();
  assert.equal(new URL(page.url()).hash, '#audit');
  assert.equal(await page.getByTestId('nav-audit').getAttribute('aria-current'), 'page');
  assert.equal(await page.getByTestId('agents-table').isVisible(), false);
  assert.equal(await page.title(), 'Audit & privacy — Admin — Switchboard');

  // The agent.create entry: the admin as actor (by name), Grace as target.
  const created = rowsOf(page, 'agent.create');
  await created.waitFor();
  assert.equal(await created.count(), 1);
  assert.equal(await text(created.getByTestId('audit-actor')), adminName);
  assert.equal(await created.getAttribute('data-actor-id'), me.agent.id);
  assert.equal(await text(created.getByTestId('audit-target')), GRACE.name);
  assert.equal(await created.getAttribute('data-target-id'), grace.id);
  assert.equal(await text(created.getByTestId('audit-outcome')), 'Succeeded');
  assert.equal(await text(created.getByTestId('audit-ip')), '127.0.0.1');
  assert.match(await text(created.getByTestId('audit-time')), /^\d{1,2}:\d{2}:\d{2}/, 'today: a local clock time');
  assert.match(await created.locator('.cell-sub').first().textContent(), /Agent created/);
  // Newest first: Grace signed in after she was created.
  const order = await actions(page);
  assert.ok(order.indexOf('auth.login_failed') < order.indexOf('agent.create'), `newest first: ${order}`);
  // The failed sign-in has nobody signed in as actor.
  const failed = rowsOf(page, 'auth.login_failed');
  assert.equal(await text(failed.getByTestId('audit-actor')), '—');
  assert.equal(await text(failed.getByTestId('audit-outcome')), 'Failed');
  assert.equal(await text(failed.getByTestId('audit-target')), GRACE.name);

  // Filtered by "auth.": only sign-ins (the admin's in this browser and Grace's two).
  await page.getByTestId('audit-action-filter').fill('auth.');
  await page.getByTestId('audit-action-filter').press('Enter');
  await waitFor('only auth. entries', async () => {
    const shown = await actions(page);
    return shown.length >= 3 && shown.every((action) => action.startsWith('auth.'));
  });
  assert.ok(requests.some((request) => request.startsWith('GET /v1/admin/audit?action=auth.&limit=')), requests.join('\n'));
  const authRows = await actions(page);
  assert.deepEqual(authRows.filter((action) => action === 'auth.login').length, 3, `two admin sign-ins and Grace's: ${authRows}`);
  // And by actor: Grace's own sign-in only (the failed one had no actor).
  await page.getByTestId('audit-actor-filter').selectOption({ label: GRACE.name });
  await waitFor('only Grace', async () => {
    const ids = await page.getByTestId('audit-row').evaluateAll((rows) => rows.map((row) => row.dataset.actorId));
    return ids.length === 1 && ids[0] === grace.id;
  });
  assert.deepEqual(await actions(page), ['auth.login']);
  assert.equal(await text(page.getByTestId('audit-actor').first()), GRACE.name);
  assert.ok(requests.some((request) => request === `GET /v1/admin/audit?action=auth.&actor_id=${grace.id}&limit=50`), requests.join('\n'));
  await page.getByTestId('audit-clear').click();
  await created.waitFor();
  assert.equal(await page.getByTestId('audit-action-filter').inputValue(), '');

  // Retention: forever at first; 30 days saved, and still 30 after a reload.
  const days = page.getByTestId('retention-days');
  await waitFor('the retention setting', async () => (await days.inputValue()) === '0');
  assert.match(await text(page.getByTestId('retention-current')), /kept forever/);
  assert.match(await text(page.getByTestId('retention-hint')), /^0 keeps them forever\. At most 3650 days/);
  await days.fill('30');
  await page.getByTestId('retention-submit').click();
  await page.getByTestId('retention-done').getByText('Saved. Closed conversations are kept for 30 days.').waitFor();
  assert.equal((await api(server, 'GET', '/v1/admin/retention', undefined, adminToken)).days, 30);
  await rowsOf(page, 'retention.update').waitFor();
  assert.match(await text(rowsOf(page, 'retention.update').getByTestId('audit-detail')), /days\s*30/);
  await page.reload();
  await page.getByTestId('audit-view').waitFor();
  await waitFor('the saved retention after a reload', async () => (await days.inputValue()) === '30');
  assert.match(await text(page.getByTestId('retention-current')), /kept for 30 days\. Changed /);

  // 5000 days is refused in the page: nothing is sent, the setting stays 30.
  const puts = () => requests.filter((request) => request.startsWith('PUT ')).length;
  const putsBefore = puts();
  for (const bad of ['5000', '-1', '2.5']) {
    await days.fill(bad);
    await page.getByTestId('retention-submit').click();
    await page.getByTestId('retention-error').getByText('Enter a whole number of days from 0 to 3650. 0 keeps conversations forever.').waitFor();
    assert.equal(await days.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'retention-days');
  }
  assert.equal(puts(), putsBefore, 'no request for a refused value');
  assert.equal((await api(server, 'GET', '/v1/admin/retention', undefined, adminToken)).days, 30);
  // The server refuses it too, in the same words.
  const direct = await fetch(`${server.base}/v1/admin/retention`, { method: 'PUT', headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' }, body: '{"days":5000}' });
  assert.equal(direct.status, 400);
  assert.equal((await direct.json()).error.code, 'invalid_argument');
  await days.fill('30');
  assert.equal(await page.getByTestId('retention-error').isVisible(), false, 'typing clears the complaint');

  // The visitor's data, downloaded as JSON: it holds the message.
  const visitorRequests = () => requests.filter((request) => request.includes('/v1/admin/visitors/')).length;
  await page.getByTestId('visitor-export').click();
  await page.getByTestId('visitor-error').getByText('Enter the visitor’s ID.').waitFor();
  await page.getByTestId('visitor-id').fill('ada@example.com');
  await page.getByTestId('visitor-erase').click();
  await page.getByTestId('visitor-error').getByText('This isn’t a visitor ID.').waitFor();
  assert.equal(await page.getByTestId('visitor-id').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.getByTestId('erase-dialog').isVisible(), false);
  assert.equal(visitorRequests(), 0, 'nothing sent for a missing or malformed id');
  await page.getByTestId('visitor-id').fill(visitorId);
  const exported = await downloadFrom(page, page.getByTestId('visitor-export'));
  assert.equal(exported.name, `visitor-${visitorId}.json`);
  const data = JSON.parse(exported.text);
  assert.equal(data.visitor.id, visitorId);
  assert.equal(data.conversations.length, 1);
  assert.ok(data.conversations[0].messages.some((message) => message.text === VISITOR_TEXT), exported.text);
  assert.equal(await text(page.getByTestId('visitor-done')), `Downloaded visitor-${visitorId}.json with 1 conversation.`);
  await rowsOf(page, 'visitor.export').waitFor();

  // Erasing asks first; Cancel sends nothing and gives the focus back.
  const deletes = () => requests.filter((request) => request.startsWith('DELETE '));
  const dialog = page.getByTestId('erase-dialog');
  await page.getByTestId('visitor-erase').click();
  await dialog.waitFor();
  assert.equal(await text(page.getByTestId('erase-target')), visitorId);
  assert.match(await text(dialog), /Erase this visitor’s data\?.*can’t be undone/s);
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'erase-cancel', 'the safe choice has the focus');
  await page.getByTestId('erase-cancel').click();
  await dialog.waitFor({ state: 'hidden' });
  assert.deepEqual(deletes(), []);
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'visitor-erase');
  // With the keyboard this time: Enter on Erase…, Tab to the confirmation, Enter.
  await page.getByTestId('visitor-erase').press('Enter');
  await dialog.waitFor();
  const erasedAnswer = page.waitForResponse((response) => response.request().method() === 'DELETE');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'erase-submit');
  await page.keyboard.press('Enter');
  const { erased } = await (await erasedAnswer).json();
  await dialog.waitFor({ state: 'hidden' });
  assert.deepEqual(deletes(), [`DELETE /v1/admin/visitors/${visitorId}`]);
  assert.equal(erased.conversations, 1);
  assert.ok(erased.messages >= 1);
  const plural = (count, one, many) => (count === 1 ? `1 ${one}` : `${count} ${many}`);
  assert.equal(
    await text(page.getByTestId('visitor-done')),
    `Visitor ${visitorId} erased: 1 conversation, ${plural(erased.messages, 'message', 'messages')} and ${plural(erased.notes, 'internal note', 'internal notes')} deleted.`,
  );
  // The erasure is in the log, with what it deleted.
  const erasedRow = rowsOf(page, 'visitor.erase');
  await erasedRow.waitFor();
  assert.equal(await text(erasedRow.getByTestId('audit-outcome')), 'Succeeded');
  assert.equal(await text(erasedRow.getByTestId('audit-actor')), adminName);
  assert.equal(await text(erasedRow.getByTestId('audit-target')), visitorId);
  assert.match(await text(erasedRow.getByTestId('audit-detail')), new RegExp(`messages\\s*${erased.messages}`));
  await waitFor('the conversation to leave the queue', async () => (await api(server, 'GET', '/v1/queue', undefined, adminToken)).entries.length === 0);

  // A second export finds nothing: a readable notice, no download.
  let downloads = 0;
  page.on('download', () => downloads++);
  await page.getByTestId('visitor-export').click();
  await page.getByTestId('visitor-error').getByText(`Visitor ${visitorId} was not found`).waitFor();
  assert.equal(await page.getByTestId('visitor-id').getAttribute('aria-invalid'), 'true');
  assert.equal(downloads, 0);
  assert.equal(await page.getByTestId('visitor-done').isVisible(), false);
  // Erasing it again: the server finds nothing, and the page says so next to the ID.
  await page.getByTestId('visitor-erase').click();
  await page.getByTestId('erase-submit').click();
  await dialog.waitFor({ state: 'hidden' });
  await page.getByTestId('visitor-error').getByText(`Visitor ${visitorId} was not found`).waitFor();
  assert.equal(deletes().length, 2);

  // Many entries: 55 retention changes. The newest 50 first, "Load older" brings the rest.
  for (let index = 1; index <= 55; index += 1) await api(server, 'PUT', '/v1/admin/retention', { days: index === 55 ? 30 : index }, adminToken);
  await page.getByTestId('audit-action-filter').fill('retention.');
  await page.getByTestId('audit-apply').click();
  await waitFor('a page of 50', async () => (await page.getByTestId('audit-row').count()) === 50 && (await actions(page)).every((action) => action === 'retention.update'));
  await page.getByTestId('audit-more').waitFor();
  assert.match(await text(page.getByTestId('audit-summary')), /^The newest 50 entries/);
  await page.getByTestId('audit-more').click();
  await waitFor('all 56 retention changes', async () => (await page.getByTestId('audit-row').count()) === 56);
  await page.getByTestId('audit-more').waitFor({ state: 'hidden' });
  const ids = await page.getByTestId('audit-row').evaluateAll((rows) => rows.map((row) => Number(row.dataset.eventId)));
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
  assert.equal(new Set(ids).size, 56, 'each entry once');
  assert.ok(requests.some((request) => /^GET \/v1\/admin\/audit\?action=retention\.&limit=50&before=\d+$/.test(request)), requests.join('\n'));

  // The whole log as NDJSON, with the filters applied.
  const ndjson = await downloadFrom(page, page.getByTestId('audit-export'));
  assert.match(ndjson.name, /^audit-\d{4}-\d{2}-\d{2}\.ndjson$/);
  const lines = ndjson.text.trim().split('\n').map((line) => JSON.parse(line));
  assert.equal(lines.length, 56);
  assert.ok(lines.every((line) => line.action === 'retention.update'));
  await page.locator('#toast').getByText('Audit log exported: 56 entries.').waitFor();
  await page.getByTestId('audit-clear').click();
  await rowsOf(page, 'audit.export').waitFor();

  // A picture for the docs, then a phone: every part fits without scrolling sideways.
  await page.getByTestId('audit-action-filter').fill('');
  await page.getByTestId('audit-action-filter').blur();
  await page.locator('#toast').waitFor({ state: 'hidden', timeout: 10_000 });
  await page.mouse.move(0, 0);
  await settled(page);
  await page.screenshot({ path: join(ARTIFACTS, 'admin-audit.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await settled(page);
  const overflow = await page.evaluate(() => {
    const dashboard = document.getElementById('dashboard');
    return { page: document.documentElement.scrollWidth - document.documentElement.clientWidth, dashboard: dashboard.scrollWidth - dashboard.clientWidth };
  });
  assert.deepEqual(overflow, { page: 0, dashboard: 0 }, 'nothing scrolls sideways on a phone');
  const wrap = page.getByTestId('audit-table').locator('..');
  assert.ok(await wrap.evaluate((node) => node.scrollWidth <= node.clientWidth), 'the log fits a phone');
  const newest = page.getByTestId('audit-row').first();
  assert.equal(await newest.locator('td').first().evaluate((cell) => getComputedStyle(cell, '::before').content), '"Time"', 'each value is labelled');
  await page.screenshot({ path: join(ARTIFACTS, 'admin-audit-phone.png'), fullPage: false });
  await page.setViewportSize({ width: 1280, height: 900 });

  // In Chinese: the nav, the headings, the outcomes and the hint.
  await page.getByTestId('lang').click();
  await page.getByTestId('nav-audit').getByText('审计与隐私').waitFor();
  assert.equal(await text(newest.getByTestId('audit-outcome')), '成功');
  assert.match(await text(page.getByTestId('retention-hint')), /^0 表示永久保留/);
  assert.equal(await text(page.getByTestId('audit-table').locator('th').first()), '时间');
  await page.getByTestId('lang').click();
  await page.getByTestId('nav-audit').getByText('Audit & privacy').waitFor();

  assert.deepEqual(errors, []);
});
