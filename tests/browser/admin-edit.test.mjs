// Editing in the admin dashboard, in real Chromium: an agent's role, capacity, skills,
// departments and "disabled" (which locks that agent out of the console), a new password, and
// departments with their routing settings, which survive a reload. Invalid input is refused
// before anything is sent; a refusal from the server is shown next to the form.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Switchboard, api, launchBrowser, waitFor, watchErrors } from './harness.mjs';

const GRACE = { name: 'Grace Hopper', email: 'grace@northwind.example', password: 'grace-password-1' };
const NEW_PASSWORD = 'cobol-forever-59';

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
const agentRow = (page, email) => page.locator(`[data-testid="agent-row"][data-email="${email}"]`);
const departmentItem = (page, name) =>
  page.getByTestId('department-item').filter({ has: page.getByTestId('department-item-name').getByText(name, { exact: true }) });

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

/** Counts the page's write requests (anything but GET) to the admin API, by "METHOD path". */
function recordWrites(page) {
  const writes = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (request.method() !== 'GET' && path.startsWith('/v1/admin/')) writes.push(`${request.method()} ${path}`);
  });
  return writes;
}

async function signIn(page, path, email, password) {
  await page.goto(`${server.base}${path}`);
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
}

async function openAdmin() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  watchErrors(page, errors);
  await signIn(page, '/admin', ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.getByTestId('agents-table').waitFor();
  return page;
}

