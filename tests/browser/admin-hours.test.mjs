// Business hours and announcements in the admin dashboard, in real Chromium: a department gets
// Mon–Fri 09:00–18:00 in Asia/Shanghai (a closing time before the opening time and an unknown
// zone are refused before anything is sent), the hours survive a reload, "Always open" clears
// them (PATCH null) and that survives a reload too. An announcement is checked for length, then
// sent to everyone and to one department, and arrives in an agent's console.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Switchboard, api, launchBrowser, waitFor, watchErrors } from './harness.mjs';

const GRACE = { name: 'Grace Hopper', email: 'grace@northwind.example', password: 'grace-password-1' };
const ZONE = 'Asia/Shanghai';

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
const departmentItem = (page, name) =>
  page.getByTestId('department-item').filter({ has: page.getByTestId('department-item-name').getByText(name, { exact: true }) });
const day = (page, weekday) => page.locator(`[data-testid="dept-day"][data-weekday="${weekday}"]`);

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

/** The page's write requests to the API (anything but GET), as { what: "METHOD path", body }. */
function recordWrites(page) {
  const writes = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (request.method() !== 'GET' && (path.startsWith('/v1/admin/') || path === '/v1/announcements')) {
      writes.push({ what: `${request.method()} ${path}`, body: request.postDataJSON() });
    }
  });
  return writes;
}

async function signIn(page, path, email, password) {
  await page.goto(`${server.base}${path}`);
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
}

async function storedHours(id) {
  const { departments } = await api(server, 'GET', '/v1/admin/departments', undefined, adminToken);
  return departments.find((department) => department.id === id).business_hours;
}

