// Waiting in line, in real Chromium: visitors see their place (and, once routing has learned
// from finished conversations, the expected wait), and an agent who is Away takes a waiting
// conversation with the console's Take button, is refused while Offline, and replies.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Switchboard, api, launchBrowser, waitFor, watchErrors, widgetFirstMessage } from './harness.mjs';

let server;
let browser;
after(async () => {
  await browser?.close();
  await server?.stop();
});

const text = async (locator) => ((await locator.textContent()) ?? '').trim();

/** Opens the demo shop in a fresh browser context and sends the visitor's first message. */
async function visitorWrites(errors, message) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  watchErrors(page, errors);
  await page.goto(server.base);
  await page.getByTestId('sb-launcher').click();
  await page.locator('[data-testid="sb-connection"][data-state="connected"]').waitFor();
  await widgetFirstMessage(page, message);
  await page.locator('[data-testid="sb-message"][data-state="sent"]').first().waitFor();
  await page.locator('[data-testid="sb-status"][data-status="queued"]').waitFor();
  const conversationId = await waitFor('the conversation id', () => page.evaluate(() => window.SwitchboardWidget.state().conversationId));
  return { page, conversationId };
}

/** Waits until the widget shows place `position` in line, and returns the text it shows. */
async function placeShown(page, position) {
  const line = page.locator(`[data-testid="sb-queue"][data-position="${position}"]`);
  await line.waitFor({ state: 'visible' });
  return text(line);
}

