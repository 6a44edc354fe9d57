// The visitor widget and the agent console chatting in real Chromium, through a crash of the
// server, a page reload and hostile message texts.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Switchboard, launchBrowser, waitFor, watchErrors } from './harness.mjs';

const XSS_VISITOR = '<img src=x onerror="window.__pwned=1"> & <b>bold?</b>';
const XSS_AGENT = '<script>window.__pwned=1</script>';

let server;
let browser;
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Returns the texts and seqs of the messages a page shows, in page order. */
async function shown(page, messageId, textId) {
  return page.getByTestId(messageId).evaluateAll(
    (nodes, textId) =>
      nodes.map((node) => ({
        seq: node.getAttribute('data-seq'),
        text: node.querySelector(`[data-testid="${textId}"]`)?.textContent ?? '',
      })),
    textId,
  );
}

function assertInOrderOnce(messages, where) {
  const seqs = messages.map((message) => Number(message.seq));
  assert.ok(seqs.every((seq) => Number.isInteger(seq) && seq > 0), `${where}: every message has a seq: ${seqs}`);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `${where}: in seq order`);
  assert.equal(new Set(seqs).size, seqs.length, `${where}: no message twice`);
  assert.deepEqual(seqs, seqs.map((_, index) => index + 1), `${where}: no gap`);
}