test('an admin sets a department’s business hours, sees them kept after a reload, and clears them', async () => {
  const { department } = await api(server, 'POST', '/v1/admin/departments', { name: 'Support' }, adminToken);
  await api(server, 'POST', '/v1/admin/agents', { ...GRACE, role: 'agent', max_concurrent: 3, department_ids: [department.id] }, adminToken);

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const admin = await context.newPage();
  watchErrors(admin, errors);
  await signIn(admin, '/admin', ADMIN_EMAIL, ADMIN_PASSWORD);
  const writes = recordWrites(admin);
  const support = departmentItem(admin, 'Support');
  await support.waitFor();
  assert.equal(await support.getAttribute('data-business-hours'), '');
  assert.equal(await text(support.getByTestId('department-details')), '1 agent · Least loaded');

  // A department without hours is always open; the editor shows once hours are chosen.
  await support.getByTestId('department-edit').click();
  const dialog = admin.getByTestId('department-dialog');
  await dialog.waitFor();
  assert.equal(await admin.getByTestId('dept-hours-always').isChecked(), true);
  assert.equal(await admin.getByTestId('dept-hours-editor').isVisible(), false);
  await admin.getByTestId('dept-hours-set').check();
  await admin.getByTestId('dept-hours-editor').waitFor();
  await admin.getByTestId('dept-tz').fill(ZONE);
  for (const weekday of [1, 2, 3, 4, 5, 6, 7]) {
    const row = day(admin, weekday);
    await row.getByTestId('dept-day-open').setChecked(weekday <= 5);
    if (weekday <= 5) {
      await row.getByTestId('dept-day-from').fill('09:00');
      await row.getByTestId('dept-day-to').fill('18:00');
    } else {
      assert.equal(await text(row.getByTestId('dept-day-closed')), 'Closed');
      assert.equal(await row.getByTestId('dept-day-from').isVisible(), false);
    }
  }

  // Closing before opening, and an unknown zone, never leave the page.
  const monday = day(admin, 1);
  await monday.getByTestId('dept-day-to').fill('08:30');
  await admin.getByTestId('dept-submit').click();
  await admin.getByTestId('dept-error').getByText('Monday: the closing time must be later than the opening time.').waitFor();
  assert.equal(await monday.getByTestId('dept-day-to').getAttribute('aria-invalid'), 'true');
  assert.equal(await admin.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Monday closes at');
  await monday.getByTestId('dept-day-to').fill('18:00');
  await admin.getByTestId('dept-error').waitFor({ state: 'hidden' });
  await admin.getByTestId('dept-tz').fill('Mars/Olympus');
  await admin.getByTestId('dept-submit').click();
  await admin.getByTestId('dept-error').getByText('“Mars/Olympus” is not a known time zone.').waitFor();
  assert.equal(await admin.getByTestId('dept-tz').getAttribute('aria-invalid'), 'true');
  assert.deepEqual(writes, [], 'nothing was sent for invalid hours');

  await admin.getByTestId('dept-tz').fill(ZONE);
  await admin.getByTestId('dept-error').waitFor({ state: 'hidden' });
  await settled(admin);
  await admin.screenshot({ path: join(ARTIFACTS, 'admin-department-hours.png') });

  // A refusal by the server (its message format, answered here) is shown in words on the field.
  await admin.route(`**/v1/admin/departments/${department.id}`, (route) =>
    route.fulfill({
      status: 400,
      contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'invalid_argument', message: 'business_hours.time_zone: unknown IANA time zone' } }),
    }),
  );
  await admin.getByTestId('dept-submit').click();
  await admin.getByTestId('dept-error').getByText('The server does not know this time zone.').waitFor();
  assert.equal(await admin.getByTestId('dept-tz').getAttribute('aria-invalid'), 'true');
  await admin.unroute(`**/v1/admin/departments/${department.id}`);
  writes.length = 0;

  await admin.getByTestId('dept-submit').click();
  await dialog.waitFor({ state: 'hidden' });
  const weekdays = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, open: '09:00', close: '18:00' }));
  assert.deepEqual(writes, [{ what: `PATCH /v1/admin/departments/${department.id}`, body: { business_hours: { time_zone: ZONE, intervals: weekdays } } }]);
  assert.deepEqual(await storedHours(department.id), { time_zone: ZONE, intervals: weekdays });
  const summary = '1 agent · Least loaded · open Mon–Fri 09:00–18:00 (Asia/Shanghai)';
  await support.getByTestId('department-details').getByText(summary, { exact: true }).waitFor();

  // After a reload the list and the dialog show the saved hours.
  await admin.reload();
  await support.waitFor();
  assert.equal(await text(support.getByTestId('department-details')), summary);
  await support.getByTestId('department-edit').click();
  await dialog.waitFor();
  assert.equal(await admin.getByTestId('dept-hours-set').isChecked(), true);
  assert.equal(await admin.getByTestId('dept-tz').inputValue(), ZONE);
  for (const weekday of [1, 5]) {
    assert.equal(await day(admin, weekday).getByTestId('dept-day-open').isChecked(), true);
    assert.equal(await day(admin, weekday).getByTestId('dept-day-from').inputValue(), '09:00');
    assert.equal(await day(admin, weekday).getByTestId('dept-day-to').inputValue(), '18:00');
  }
  for (const weekday of [6, 7]) assert.equal(await day(admin, weekday).getByTestId('dept-day-open').isChecked(), false);

  // Saving another setting leaves the hours alone.
  writes.length = 0;
  await admin.getByTestId('dept-strategy').selectOption('round_robin');
  await admin.getByTestId('dept-submit').click();
  await dialog.waitFor({ state: 'hidden' });
  assert.deepEqual(writes.map((write) => write.body), [{ strategy: 'round_robin' }]);
  assert.deepEqual(await storedHours(department.id), { time_zone: ZONE, intervals: weekdays });

  // "Always open", chosen with the arrow keys, clears them: PATCH null.
  writes.length = 0;
  await support.getByTestId('department-edit').click();
  await dialog.waitFor();
  await admin.getByTestId('dept-hours-set').focus();
  await admin.keyboard.press('ArrowLeft');
  assert.equal(await admin.getByTestId('dept-hours-always').isChecked(), true);
  await admin.getByTestId('dept-hours-editor').waitFor({ state: 'hidden' });
  await admin.getByTestId('dept-submit').click();
  await dialog.waitFor({ state: 'hidden' });
  assert.deepEqual(writes, [{ what: `PATCH /v1/admin/departments/${department.id}`, body: { business_hours: null } }]);
  assert.equal(await storedHours(department.id), null);
  await admin.reload();
  await support.waitFor();
  assert.equal(await text(support.getByTestId('department-details')), '1 agent · Round robin');
  assert.equal(await support.getAttribute('data-business-hours'), '');
  await support.getByTestId('department-edit').click();
  await dialog.waitFor();
  assert.equal(await admin.getByTestId('dept-hours-always').isChecked(), true);
  assert.equal(await admin.getByTestId('dept-hours-editor').isVisible(), false);
  await admin.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });

  // A new department is created with its hours, a Saturday morning too; the summary groups days.
  await admin.getByTestId('new-department').click();
  await dialog.waitFor();
  await admin.getByTestId('dept-name').fill('Weekend desk');
  await admin.getByTestId('dept-hours-set').check();
  await admin.getByTestId('dept-tz').fill('Europe/London');
  await day(admin, 6).getByTestId('dept-day-open').check();
  await day(admin, 6).getByTestId('dept-day-from').fill('10:00');
  await day(admin, 6).getByTestId('dept-day-to').fill('14:00');
  await admin.getByTestId('dept-submit').click();
  await dialog.waitFor({ state: 'hidden' });
  const weekend = departmentItem(admin, 'Weekend desk');
  await weekend.getByTestId('department-details').getByText('0 agents · Least loaded · open Mon–Fri 09:00–18:00; Sat 10:00–14:00 (Europe/London)').waitFor();

  // In Chinese.
  await admin.getByTestId('lang').click();
  await weekend.getByTestId('department-details').getByText('0 名客服 · 最少负载 · 营业 周一–周五 09:00–18:00；周六 10:00–14:00（Europe/London）').waitFor();
  await admin.getByTestId('lang').click();
  await context.close();

  assert.deepEqual(errors, [], 'no script errors on any page');
});

