// A department outside its business hours: the widget (with data-department) offers a message
// form with an email instead of the chat, the visitor leaves a message, and an agent of that
// department who comes online finds it marked as an offline message with the email. An unknown
// department is refused in words. An announcement reaches the agent's console.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Switchboard, api, launchBrowser, waitFor, watchErrors } from './harness.mjs';

const GRACE = { name: 'Grace Hopper', email: 'grace@northwind.example', password: 'grace-password-1' };
const ZONE = 'Asia/Shanghai';

let server;
let browser;
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** ISO weekday (1 = Monday … 7 = Sunday) of `date` in `timeZone`. */
function weekdayIn(timeZone, date = new Date()) {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short' }).format(date);
  return ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(name) + 1;
}

async function openConsole(errors, email, password) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  watchErrors(page, errors);
  await page.goto(`${server.base}/agent`);
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
  return page;
}

test('a visitor leaves a message with an email outside business hours, and the department’s agent gets it', async () => {
  server = await Switchboard.start();
  browser = await launchBrowser();
  const errors = [];
  const token = (await api(server, 'POST', '/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).token;

  // Open only on a day that is not today in Shanghai: closed now, whatever the hour.
  const today = weekdayIn(ZONE);
  const otherDay = (today % 7) + 1;
  const { department } = await api(server, 'POST', '/v1/admin/departments', {
    name: 'Night desk',
    business_hours: { time_zone: ZONE, intervals: [{ weekday: otherDay, open: '09:00', close: '17:00' }] },
  }, token);
  assert.equal(department.business_hours.time_zone, ZONE);
  await api(server, 'POST', '/v1/admin/agents', { ...GRACE, role: 'agent', max_concurrent: 3, department_ids: [department.id] }, token);

  // An id that is no department of the workspace is refused in words.
  const strayContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const stray = await strayContext.newPage();
  watchErrors(stray, errors);
  await stray.goto(`${server.base}/?department=01900000-0000-7000-8000-000000000000`);
  await stray.getByTestId('sb-launcher').click();
  await stray.getByTestId('sb-notice').filter({ hasText: 'not available on this page' }).waitFor();
  await strayContext.close();

  const visitorContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const visitor = await visitorContext.newPage();
  watchErrors(visitor, errors);
  const sent = [];
  visitor.on('websocket', (socket) => {
    assert.match(socket.url(), new RegExp(`department=${department.id}`), 'the widget names its department');
    socket.on('framesent', (frame) => sent.push(JSON.parse(String(frame.payload))));
  });
  await visitor.goto(`${server.base}/?department=${department.id}`);
  await visitor.getByTestId('sb-launcher').click();
  await visitor.getByTestId('sb-offline').waitFor();
  assert.match(await visitor.getByTestId('sb-status').textContent(), /outside our opening hours/);
  assert.equal(await visitor.getByTestId('sb-input').isVisible(), false);
  // The message box has the focus; Tab reaches the email, a bad one is refused before sending.
  await waitFor('the focus in the message box', () => visitor.evaluate(() =>
    document.getElementById('switchboard-widget').shadowRoot.activeElement?.dataset.testid === 'sb-offline-text'));
  await visitor.keyboard.type('Do you ship to Norway? Please write me.');
  await visitor.keyboard.press('Tab');
  await visitor.keyboard.type('ada at example.com');
  await visitor.keyboard.press('Enter');
  await visitor.getByTestId('sb-offline-error').filter({ hasText: 'valid email' }).waitFor();
  assert.equal(sent.filter((frame) => frame.type === 'message').length, 0, 'nothing sent with a bad address');
  await visitor.getByTestId('sb-offline-email').fill('ada@example.com');
  await visitor.getByTestId('sb-offline-error').waitFor({ state: 'hidden' });
  await visitor.screenshot({ path: join(ARTIFACTS, 'visitor-offline.png') });
  await visitor.getByTestId('sb-offline-submit').click();
  await visitor.getByTestId('sb-offline-sent').filter({ hasText: 'We’ll reply to you at ada@example.com.' }).waitFor();
  await visitor.locator('[data-testid="sb-message"][data-state="sent"]').waitFor();
  const message = sent.find((frame) => frame.type === 'message');
  assert.equal(message.email, 'ada@example.com', 'the first message carries the email');

  // Grace comes online and gets it, marked as an offline message with the address.
  const grace = await openConsole(errors, GRACE.email, GRACE.password);
  await grace.getByTestId('agent-status').selectOption('online');
  const item = grace.getByTestId('conversation-item').first();
  await item.waitFor({ timeout: 20_000 });
  await item.getByTestId('conversation-offline').filter({ hasText: 'Offline' }).waitFor();
  await item.click();
  await grace.getByTestId('message-text').filter({ hasText: 'ship to Norway' }).waitFor();
  await grace.getByTestId('thread-offline').waitFor();
  assert.equal(await grace.getByTestId('thread-contact-email').textContent(), 'ada@example.com');
  assert.equal(await grace.getByTestId('thread-contact-email').getAttribute('href'), 'mailto:ada@example.com');
  await grace.screenshot({ path: join(ARTIFACTS, 'agent-console-offline.png') });

  // The admin announces something to the department: Grace sees it and dismisses it.
  await api(server, 'POST', '/v1/announcements', { text: 'Night shift <b>ends</b> at 6.', department_id: department.id }, token);
  const notice = grace.getByTestId('announcement');
  await notice.waitFor();
  assert.equal(await notice.getByTestId('announcement-text').textContent(), 'Night shift <b>ends</b> at 6.');
  assert.match(await notice.getByTestId('announcement-from').textContent(), /Announcement from Administrator/);
  await notice.getByTestId('announcement-dismiss').focus();
  await grace.keyboard.press('Enter');
  await notice.waitFor({ state: 'detached' });

  // The dashboard shows the sockets per gateway and the messages of the last minute, live.
  const dashboardContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const dashboard = await dashboardContext.newPage();
  watchErrors(dashboard, errors);
  await dashboard.goto(`${server.base}/admin`);
  await dashboard.getByTestId('login-email').fill(ADMIN_EMAIL);
  await dashboard.getByTestId('login-password').fill(ADMIN_PASSWORD);
  await dashboard.getByTestId('login-submit').click();
  const gateway = dashboard.getByTestId('gateway');
  await waitFor('one gateway with the visitor and Grace', async () =>
    (await gateway.count()) === 1 &&
    (await gateway.getByTestId('gateway-visitors').getAttribute('data-count')) === '1' &&
    (await gateway.getByTestId('gateway-agents').getAttribute('data-count')) === '1', 20_000);
  assert.match(await gateway.textContent(), /^gateway-\S+ 1 visitor · 1 agent$/);
  await dashboard.locator('[data-testid="metric-messages"]').filter({ hasText: /^1$/ }).waitFor();
  await grace.getByTestId('reply-input').fill('Yes, we do. I have written to you.');
  await grace.getByTestId('reply-input').press('Enter');
  await dashboard.locator('[data-testid="metric-messages"]').filter({ hasText: /^2$/ }).waitFor();
  await visitorContext.close();
  await waitFor('the visitor gone from the gateway', async () =>
    (await gateway.getByTestId('gateway-visitors').getAttribute('data-count')) === '0', 20_000);
  await dashboard.screenshot({ path: join(ARTIFACTS, 'admin-dashboard-traffic.png') });

  assert.deepEqual(errors, []);
});