test('visitor and agent chat, survive a server crash and a reload, and render hostile text as text', async () => {
  server = await Switchboard.start();
  browser = await launchBrowser();
  const errors = [];

  const agentContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const agent = await agentContext.newPage();
  watchErrors(agent, errors);
  await agent.goto(`${server.base}/agent`);
  await agent.getByTestId('login-email').fill(ADMIN_EMAIL);
  await agent.getByTestId('login-password').fill('wrong password');
  await agent.getByTestId('login-submit').click();
  await agent.getByTestId('login-error').waitFor({ state: 'visible' });
  await agent.getByTestId('login-password').fill(ADMIN_PASSWORD);
  await agent.getByTestId('login-submit').click();
  await agent.getByTestId('agent-name').waitFor();
  await agent.locator('[data-testid="connection"][data-state="connected"]').waitFor();

  const visitorContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const visitor = await visitorContext.newPage();
  watchErrors(visitor, errors);
  await visitor.goto(server.base);
  await visitor.getByTestId('sb-launcher').click();
  await visitor.locator('[data-testid="sb-connection"][data-state="connected"]').waitFor();

  // Nobody is online yet: the widget offers to leave a message with an email. An oversized
  // message and a bad address are refused before sending.
  await visitor.getByTestId('sb-offline').waitFor();
  assert.equal(await visitor.getByTestId('sb-input').isVisible(), false, 'no chat box while nobody can answer');
  assert.match(await visitor.getByTestId('sb-status').textContent(), /Nobody is available/);
  await visitor.getByTestId('sb-offline-text').fill('x'.repeat(8193));
  await visitor.getByTestId('sb-offline-email').fill('ada@example.com');
  await visitor.getByTestId('sb-offline-submit').click();
  await visitor.getByTestId('sb-offline-error').filter({ hasText: 'too long' }).waitFor();
  await visitor.getByTestId('sb-offline-text').fill('Hello, where is my order #1042?');
  await visitor.getByTestId('sb-offline-email').fill('ada@example');
  await visitor.getByTestId('sb-offline-submit').click();
  await visitor.getByTestId('sb-offline-error').filter({ hasText: 'valid email' }).waitFor();
  assert.equal(await visitor.getByTestId('sb-offline-email').getAttribute('aria-invalid'), 'true');
  assert.equal(await visitor.getByTestId('sb-message').count(), 0, 'nothing was sent');

  // The message waits in the queue, and the agent sees it there.
  await visitor.getByTestId('sb-offline-email').fill('ada@example.com');
  await visitor.getByTestId('sb-offline-email').press('Enter');
  await visitor.getByTestId('sb-offline-sent').filter({ hasText: 'We’ll reply to you at ada@example.com' }).waitFor();
  await visitor.locator('[data-testid="sb-message"][data-state="sent"]').first().waitFor();
  await visitor.locator('[data-testid="sb-status"][data-status="queued"]').waitFor();
  assert.equal(await visitor.getByTestId('sb-input').isVisible(), true, 'the chat box is back for more messages');
  await agent.getByTestId('queue-item').first().waitFor({ timeout: 15_000 });

  // Going online assigns it; the visitor learns the agent's name.
  await agent.getByTestId('agent-status').selectOption('online');
  await agent.getByTestId('conversation-item').first().waitFor();
  await agent.getByTestId('conversation-item').first().click();
  await agent.getByTestId('thread').waitFor();
  await agent.getByTestId('message-text').filter({ hasText: 'where is my order' }).waitFor();
  await visitor.locator('[data-testid="sb-status"][data-status="assigned"]').waitFor();
  assert.match(await visitor.getByTestId('sb-status').textContent(), /Administrator/);

  // Typing shows on the other side.
  await agent.getByTestId('reply-input').pressSequentially('Let me check', { delay: 20 });
  await visitor.getByTestId('sb-typing').waitFor({ state: 'visible' });
  await agent.getByTestId('reply-input').fill('It left our warehouse this morning.');
  await agent.getByTestId('reply-send').click();
  await visitor.getByTestId('sb-text').filter({ hasText: 'left our warehouse' }).waitFor();

  // Hostile text from either side is shown, never run.
  await visitor.getByTestId('sb-input').fill(XSS_VISITOR);
  await visitor.getByTestId('sb-send').click();
  await agent.getByTestId('message-text').filter({ hasText: 'bold?' }).waitFor();
  await agent.getByTestId('reply-input').fill(XSS_AGENT);
  await agent.getByTestId('reply-send').click();
  await visitor.getByTestId('sb-text').filter({ hasText: '<script>' }).waitFor();
  assert.equal(await agent.getByTestId('message-text').filter({ hasText: 'bold?' }).textContent(), XSS_VISITOR);
  assert.equal(await visitor.getByTestId('sb-text').filter({ hasText: '<script>' }).textContent(), XSS_AGENT);
  assert.equal(await visitor.evaluate(() => window.__pwned), undefined);
  assert.equal(await agent.evaluate(() => window.__pwned), undefined);

  await visitor.screenshot({ path: join(ARTIFACTS, 'visitor-widget.png') });
  await agent.screenshot({ path: join(ARTIFACTS, 'agent-console.png') });

  // The server dies: both pages say so, and a message typed meanwhile is kept.
  await server.kill();
  await visitor.locator('[data-testid="sb-connection"][data-state="reconnecting"]').waitFor();
  await agent.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor();
  await visitor.getByTestId('sb-input').fill('Are you still there?');
  await visitor.getByTestId('sb-send').click();
  await visitor.locator('[data-testid="sb-message"][data-state="sending"]').waitFor();

  await server.run();
  await visitor.locator('[data-testid="sb-connection"][data-state="connected"]').waitFor();
  await agent.locator('[data-testid="connection"][data-state="connected"]').waitFor();
  await agent.getByTestId('message-text').filter({ hasText: 'still there' }).waitFor();
  await waitFor('the visitor message to be acked', async () =>
    (await visitor.locator('[data-testid="sb-message"][data-state="sending"]').count()) === 0,
  );
  await agent.getByTestId('reply-input').fill('Yes — still here.');
  await agent.getByTestId('reply-send').click();
  await visitor.getByTestId('sb-text').filter({ hasText: 'still here' }).waitFor();

  const visitorMessages = await shown(visitor, 'sb-message', 'sb-text');
  const agentMessages = await shown(agent, 'message', 'message-text');
  assertInOrderOnce(visitorMessages, 'visitor');
  assertInOrderOnce(agentMessages, 'agent');
  assert.equal(visitorMessages.length, 6);
  assert.deepEqual(agentMessages, visitorMessages, 'both sides show the same conversation');

  // A reload shows the conversation's history.
  await visitor.reload();
  await visitor.getByTestId('sb-launcher').click();
  await visitor.getByTestId('sb-text').filter({ hasText: 'still here' }).waitFor();
  const afterReload = await shown(visitor, 'sb-message', 'sb-text');
  assert.deepEqual(afterReload, visitorMessages, 'history after reload');

  assert.deepEqual(errors, [], 'no script errors on either page');
});