test('visitors see their place in line, and an agent takes a waiting conversation with Take', async () => {
  server = await Switchboard.start();
  browser = await launchBrowser();
  const errors = [];

  // One conversation at a time for the administrator, so that later a visitor waits while she
  // is online and the widget can show an expected wait.
  const token = await api(server, 'POST', '/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD }).then((body) => body.token);
  const { agents } = await api(server, 'GET', '/v1/admin/agents', undefined, token);
  const adminId = agents.find((agent) => agent.email === ADMIN_EMAIL).id;
  await api(server, 'PATCH', `/v1/admin/agents/${adminId}`, { max_concurrent: 1 }, token);

  // Nobody is online: the first visitor is next in line, with no estimate (nothing learned yet).
  const first = await visitorWrites(errors, 'Do you ship to Norway?');
  assert.equal(await placeShown(first.page, 1), 'You are #1 in line');
  assert.equal(await first.page.getByTestId('sb-queue').getAttribute('aria-live'), 'polite');
  assert.equal(await first.page.getByTestId('sb-queue').getAttribute('data-wait'), '');

  const second = await visitorWrites(errors, 'Is the blue jacket back in stock?');
  assert.equal(await placeShown(second.page, 2), 'You are #2 in line');
  assert.equal(await placeShown(first.page, 1), 'You are #1 in line', 'the first visitor keeps the first place');

  // The administrator signs in to the console; both conversations wait in her queue.
  const agentContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const agent = await agentContext.newPage();
  watchErrors(agent, errors);
  await agent.goto(`${server.base}/agent`);
  await agent.getByTestId('login-email').fill(ADMIN_EMAIL);
  await agent.getByTestId('login-password').fill(ADMIN_PASSWORD);
  await agent.getByTestId('login-submit').click();
  await agent.locator('[data-testid="connection"][data-state="connected"]').waitFor();
  const queueItem = (id) => agent.locator(`[data-testid="queue-item"][data-conversation-id="${id}"]`);
  await queueItem(first.conversationId).waitFor({ timeout: 15_000 });
  await queueItem(second.conversationId).waitFor();
  assert.equal(await agent.getByTestId('queue-take').count(), 2, 'one Take button per waiting conversation');

  // Offline, the server refuses the claim, and the console says why.
  assert.equal(await agent.getByTestId('agent-status').inputValue(), 'offline');
  await queueItem(first.conversationId).getByTestId('queue-take').click();
  await agent.locator('#toast').getByText('You are Offline. Set yourself Online or Away to take conversations.').waitFor();
  assert.equal(await queueItem(first.conversationId).getByTestId('queue-take').getAttribute('aria-disabled'), 'false', 'Take works again');
  assert.equal(await queueItem(first.conversationId).count(), 1, 'still waiting');
  assert.equal(await agent.getByTestId('conversation-item').count(), 0, 'nothing was assigned');
  await agent.locator('#toast-close').click();

  // Away (no automatic assignment), she takes the first conversation with the keyboard.
  await agent.getByTestId('agent-status').selectOption('away');
  await agent.locator('#availability[data-status="away"]').waitFor();
  await queueItem(first.conversationId).locator('[data-testid="queue-take"][aria-disabled="false"]').waitFor();
  await agent.screenshot({ path: join(ARTIFACTS, 'agent-console-queue.png') });
  await queueItem(first.conversationId).getByTestId('queue-take').focus();
  await agent.keyboard.press('Enter');
  await agent.locator(`[data-testid="thread"][data-conversation-id="${first.conversationId}"]`).waitFor();
  await agent.getByTestId('message-text').filter({ hasText: 'ship to Norway' }).waitFor();
  await waitFor('the reply box to have the focus', () => agent.evaluate(() => document.activeElement?.id === 'reply-input'));
  await queueItem(first.conversationId).waitFor({ state: 'detached' });
  assert.equal(await queueItem(second.conversationId).count(), 1, 'the other conversation still waits');

  // The first visitor's line goes away; the second visitor moves up.
  await first.page.locator('[data-testid="sb-status"][data-status="assigned"]').waitFor();
  assert.equal(await first.page.getByTestId('sb-queue').isVisible(), false, 'no place in line once assigned');
  assert.equal(await text(first.page.getByTestId('sb-queue')), '');
  assert.equal(await placeShown(second.page, 1), 'You are #1 in line');

  // She replies and the visitor sees it.
  await agent.getByTestId('reply-input').fill('Yes, we ship to Norway in 3–5 days.');
  await agent.getByTestId('reply-send').click();
  await first.page.getByTestId('sb-text').filter({ hasText: 'ship to Norway in 3–5 days' }).waitFor();

  // Closing it teaches routing how long a conversation takes. She takes the second one, goes
  // Online with no room left, and a third visitor now gets an estimate.
  await agent.getByTestId('close-conversation').click();
  await agent.getByTestId('close-plain').click();
  await first.page.locator('[data-testid="sb-status"][data-status="closed"]').waitFor();
  await queueItem(second.conversationId).locator('[data-testid="queue-take"][aria-disabled="false"]').waitFor();
  await queueItem(second.conversationId).getByTestId('queue-take').click();
  await agent.locator(`[data-testid="thread"][data-conversation-id="${second.conversationId}"]`).waitFor();
  await second.page.locator('[data-testid="sb-status"][data-status="assigned"]').waitFor();
  assert.equal(await second.page.getByTestId('sb-queue').isVisible(), false);
  await agent.getByTestId('agent-status').selectOption('online');
  await agent.locator('#availability[data-status="online"]').waitFor();

  const third = await visitorWrites(errors, 'Can I change my delivery address?');
  const shown = await placeShown(third.page, 1);
  const wait = Number(await third.page.getByTestId('sb-queue').getAttribute('data-wait'));
  assert.ok(Number.isInteger(wait) && wait >= 1, `an expected wait in seconds: ${wait}`);
  const expected = wait < 60 ? 'less than a minute' : `about ${Math.ceil(wait / 60)} min`;
  assert.equal(shown, `You are #1 in line · ${expected}`);
  await third.page.screenshot({ path: join(ARTIFACTS, 'visitor-queue.png') });

  // The same line in Chinese.
  await third.page.getByTestId('sb-lang').click();
  const chinese = await text(third.page.getByTestId('sb-queue'));
  assert.match(chinese, /^您当前排在第 1 位 · 预计等待(不到 1 分钟|约 \d+ 分钟)$/);

  assert.deepEqual(errors, [], 'no script errors on any page');
});
