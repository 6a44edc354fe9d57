// The admin dashboard in real Chromium: sign-in, a department, a new agent (and a refused
// duplicate), the live overview following that agent going online in the console, and the
// "Administrators only" screen for someone who is not an administrator.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Switchboard, launchBrowser, waitFor, watchErrors } from './harness.mjs';

const GRACE = { name: 'Grace Hopper', email: 'grace@northwind.example', password: 'grace-password-1' };
const TOKEN_KEY = 'switchboard.console.token'; // shared by /agent and /admin

let server;
let browser;
after(async () => {
  await browser?.close();
  await server?.stop();
});

const agentRow = (page, email) => page.locator(`[data-testid="agent-row"][data-email="${email}"]`);
const text = async (locator) => ((await locator.textContent()) ?? '').trim();

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

async function fillAgentForm(page, { name, email, password, role, max, departmentId }) {
  await page.getByTestId('agent-name').fill(name);
  await page.getByTestId('agent-email').fill(email);
  await page.getByTestId('agent-password').fill(password);
  await page.getByTestId('agent-role').selectOption(role);
  await page.getByTestId('agent-max').fill(String(max));
  if (departmentId) await page.locator(`[data-testid="agent-department"][value="${departmentId}"]`).check();
}

test('an admin adds a department and an agent, and watches that agent go online', async () => {
  server = await Switchboard.start();
  browser = await launchBrowser();
  const errors = [];

  // Sign in as the bootstrap admin, after one wrong password.
  const adminContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const admin = await adminContext.newPage();
  watchErrors(admin, errors);
  const agentPosts = [];
  admin.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/v1/admin/agents') agentPosts.push(request);
  });
  await admin.goto(`${server.base}/admin`);
  await admin.getByTestId('login-email').fill(ADMIN_EMAIL);
  await admin.getByTestId('login-password').fill('wrong password');
  await admin.getByTestId('login-submit').click();
  await admin.getByTestId('login-error').waitFor({ state: 'visible' });
  await admin.getByTestId('login-password').fill(ADMIN_PASSWORD);
  await admin.getByTestId('login-submit').click();
  await admin.getByTestId('agents-table').waitFor();
  await agentRow(admin, ADMIN_EMAIL).waitFor();

  // The overview is live from the start: nobody online (the admin has no console open).
  await waitFor('the overview numbers', async () => (await text(admin.getByTestId('metric-agents-online'))) === '0');
  assert.equal(await text(admin.getByTestId('metric-queue-length')), '0');
  assert.equal(await text(admin.getByTestId('metric-open-conversations')), '0');
  assert.match(await text(admin.getByTestId('metric-longest-wait')), /^\d+\s?(s|min|h)$/);

  // A department.
  await admin.getByTestId('department-name').fill('Sales');
  await admin.getByTestId('department-submit').click();
  const sales = admin.getByTestId('departments').getByTestId('department-item').filter({ hasText: 'Sales' });
  await sales.waitFor();
  assert.equal(await admin.getByTestId('department-name').inputValue(), '', 'the add form is cleared');
  const salesId = await sales.getAttribute('data-department-id');
  assert.ok(salesId, 'the department item carries its id');

  // A new agent: a too-short password is refused before anything is sent.
  await admin.getByTestId('new-agent').click();
  await fillAgentForm(admin, { ...GRACE, password: 'short', role: 'agent', max: 2, departmentId: salesId });
  await admin.getByTestId('agent-submit').click();
  await admin.getByTestId('agent-error').waitFor({ state: 'visible' });
  assert.equal(agentPosts.length, 0, 'nothing was sent for an invalid form');

  await admin.getByTestId('agent-password').fill(GRACE.password);
  await admin.getByTestId('agent-submit').click();
  await admin.getByTestId('agent-dialog').waitFor({ state: 'hidden' });
  const graceRow = agentRow(admin, GRACE.email);
  await graceRow.waitFor();
  assert.equal(agentPosts.length, 1);
  assert.equal(await text(graceRow.getByTestId('agent-row-name')), GRACE.name);
  assert.equal(await text(graceRow.getByTestId('agent-load')), '0 / 2');
  assert.equal(await text(graceRow.getByTestId('agent-departments')), 'Sales');
  assert.equal(await graceRow.getAttribute('data-status'), 'offline');

  // The same email again: the server refuses it and the form says so.
  await admin.getByTestId('new-agent').click();
  await fillAgentForm(admin, { ...GRACE, role: 'agent', max: 2 });
  await admin.getByTestId('agent-submit').click();
  await admin.getByTestId('agent-error').waitFor({ state: 'visible' });
  assert.equal(agentPosts.length, 2, 'the duplicate reached the server');
  assert.ok(await admin.getByTestId('agent-dialog').isVisible(), 'the form stays open with its error');
  assert.equal(await agentRow(admin, GRACE.email).count(), 1, 'still one Grace');
  await admin.getByTestId('agent-cancel').click();
  await admin.getByTestId('agent-dialog').waitFor({ state: 'hidden' });

  // Grace signs in to the console in her own browser and goes online.
  const graceContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const grace = await graceContext.newPage();
  watchErrors(grace, errors);
  await grace.goto(`${server.base}/agent`);
  await grace.getByTestId('login-email').fill(GRACE.email);
  await grace.getByTestId('login-password').fill(GRACE.password);
  await grace.getByTestId('login-submit').click();
  await waitFor('the console to show Grace', async () => (await text(grace.getByTestId('agent-name'))) === GRACE.name);
  await grace.locator('[data-testid="connection"][data-state="connected"]').waitFor();
  await grace.getByTestId('agent-status').selectOption('online');

  // The dashboard follows without a reload.
  await waitFor('one agent online on the dashboard', async () => (await text(admin.getByTestId('metric-agents-online'))) === '1');
  await admin.locator(`[data-testid="agent-row"][data-email="${GRACE.email}"][data-status="online"]`).waitFor();

  // Grace is not an administrator: /admin (same session as her console) says so.
  const graceAdmin = await graceContext.newPage();
  watchErrors(graceAdmin, errors);
  await graceAdmin.goto(`${server.base}/admin`);
  await graceAdmin.getByTestId('admin-forbidden').waitFor({ state: 'visible' });
  assert.equal(await graceAdmin.getByTestId('agents-table').isVisible(), false, 'no dashboard for agents');
  assert.equal(await graceAdmin.getByTestId('forbidden-console').getAttribute('href'), '/agent');
  await graceAdmin.close();

  // The picture: data shown, toast gone, transitions over.
  await admin.locator('#toast').waitFor({ state: 'hidden', timeout: 10_000 });
  await admin.getByTestId('department-item').first().waitFor();
  await settled(admin);
  await admin.screenshot({ path: join(ARTIFACTS, 'admin-dashboard.png') });

  // Chinese and back; the live numbers stay.
  await admin.getByTestId('lang').click();
  await admin.getByText('实时概览').waitFor();
  assert.equal(await text(admin.getByTestId('metric-agents-online')), '1');
  await admin.getByTestId('lang').click();
  await admin.getByText('Live overview').waitFor();

  // Logging out ends the shared session.
  await admin.getByTestId('logout').click();
  await admin.getByTestId('login-email').waitFor({ state: 'visible' });
  assert.equal(await admin.evaluate((key) => localStorage.getItem(key), TOKEN_KEY), null);

  assert.deepEqual(errors, [], 'no script errors on any page');
});