test('an admin edits an agent, disables and re-enables her, and sets a new password', async () => {
  const { department } = await api(server, 'POST', '/v1/admin/departments', { name: 'Sales' }, adminToken);
  await api(server, 'POST', '/v1/admin/agents', { ...GRACE, role: 'agent', max_concurrent: 2, department_ids: [department.id] }, adminToken);

  // Grace works in her console.
  const graceContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const grace = await graceContext.newPage();
  watchErrors(grace, errors);
  await signIn(grace, '/agent', GRACE.email, GRACE.password);
  await grace.locator('[data-testid="connection"][data-state="connected"]').waitFor();
  await grace.getByTestId('agent-status').selectOption('online');
  await grace.locator('#availability[data-status="online"]').waitFor();

  const admin = await openAdmin();
  const writes = recordWrites(admin);
  const row = agentRow(admin, GRACE.email);
  await row.waitFor();
  assert.equal(await row.getAttribute('data-disabled'), 'false');

  // The dialog shows what she has now.
  await row.getByTestId('agent-edit').click();
  const dialog = admin.getByTestId('edit-dialog');
  await dialog.waitFor();
  assert.equal(await text(admin.getByTestId('edit-email')), GRACE.email);
  assert.equal(await admin.getByTestId('edit-name').inputValue(), GRACE.name);
  assert.equal(await admin.getByTestId('edit-role').inputValue(), 'agent');
  assert.equal(await admin.getByTestId('edit-max').inputValue(), '2');
  assert.equal(await admin.getByTestId('edit-skills').inputValue(), '');
  assert.equal(await admin.locator(`[data-testid="edit-department"][value="${department.id}"]`).isChecked(), true);
  assert.equal(await admin.getByTestId('edit-disabled').isChecked(), false);

  // Out-of-range capacities and a short password never leave the page.
  for (const max of ['0', '101', '2.5']) {
    await admin.getByTestId('edit-max').fill(max);
    await admin.getByTestId('edit-submit').click();
    await admin.getByTestId('edit-error').getByText('whole number from 1 to 100').waitFor();
    assert.equal(await admin.getByTestId('edit-max').getAttribute('aria-invalid'), 'true');
  }
  await admin.getByTestId('edit-password').fill('short');
  await admin.getByTestId('edit-password-submit').click();
  await admin.getByTestId('edit-password-error').getByText('at least 8 characters').waitFor();
  assert.deepEqual(writes, [], 'nothing was sent for invalid input');

  // Supervisor, 4 at a time, two skills, no department, disabled.
  await admin.getByTestId('edit-password').fill('');
  await admin.getByTestId('edit-role').selectOption('supervisor');
  await admin.getByTestId('edit-max').fill('4');
  await admin.getByTestId('edit-skills').fill('Billing, VIP ,billing');
  await admin.locator(`[data-testid="edit-department"][value="${department.id}"]`).uncheck();
  await admin.getByTestId('edit-disabled').check();
  await settled(admin);
  await admin.screenshot({ path: join(ARTIFACTS, 'admin-edit-agent.png') });
  await admin.getByTestId('edit-submit').click();
  await dialog.waitFor({ state: 'hidden' });
  assert.deepEqual(writes, [`PATCH /v1/admin/agents/${await row.getAttribute('data-agent-id')}`]);
  await admin.locator(`[data-testid="agent-row"][data-email="${GRACE.email}"][data-disabled="true"]`).waitFor();
  assert.equal(await text(row.getByTestId('agent-row-role')), 'Supervisor');
  assert.equal(await text(row.getByTestId('agent-row-status')), 'Disabled');
  assert.equal(await text(row.getByTestId('agent-load')), '0 / 4');
  assert.equal(await text(row.getByTestId('agent-departments')), 'None');
  assert.deepEqual(await row.getByTestId('agent-skills').locator('.chip').allTextContents(), ['billing', 'vip']);

  // Her console loses its session, and signing in again is refused with the reason.
  await grace.getByTestId('login-email').waitFor({ state: 'visible', timeout: 15_000 });
  await grace.getByTestId('login-password').fill(GRACE.password);
  await grace.getByTestId('login-submit').click();
  await grace.getByTestId('login-error').getByText('This account is disabled').waitFor();
  assert.equal(await grace.getByTestId('agent-name').isVisible(), false);

  // Enabled again, with a new password (set from the same dialog).
  await row.getByTestId('agent-edit').click();
  await dialog.waitFor();
  assert.equal(await admin.getByTestId('edit-disabled').isChecked(), true);
  assert.equal(await admin.getByTestId('edit-skills').inputValue(), 'billing, vip');
  await admin.getByTestId('edit-password').fill(NEW_PASSWORD);
  await admin.getByTestId('edit-password').press('Enter'); // sets the password, saves nothing else
  await admin.getByTestId('edit-password-done').getByText('New password set for Grace Hopper').waitFor();
  assert.equal(await admin.getByTestId('edit-password').inputValue(), '');
  assert.ok(await dialog.isVisible(), 'the dialog stays open');
  await admin.getByTestId('edit-disabled').uncheck();
  await admin.getByTestId('edit-submit').click();
  await dialog.waitFor({ state: 'hidden' });
  await admin.locator(`[data-testid="agent-row"][data-email="${GRACE.email}"][data-disabled="false"]`).waitFor();
  assert.equal(writes.filter((write) => write.endsWith('/password')).length, 1);

  // The old password no longer works; the new one does.
  await grace.getByTestId('login-password').fill(GRACE.password);
  await grace.getByTestId('login-submit').click();
  await grace.getByTestId('login-error').getByText('don’t match').waitFor();
  await grace.getByTestId('login-password').fill(NEW_PASSWORD);
  await grace.getByTestId('login-submit').click();
  await waitFor('the console to show Grace', async () => (await text(grace.getByTestId('agent-name'))) === GRACE.name);
  await grace.locator('[data-testid="connection"][data-state="connected"]').waitFor();

  // Her own row: no way to demote or disable herself.
  await agentRow(admin, ADMIN_EMAIL).getByTestId('agent-edit').click();
  await dialog.waitFor();
  assert.equal(await admin.getByTestId('edit-role').isDisabled(), true);
  assert.equal(await admin.getByTestId('edit-disabled').isDisabled(), true);
  await admin.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });

  assert.deepEqual(errors, [], 'no script errors on any page');
});

