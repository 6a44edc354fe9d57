// Read receipts both ways, a rating asked for on close (given once, with the keyboard), and
// messages the widget could not get acknowledged surviving a reload without being sent twice.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Switchboard, api, launchBrowser, waitFor, watchErrors } from './harness.mjs';

let server;
let browser;
let agent;
let adminToken;
const errors = [];

before(async () => {
  server = await Switchboard.start();
  browser = await launchBrowser();
  adminToken = (await api(server, 'POST', '/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).token;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  agent = await context.newPage();
  watchErrors(agent, errors);
  await agent.goto(`${server.base}/agent`);
  await agent.getByTestId('login-email').fill(ADMIN_EMAIL);
  await agent.getByTestId('login-password').fill(ADMIN_PASSWORD);
  await agent.getByTestId('login-submit').click();
  await agent.locator('[data-testid="connection"][data-state="connected"]').waitFor();
  await agent.getByTestId('agent-status').selectOption('online');
  await agent.locator('#availability[data-status="online"]').waitFor();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A visitor on the demo shop with the chat open; `route` may intercept its WebSocket. */
async function openVisitor(route) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  if (route) await context.routeWebSocket(/\/v1\/visitor\/ws/, route);
  const page = await context.newPage();
  watchErrors(page, errors);
  const sent = [];
  page.on('websocket', (socket) => socket.on('framesent', (frame) => sent.push(JSON.parse(String(frame.payload)))));
  await page.goto(server.base);
  await page.getByTestId('sb-launcher').click();
  await page.locator('[data-testid="sb-connection"][data-state="connected"]').waitFor();
  await waitFor('the chat box (someone is online)', () => page.evaluate(() => window.SwitchboardWidget.state().availability?.open));
  return { page, sent };
}

async function say(page, text) {
  await page.getByTestId('sb-input').fill(text);
  await page.getByTestId('sb-input').press('Enter');
}

const widgetMessage = (page, text) => page.locator('[data-testid="sb-message"]').filter({ hasText: text });
const consoleMessage = (text) => agent.locator('[data-testid="message"]').filter({ hasText: text });

test('read receipts show "Seen" on both sides, and a rating asked for on close is given once', async () => {
  const { page: visitor, sent } = await openVisitor();
  await say(visitor, 'Is the blue jacket in stock?');
  await widgetMessage(visitor, 'blue jacket').and(visitor.locator('[data-state="sent"]')).waitFor();
  // The console opens the new conversation and reads it: "Seen" under the visitor's message.
  await consoleMessage('blue jacket').waitFor();
  await widgetMessage(visitor, 'blue jacket').locator('[data-seen="true"]').filter({ hasText: 'Seen' }).waitFor();

  // The widget, open and visible, reads the reply: "Seen" under it in the console.
  await agent.getByTestId('reply-input').fill('Yes, in every size.');
  await agent.getByTestId('reply-input').press('Enter');
  await widgetMessage(visitor, 'every size').waitFor();
  await consoleMessage('every size').and(agent.locator('[data-seen="true"]')).waitFor();
  assert.equal(await consoleMessage('every size').locator('.delivery-state').textContent(), 'Seen');
  const reads = sent.filter((frame) => frame.type === 'read');
  assert.ok(reads.length >= 1 && reads.every((frame) => Number.isInteger(frame.seq)), `read frames: ${JSON.stringify(reads)}`);

  // A minimised widget reads nothing; opening it again does.
  await visitor.getByTestId('sb-launcher').click();
  await agent.getByTestId('reply-input').fill('Anything else?');
  await agent.getByTestId('reply-input').press('Enter');
  await widgetMessage(visitor, 'Anything else').waitFor({ state: 'attached' });
  const before = sent.filter((frame) => frame.type === 'read').length;
  await agent.waitForTimeout(600); // longer than the widget's read batching: nothing must go out
  assert.equal(sent.filter((frame) => frame.type === 'read').length, before, 'no read mark while the chat is minimised');
  await visitor.getByTestId('sb-launcher').click();
  await consoleMessage('Anything else').and(agent.locator('[data-seen="true"]')).waitFor();

  // Close with a rating request: the visitor rates 4 with the keyboard and a comment.
  await agent.getByTestId('close-conversation').click();
  await agent.getByTestId('close-confirm').waitFor();
  assert.equal(await agent.evaluate(() => document.activeElement?.dataset.testid), 'close-rate');
  await agent.keyboard.press('Enter');
  const card = visitor.getByTestId('sb-rating');
  await card.waitFor();
  await card.getByTestId('sb-rating-submit').click();
  await card.getByTestId('sb-rating-error').filter({ hasText: 'choose a rating' }).waitFor();
  await card.getByRole('radio', { name: '1 of 5' }).focus();
  for (let i = 0; i < 3; i += 1) await visitor.keyboard.press('ArrowRight');
  assert.equal(await card.getByRole('radio', { name: '4 of 5' }).isChecked(), true);
  assert.equal(await card.locator('[data-filled="true"]').count(), 4);
  await card.getByTestId('sb-rating-comment').fill('Quick and friendly.');
  await visitor.screenshot({ path: join(ARTIFACTS, 'visitor-rating.png') });
  await card.getByTestId('sb-rating-submit').focus();
  await visitor.keyboard.press('Enter');
  await card.getByTestId('sb-rating-done').filter({ hasText: 'Thank you for your feedback' }).waitFor();
  const rate = sent.find((frame) => frame.type === 'rate');
  assert.deepEqual({ ...rate, conversation_id: undefined }, { type: 'rate', conversation_id: undefined, score: 4, comment: 'Quick and friendly.' });

  // A second rating of the same conversation is refused by the server.
  const answer = await visitor.evaluate(async (conversationId) => {
    const key = Object.keys(localStorage).find((name) => name.startsWith('switchboard.visitor_token.'));
    const siteKey = key.slice('switchboard.visitor_token.'.length);
    const socket = new WebSocket(`${location.origin.replace('http', 'ws')}/v1/visitor/ws?site_key=${siteKey}&visitor_token=${localStorage.getItem(key)}`);
    return new Promise((resolve, reject) => {
      setTimeout(() => reject(new Error('no answer to the second rating')), 10_000);
      socket.onmessage = (event) => {
        const frame = JSON.parse(event.data);
        if (frame.type === 'welcome') socket.send(JSON.stringify({ type: 'rate', conversation_id: conversationId, score: 5 }));
        else if (frame.type === 'error' || frame.type === 'rated') {
          socket.close();
          resolve(frame);
        }
      };
    });
  }, rate.conversation_id);
  assert.equal(answer.type, 'error');
  assert.equal(answer.code, 'already_rated');
  assert.deepEqual(errors, []);
});

test('a message not acknowledged before a reload is shown and stored once, and one typed offline is sent again after the reload', async () => {
  // The test's hand on the visitor's socket: pass everything, swallow the server's acks and the
  // echoes of the visitor's own messages, or refuse the connection.
  let mode = 'pass';
  let current = null;
  const toServer = [];
  const route = (ws) => {
    if (mode === 'block') {
      ws.close({ code: 1011, reason: 'blocked by the test' });
      return;
    }
    current = ws;
    const upstream = ws.connectToServer();
    ws.onMessage((message) => {
      toServer.push(JSON.parse(String(message)));
      upstream.send(message);
    });
    upstream.onMessage((message) => {
      const frame = JSON.parse(String(message));
      const own = frame.type === 'ack' || (frame.type === 'message' && frame.sender?.kind === 'visitor');
      if (mode === 'drop-acks' && own) return;
      ws.send(message);
    });
  };
  const { page: visitor } = await openVisitor(route);
  const saved = () => visitor.evaluate(() => {
    const key = Object.keys(localStorage).find((name) => name.startsWith('switchboard.outbox.'));
    return key ? JSON.parse(localStorage.getItem(key)) : [];
  });
  await say(visitor, 'First question');
  await consoleMessage('First question').waitFor();
  await widgetMessage(visitor, 'First question').and(visitor.locator('[data-state="sent"]')).waitFor();
  assert.deepEqual(await saved(), [], 'nothing kept once acknowledged');

  // Stored by the server (the agent has it), but the page never hears so: it stays "Sending…".
  mode = 'drop-acks';
  await say(visitor, 'Second question');
  await consoleMessage('Second question').waitFor();
  await widgetMessage(visitor, 'Second question').and(visitor.locator('[data-state="sending"]')).waitFor();
  const [kept] = await saved();
  assert.equal(kept.text, 'Second question');
  mode = 'pass';
  await visitor.reload();
  await visitor.getByTestId('sb-launcher').click();
  await widgetMessage(visitor, 'Second question').and(visitor.locator('[data-state="sent"]')).waitFor();
  assert.equal(await widgetMessage(visitor, 'Second question').count(), 1, 'shown once after the reload');
  assert.deepEqual(await saved(), []);

  // Offline: the socket is refused. A message typed now survives a reload and goes out when the
  // server can be reached again, with the same client_msg_id.
  mode = 'block';
  current.close({ code: 1012, reason: 'test: connection lost' });
  await visitor.locator('[data-testid="sb-connection"][data-state="reconnecting"]').waitFor();
  await say(visitor, 'Third question');
  await widgetMessage(visitor, 'Third question').and(visitor.locator('[data-state="sending"]')).waitFor();
  const [offline] = await saved();
  assert.equal(offline.text, 'Third question');
  await visitor.reload();
  await visitor.getByTestId('sb-launcher').click();
  await widgetMessage(visitor, 'Third question').and(visitor.locator('[data-state="sending"]')).waitFor();
  assert.equal(await widgetMessage(visitor, 'Third question').count(), 1, 'restored once');
  mode = 'pass';
  await widgetMessage(visitor, 'Third question').and(visitor.locator('[data-state="sent"]')).waitFor({ timeout: 20_000 });
  await consoleMessage('Third question').waitFor();
  const retries = toServer.filter((frame) => frame.type === 'message' && frame.text === 'Third question');
  assert.ok(retries.length >= 1 && retries.every((frame) => frame.client_msg_id === offline.client_msg_id), 'sent with the id kept before the reload');

  // Exactly once everywhere: the widget, the console, and the console after a reload.
  for (const text of ['First question', 'Second question', 'Third question']) {
    assert.equal(await widgetMessage(visitor, text).count(), 1, `widget: "${text}" once`);
    assert.equal(await consoleMessage(text).count(), 1, `console: "${text}" once`);
  }
  await agent.reload();
  await consoleMessage('Third question').waitFor();
  for (const text of ['First question', 'Second question', 'Third question']) {
    assert.equal(await consoleMessage(text).count(), 1, `console after reload: "${text}" once`);
  }
  assert.deepEqual(await saved(), []);
  assert.deepEqual(errors, []);
});
