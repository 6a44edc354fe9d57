// The visitor card of the agent console, in real Chromium: a shop page (served here, on another
// origin than Switchboard) signs its customer for the widget with the workspace's identity secret;
// the console shows the customer verified, with the site's id, name (as text), email and page. A
// visitor with a wrong signature is "Not verified" and anonymous. After the first conversation
// is closed, the same customer chats again from a second browser (no localStorage): the new
// conversation's card lists the earlier one, which opens on a click. A failed read of the card
// shows a notice and is tried again on reopening; the card also fits a phone.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Switchboard, api, launchBrowser, watchErrors, widgetFirstMessage } from './harness.mjs';

const CUSTOMER = 'cust-7';
const NAME = 'Kari <b>Nordmann</b>';
const EMAIL = 'kari@example.no';

let server;
let browser;
let shop;
after(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((resolve) => (shop ? shop.close(resolve) : resolve()));
});

const attr = (value) => String(value).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const text = async (locator) => ((await locator.textContent()) ?? '').trim();

/** A tiny shop on its own origin: /?identity=<json> writes the widget tag with those data-* attributes. */
function startShop(siteKey) {
  return new Promise((resolve) => {
    const http = createServer((request, response) => {
      const url = new URL(request.url, 'http://shop');
      if (url.pathname !== '/') {
        response.writeHead(404).end();
        return;
      }
      const identity = JSON.parse(url.searchParams.get('identity') || '{}');
      const extra = Object.entries(identity)
        .map(([name, value]) => ` data-user-${name}="${attr(value)}"`)
        .join('');
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fjord Outdoor</title></head>
<body><h1>Fjord Outdoor</h1><p>Your account</p>
<script src="${server.base}/widget.js" data-site-key="${attr(siteKey)}"${extra} async></script></body></html>`);
    });
    http.listen(0, '127.0.0.1', () => resolve(http));
  });
}

/** Opens the shop in a fresh browser context as `identity` and sends a first message. */
async function visit(identity, message, errors) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  watchErrors(page, errors);
  const { port } = shop.address();
  await page.goto(`http://127.0.0.1:${port}/?identity=${encodeURIComponent(JSON.stringify(identity))}`);
  await page.getByTestId('sb-launcher').click();
  await page.locator('[data-testid="sb-connection"][data-state="connected"]').waitFor();
  await widgetFirstMessage(page, message, EMAIL);
  return page;
}

/** Opens the conversation in the console whose last message preview contains `preview`; returns its id. */
async function openByPreview(agent, preview) {
  const item = agent.getByTestId('conversation-item').filter({ hasText: preview });
  await item.waitFor({ timeout: 15_000 });
  await item.click();
  const id = await item.getAttribute('data-conversation-id');
  await agent.locator(`[data-testid="thread"][data-conversation-id="${id}"]`).waitFor();
  return id;
}

test('the console shows who the visitor is: verified customer or not, and their past conversations', async () => {
  server = await Switchboard.start();
  browser = await launchBrowser();
  const errors = [];
  const admin = (await api(server, 'POST', '/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).token;
  const siteKey = (await api(server, 'GET', '/v1/me', undefined, admin)).workspace.site_key;
  const { secret } = await api(server, 'GET', '/v1/admin/identity-secret', undefined, admin);
  assert.ok(secret, 'the workspace has an identity secret');
  const hash = createHmac('sha256', secret).update(CUSTOMER).digest('hex');
  const signed = { id: CUSTOMER, hash, name: NAME, email: EMAIL };
  shop = await startShop(siteKey);

  // The admin's console, Online.
  const agentContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const agent = await agentContext.newPage();
  watchErrors(agent, errors);
  await agent.goto(`${server.base}/agent`);
  await agent.getByTestId('login-email').fill(ADMIN_EMAIL);
  await agent.getByTestId('login-password').fill(ADMIN_PASSWORD);
  await agent.getByTestId('login-submit').click();
  await agent.locator('[data-testid="connection"][data-state="connected"]').waitFor();
  await agent.getByTestId('agent-status').selectOption('online');
  await agent.locator('#availability[data-status="online"]').waitFor();

  // A signed customer: verified, with the site's id, the name as text, the email and the page.
  const laptop = await visit(signed, 'Where is order 1042?', errors);
  const first = await openByPreview(agent, 'order 1042');
  const card = agent.getByTestId('visitor-card');
  await agent.locator('[data-testid="visitor-card"][data-state="ok"]').waitFor();
  assert.equal(await text(agent.getByTestId('visitor-card-badge')), 'Verified');
  assert.equal(await agent.getByTestId('visitor-card-badge').getAttribute('data-verified'), 'true');
  assert.equal(await agent.getByTestId('visitor-card-customer').isVisible(), true);
  assert.equal(await text(agent.getByTestId('visitor-card-customer-id')), CUSTOMER);
  assert.equal(await agent.getByTestId('visitor-card-name').textContent(), NAME, 'the name is shown literally');
  assert.equal(await card.locator('b').count(), 0, 'no markup from the name');
  assert.equal(await text(agent.getByTestId('visitor-card-email')), EMAIL);
  assert.equal(await agent.getByTestId('visitor-card-email').getAttribute('href'), `mailto:${EMAIL}`);
  assert.equal(await text(agent.getByTestId('visitor-card-page')), `127.0.0.1:${shop.address().port}`);
  assert.equal(await text(agent.getByTestId('visitor-card-past-count')), 'No past conversations');
  assert.equal(await agent.getByTestId('visitor-past-item').count(), 0);

  // A wrong signature is ignored: an anonymous visitor, not verified, without the customer's id.
  // Its first read fails (a 500 put in by the test): a notice, then read again on reopening.
  let failNext = true;
  await agent.route('**/v1/visitors/**', (route) => {
    if (!failNext) return route.continue();
    failNext = false;
    return route.fulfill({ status: 500, contentType: 'application/json', body: '{"error":{"code":"internal"}}' });
  });
  const stranger = await visit({ ...signed, hash: createHmac('sha256', 'not-the-secret').update(CUSTOMER).digest('hex') }, 'Do you ship to Tromsø?', errors);
  const second = await openByPreview(agent, 'ship to Troms');
  await agent.locator('[data-testid="visitor-card"][data-state="error"]').waitFor();
  assert.match(await text(agent.getByTestId('visitor-card-notice')), /couldn’t be loaded/);
  await agent.getByTestId('conversation-item').filter({ hasText: 'order 1042' }).click();
  await agent.locator('[data-testid="visitor-card"][data-state="ok"]').waitFor();
  await agent.getByTestId('conversation-item').filter({ hasText: 'ship to Troms' }).click();
  await agent.locator(`[data-testid="thread"][data-conversation-id="${second}"]`).waitFor();
  await agent.locator('[data-testid="visitor-card"][data-state="ok"]').waitFor();
  await agent.unroute('**/v1/visitors/**');
  assert.equal(await agent.getByTestId('visitor-card-notice').isVisible(), false);
  assert.equal(await text(agent.getByTestId('visitor-card-badge')), 'Not verified');
  assert.equal(await agent.getByTestId('visitor-card-badge').getAttribute('data-verified'), 'false');
  assert.equal(await agent.getByTestId('visitor-card-customer').isVisible(), false);
  assert.doesNotMatch(await text(card), /cust-7/);

  // The first conversation is closed; the customer comes back from a second browser.
  await agent.getByTestId('conversation-item').filter({ hasText: 'order 1042' }).click();
  await agent.locator(`[data-testid="thread"][data-conversation-id="${first}"]`).waitFor();
  await agent.getByTestId('close-conversation').click();
  await agent.getByTestId('close-plain').click();
  await agent.locator('#thread-status[data-status="closed"]').waitFor();
  const phone = await visit(signed, 'Me again: the parcel arrived damaged', errors);
  const third = await openByPreview(agent, 'arrived damaged');
  assert.notEqual(third, first);
  await agent.locator('[data-testid="visitor-card"][data-state="ok"]').waitFor();
  assert.equal(await text(agent.getByTestId('visitor-card-customer-id')), CUSTOMER);
  const past = agent.locator(`[data-testid="visitor-past-item"][data-conversation-id="${first}"]`);
  await past.waitFor();
  assert.equal(await agent.getByTestId('visitor-past-item').count(), 1, 'only the earlier conversation is past');
  assert.equal(await text(agent.getByTestId('visitor-card-past-count')), 'Past conversations · 1');
  assert.equal(await past.getAttribute('data-status'), 'closed');
  assert.match(await text(past), /Closed/);
  assert.match(await text(past), /1 message/);
  assert.doesNotMatch(await text(card), /ship to|Tromsø/, 'nothing of the stranger');

  await agent.evaluate(() => document.activeElement?.blur());
  await agent.screenshot({ path: join(ARTIFACTS, 'agent-console-visitor.png') });

  // The earlier conversation is in the console's list: a click opens it.
  await past.getByRole('button').click();
  await agent.locator(`[data-testid="thread"][data-conversation-id="${first}"]`).waitFor();
  await agent.getByTestId('message-text').filter({ hasText: 'order 1042' }).waitFor();
  await agent.locator(`[data-testid="visitor-past-item"][data-conversation-id="${third}"]`).waitFor();

  // In Chinese, and on a phone the card wraps without widening the page.
  await agent.getByTestId('conversation-item').filter({ hasText: 'arrived damaged' }).click();
  await agent.getByTestId('lang').click();
  await agent.getByTestId('visitor-card-badge').filter({ hasText: '已验证' }).waitFor();
  assert.match(await text(agent.getByTestId('visitor-card-past-count')), /历史对话 · 1/);
  await agent.getByTestId('lang').click();
  await agent.getByTestId('visitor-card-badge').filter({ hasText: 'Verified' }).waitFor();
  await agent.setViewportSize({ width: 390, height: 844 });
  await card.waitFor();
  assert.equal(await agent.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'no sideways scroll');
  const box = await card.boundingBox();
  assert.ok(box && box.width <= 390, 'the card fits the phone');
  await agent.screenshot({ path: join(ARTIFACTS, 'agent-console-visitor-phone.png') });

  assert.equal(await agent.evaluate(() => window.__pwned), undefined);
  await Promise.all([laptop, stranger, phone].map((page) => page.context().close()));
  assert.deepEqual(errors, []);
});