test('an admin sets departments’ routing strategy, sticky window and required skills, which survive a reload', async () => {
  const admin = await openAdmin();
  const writes = recordWrites(admin);

  // A new department with every setting, after a sticky window that is too long.
  await admin.getByTestId('new-department').click();
  const dialog = admin.getByTestId('department-dialog');
  await dialog.waitFor();
  await admin.getByTestId('dept-name').fill('Billing');
  await admin.getByTestId('dept-strategy').selectOption('round_robin');
  await admin.getByTestId('dept-sticky').fill('31');
  await admin.getByTestId('dept-sticky-unit').selectOption({ label: 'days' });
  await admin.getByTestId('dept-skills').fill('billing, invoices');
  await admin.getByTestId('dept-submit').click();
  await admin.getByTestId('dept-error').getByText('up to 30 days').waitFor();
  assert.deepEqual(writes, [], 'nothing was sent for a window over 30 days');
  await admin.getByTestId('dept-sticky').fill('2');
  await admin.getByTestId('dept-sticky-unit').selectOption({ label: 'hours' });
  await admin.getByTestId('dept-submit').click();
  await dialog.waitFor({ state: 'hidden' });
  const billing = departmentItem(admin, 'Billing');
  await billing.waitFor();
  assert.equal(await billing.getAttribute('data-strategy'), 'round_robin');
  assert.equal(await billing.getAttribute('data-sticky-window-secs'), '7200');
  assert.equal(await text(billing.getByTestId('department-details')), '0 agents · Round robin · sticky 2 h · needs billing, invoices');

  // A quick one by name only, then its strategy and skills are changed.
  await admin.getByTestId('department-name').fill('Support');
  await admin.getByTestId('department-submit').click();
  const support = departmentItem(admin, 'Support');
  await support.waitFor();
  assert.equal(await support.getAttribute('data-strategy'), 'least_loaded');
  await support.getByTestId('department-edit').click();
  await dialog.waitFor();
  assert.equal(await admin.getByTestId('dept-name').inputValue(), 'Support');
  assert.equal(await admin.getByTestId('dept-strategy').inputValue(), 'least_loaded');
  assert.equal(await admin.getByTestId('dept-sticky').inputValue(), '0');
  await admin.getByTestId('dept-strategy').selectOption('longest_idle');
  await admin.getByTestId('dept-skills').fill('English, VIP');
  await settled(admin);
  await admin.screenshot({ path: join(ARTIFACTS, 'admin-department.png') });
  await admin.getByTestId('dept-submit').click();
  await dialog.waitFor({ state: 'hidden' });
  await admin.locator('[data-testid="department-item"][data-strategy="longest_idle"]').waitFor();
  const supportId = await support.getAttribute('data-department-id');
  assert.deepEqual(writes, ['POST /v1/admin/departments', 'POST /v1/admin/departments', `PATCH /v1/admin/departments/${supportId}`]);

  // After a reload, the settings come from the server.
  await admin.reload();
  await support.waitFor();
  assert.equal(await support.getAttribute('data-strategy'), 'longest_idle');
  assert.equal(await support.getAttribute('data-required-skills'), 'english,vip');
  assert.equal(await text(support.getByTestId('department-details')), '0 agents · Longest idle · needs english, vip');
  await support.getByTestId('department-edit').click();
  await dialog.waitFor();
  assert.equal(await admin.getByTestId('dept-strategy').inputValue(), 'longest_idle');
  assert.equal(await admin.getByTestId('dept-skills').inputValue(), 'english, vip');
  await admin.getByTestId('dept-cancel').click();
  await dialog.waitFor({ state: 'hidden' });
  await billing.getByTestId('department-edit').click();
  await dialog.waitFor();
  assert.equal(await admin.getByTestId('dept-strategy').inputValue(), 'round_robin');
  assert.equal(await admin.getByTestId('dept-sticky').inputValue(), '2');
  assert.equal(await admin.getByTestId('dept-sticky-unit').inputValue(), '3600');
  assert.equal(await admin.getByTestId('dept-skills').inputValue(), 'billing, invoices');

  // A name taken meanwhile elsewhere (this page's list is held stale): the server refuses it
  // and the dialog says why.
  await admin.route('**/v1/admin/departments', (route) => (route.request().method() === 'GET' ? route.abort() : route.fallback()));
  await api(server, 'POST', '/v1/admin/departments', { name: 'Escalations' }, adminToken);
  await admin.getByTestId('dept-name').fill('Escalations');
  await admin.getByTestId('dept-submit').click();
  await admin.getByTestId('dept-error').getByText('A department with this name already exists.').waitFor();
  assert.equal(await admin.getByTestId('dept-name').getAttribute('aria-invalid'), 'true');
  assert.ok(await dialog.isVisible(), 'the dialog stays open with its error');
  await admin.unroute('**/v1/admin/departments');
  await admin.getByTestId('dept-cancel').click();
  await dialog.waitFor({ state: 'hidden' });
  await departmentItem(admin, 'Escalations').waitFor();
  assert.equal(await departmentItem(admin, 'Billing').count(), 1, 'Billing kept its name');

  // The dashboard with its settings, for the docs.
  await admin.locator('#toast').waitFor({ state: 'hidden', timeout: 10_000 });
  await settled(admin);
  await admin.screenshot({ path: join(ARTIFACTS, 'admin-dashboard-settings.png') });

  assert.deepEqual(errors, [], 'no script errors on any page');
});