test('an admin sends announcements, checked for length, and an agent’s console shows them', async () => {
  const { departments } = await api(server, 'GET', '/v1/admin/departments', undefined, adminToken);
  const support = departments.find((department) => department.name === 'Support');

  // Grace has her console open (announcements go to every open console, whatever the status).
  const graceContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const grace = await graceContext.newPage();
  watchErrors(grace, errors);
  await signIn(grace, '/agent', GRACE.email, GRACE.password);
  await grace.locator('[data-testid="connection"][data-state="connected"]').waitFor();

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const admin = await context.newPage();
  watchErrors(admin, errors);
  await signIn(admin, '/admin', ADMIN_EMAIL, ADMIN_PASSWORD);
  await admin.getByTestId('agents-table').waitFor();
  const writes = recordWrites(admin);
  const form = admin.getByTestId('announce-form');
  await form.waitFor();
  await waitFor('Support in the department choice', async () =>
    (await admin.getByTestId('announce-department').locator('option').allTextContents()).includes('Support'));
  assert.equal(await admin.getByTestId('announce-department').inputValue(), '', '"All agents" first');

  // Empty (spaces only) and too long are refused before sending.
  await admin.getByTestId('announce-text').fill('   ');
  await admin.getByTestId('announce-submit').click();
  await admin.getByTestId('announce-error').getByText('Write the announcement first.').waitFor();
  assert.equal(await admin.getByTestId('announce-text').getAttribute('aria-invalid'), 'true');
  await admin.getByTestId('announce-text').fill('x'.repeat(2001));
  await admin.getByTestId('announce-error').waitFor({ state: 'hidden' });
  assert.equal(await text(admin.getByTestId('announce-count')), '2001 / 2000');
  await admin.getByTestId('announce-submit').click();
  await admin.getByTestId('announce-error').getByText('at most 2000 characters (this one has 2001)').waitFor();
  assert.deepEqual(writes, [], 'nothing was sent');

  // To everyone, sent with Ctrl+Enter from the box; markup stays text.
  await admin.getByTestId('announce-text').fill('Lunch break at <b>12:30</b> today.');
  await admin.getByTestId('announce-text').press('Control+Enter');
  await admin.getByTestId('announce-done').getByText('Announcement sent to every agent with the console open.').waitFor();
  assert.equal(await admin.getByTestId('announce-text').inputValue(), '');
  assert.deepEqual(writes, [{ what: 'POST /v1/announcements', body: { text: 'Lunch break at <b>12:30</b> today.' } }]);
  const notice = grace.getByTestId('announcement').filter({ hasText: 'Lunch break' });
  await notice.waitFor();
  assert.equal(await notice.getByTestId('announcement-text').textContent(), 'Lunch break at <b>12:30</b> today.');
  assert.match(await notice.getByTestId('announcement-from').textContent(), /Announcement from Administrator/);

  // To Support, Grace's department.
  await admin.getByTestId('announce-department').selectOption(support.id);
  await admin.getByTestId('announce-text').fill('Support: new refund policy from Monday.');
  await admin.getByTestId('announce-submit').click();
  await admin.getByTestId('announce-done').getByText('Announcement sent to the agents of Support with the console open.').waitFor();
  assert.deepEqual(writes[1], { what: 'POST /v1/announcements', body: { text: 'Support: new refund policy from Monday.', department_id: support.id } });
  await grace.getByTestId('announcement').filter({ hasText: 'new refund policy' }).waitFor();
  assert.equal(await grace.getByTestId('announcement').count(), 2);

  await settled(admin);
  await admin.getByTestId('announce-card').screenshot({ path: join(ARTIFACTS, 'admin-announcement.png') });

  // In Chinese.
  await admin.getByTestId('lang').click();
  await admin.getByTestId('announce-done').getByText('公告已发送给Support当前打开控制台的客服。').waitFor();
  assert.equal(await text(admin.getByTestId('announce-submit')), '发送');
  assert.equal(await admin.getByTestId('announce-department').locator('option').first().textContent(), '全部客服');
  await admin.getByTestId('lang').click();

  assert.deepEqual(errors, [], 'no script errors on any page');
});
