// Webhooks in the admin dashboard, in real Chromium, against a receiver run by this test.
//
// The server retries quickly (2 attempts, 50 ms apart), so a receiver answering 503 dead-letters
// a delivery within a second. The admin is refused a loopback URL while private networks are off
// (and a URL without http(s):// before anything is sent), allows them, creates an endpoint and
// sees its secret once. A visitor's offline message gives two deliveries, both dead; every
// request the receiver got carries a valid Standard Webhooks signature. After rotating the
// secret and switching the receiver to 200, Replay delivers the offline message, signed with both
// secrets. The log filters by status, shows payloads as text and pages with "Load more"; a second
// endpoint is paused and deleted after a confirmation.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Switchboard, api, freePort, launchBrowser, waitFor, watchErrors } from './harness.mjs';

const HOSTILE = 'Do you ship to Norway? <img src=x onerror="window.__pwned=1"> <b>thanks</b>';

let server;
let browser;
let adminToken;
let receiver;
const errors = [];

/**
 * A webhook receiver on 127.0.0.1: records every request (headers and raw body) and answers
 * `receiver.status`.
 */
async function startReceiver() {
  const port = await freePort();
  const state = { status: 503, requests: [], url: `http://127.0.0.1:${port}/hooks/switchboard` };
  state.server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const status = state.status;
      state.requests.push({ method: request.method, path: request.url, headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      response.writeHead(status, { 'Content-Type': 'text/plain' });
      response.end(status === 200 ? 'ok' : 'busy');
    });
  });
  await new Promise((resolve) => state.server.listen(port, '127.0.0.1', resolve));
  return state;
}

/**
 * Whether `request` is signed with `secret` as Standard Webhooks specifies: HMAC-SHA256 over
 * `${webhook-id}.${webhook-timestamp}.${body}`, keyed with the base64-decoded part after `whsec_`,
 * sent as `v1,<base64>` (several space-separated while a rotated-out secret still signs).
 */
function signedWith(secret, request, body = request.body) {
  assert.match(secret, /^whsec_/);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const id = request.headers['webhook-id'];
  const timestamp = request.headers['webhook-timestamp'];
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return String(request.headers['webhook-signature'] ?? '')
    .split(' ')
    .filter((part) => part.startsWith('v1,'))
    .map((part) => Buffer.from(part.slice(3), 'base64'))
    .some((signature) => signature.length === expected.length && timingSafeEqual(signature, expected));
}

before(async () => {
  receiver = await startReceiver();
  server = await Switchboard.start({ SWITCHBOARD_WEBHOOK_MAX_ATTEMPTS: '2', SWITCHBOARD_WEBHOOK_RETRY_BASE_MS: '50' });
  browser = await launchBrowser();
  adminToken = (await api(server, 'POST', '/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).token;
});
after(async () => {
  await browser?.close();
  await server?.stop();
  receiver?.server.close();
});

const text = async (locator) => ((await locator.textContent()) ?? '').trim();
const item = (page, url) => page.locator('[data-testid="webhook-item"]').filter({ has: page.getByTestId('webhook-url-text').getByText(url, { exact: true }) });
const row = (page, id) => page.locator(`[data-testid="delivery-row"][data-delivery-id="${id}"]`);

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

/**
 * Opens one raw visitor socket per message in `page` (a new visitor each, so a new
 * conversation), sends the message with an email (nobody is online: an offline message) and
 * resolves once every one is acknowledged.
 */
function visitorsWrite(page, siteKey, messages) {
  const url = `${server.base.replace('http://', 'ws://')}/v1/visitor/ws?site_key=${siteKey}`;
  return page.evaluate(
    ({ url, messages }) =>
      Promise.all(
        messages.map(
          ({ text, email }, index) =>
            new Promise((resolve, reject) => {
              const socket = new WebSocket(url);
              const timer = setTimeout(() => reject(new Error(`no ack for message ${index}`)), 20_000);
              socket.onerror = () => reject(new Error('visitor socket failed'));
              socket.onmessage = (event) => {
                const frame = JSON.parse(event.data);
                if (frame.type === 'welcome') socket.send(JSON.stringify({ type: 'message', client_msg_id: `m${index}`, text, email }));
                else if (frame.type === 'ack') {
                  clearTimeout(timer);
                  socket.close();
                  resolve(frame.conversation_id);
                } else if (frame.type === 'error') {
                  clearTimeout(timer);
                  reject(new Error(`server error: ${JSON.stringify(frame)}`));
                }
              };
            }),
        ),
      ),
    { url, messages },
  );
}

test('an admin adds a webhook, sees its deliveries die, and replays one to a receiver that checks the signature', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  const page = await context.newPage();
  watchErrors(page, errors);
  const writes = recordWrites(page);
  await page.goto(`${server.base}/admin`);
  await page.getByTestId('login-email').fill(ADMIN_EMAIL);
  await page.getByTestId('login-password').fill(ADMIN_PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('agents-table').waitFor();

  // The Webhooks section, from the nav: nothing yet, private networks refused.
  await page.getByTestId('nav-webhooks').click();
  await page.getByTestId('webhooks-empty').waitFor();
  assert.equal(new URL(page.url()).hash, '#webhooks');
  assert.equal(await page.getByTestId('nav-webhooks').getAttribute('aria-current'), 'page');
  assert.equal(await page.getByTestId('agents-table').isVisible(), false);
  const allowPrivate = page.getByTestId('webhooks-allow-private');
  await waitFor('the private-network setting', () => allowPrivate.isEnabled());
  assert.equal(await allowPrivate.isChecked(), false);
  assert.match(await text(page.getByTestId('webhooks-settings')), /server-side request forgery \(SSRF\)/);

  // A URL without http(s):// never leaves the page.
  await page.getByTestId('webhook-new').click();
  const dialog = page.getByTestId('webhook-dialog');
  await dialog.waitFor();
  for (const bad of ['ftp://127.0.0.1/hooks', 'hooks.example.com/switchboard']) {
    await page.getByTestId('webhook-url').fill(bad);
    await page.getByTestId('webhook-submit').click();
    await page.getByTestId('webhook-error').getByText('The URL must start with http:// or https://.').waitFor();
    assert.equal(await page.getByTestId('webhook-url').getAttribute('aria-invalid'), 'true');
  }
  assert.deepEqual(writes, [], 'nothing was sent for a URL without http(s)://');

  // The receiver's loopback URL is refused by the server while private networks are off, in words.
  await page.getByTestId('webhook-url').fill(receiver.url);
  await page.locator('[data-testid="webhook-event"][value="offline_message.created"]').check();
  await page.locator('[data-testid="webhook-event"][value="message.created"]').check();
  await page.getByTestId('webhook-description').fill('CRM sync');
  await page.getByTestId('webhook-submit').click();
  const refusal = page.getByTestId('webhook-error');
  await refusal.getByText('points at a loopback, private or internal address').waitFor();
  assert.match(await text(refusal), /turn on “Allow private networks” first/);
  assert.equal(await page.getByTestId('webhook-url').getAttribute('aria-invalid'), 'true');
  assert.ok(await dialog.isVisible(), 'the dialog stays open with the refusal');
  assert.deepEqual(writes, ['POST /v1/admin/webhooks']);
  assert.deepEqual((await api(server, 'GET', '/v1/admin/webhooks', undefined, adminToken)).webhooks, []);
  await page.getByTestId('webhook-cancel').click();
  await dialog.waitFor({ state: 'hidden' });

  // Private networks allowed: the same endpoint is created, and its secret shown once.
  await allowPrivate.check();
  await waitFor('the setting to be saved', async () => (await api(server, 'GET', '/v1/admin/integrations/settings', undefined, adminToken)).allow_private_network === true);
  assert.equal(writes.at(-1), 'PUT /v1/admin/integrations/settings');
  await page.getByTestId('webhook-new').click();
  await dialog.waitFor();
  assert.equal(await page.getByTestId('webhook-url').inputValue(), '', 'the dialog starts empty');
  await page.getByTestId('webhook-url').fill(receiver.url);
  await page.locator('[data-testid="webhook-event"][value="offline_message.created"]').check();
  await page.locator('[data-testid="webhook-event"][value="message.created"]').check();
  await page.getByTestId('webhook-description').fill('CRM sync');
  await page.getByTestId('webhook-submit').click();
  const secretDialog = page.getByTestId('secret-dialog');
  await secretDialog.waitFor();
  await dialog.waitFor({ state: 'hidden' });
  const secret = await page.getByTestId('webhook-secret').inputValue();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.equal(await text(page.getByTestId('secret-url')), receiver.url);
  assert.match(await text(page.getByTestId('secret-note')), /Copy this secret now\. You won’t see it again/);
  await page.getByTestId('webhook-secret-copy').click();
  await page.getByTestId('webhook-secret-copied').getByText('Copied to the clipboard.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await page.getByTestId('webhook-secret-done').click();
  await secretDialog.waitFor({ state: 'hidden' });
  assert.equal(await page.getByTestId('webhook-secret').inputValue(), '', 'the secret is forgotten');
  assert.equal((await page.content()).includes(secret), false, 'and nowhere in the page');

  const endpoint = item(page, receiver.url);
  await endpoint.waitFor();
  const webhookId = await endpoint.getAttribute('data-webhook-id');
  assert.deepEqual(await endpoint.getByTestId('webhook-events').locator('.chip').allTextContents(), ['message.created', 'offline_message.created']);
  assert.equal(await text(endpoint.getByTestId('webhook-description-text')), 'CRM sync');
  assert.equal(await endpoint.getByTestId('webhook-enabled').isChecked(), true);
  assert.equal(await endpoint.getByTestId('webhook-select').getAttribute('aria-current'), 'true', 'the new endpoint is chosen');
  assert.equal(await text(page.getByTestId('deliveries-endpoint')), receiver.url);
  await page.getByTestId('deliveries-empty').getByText('Nothing sent to this endpoint yet.').waitFor();
  const [stored] = (await api(server, 'GET', '/v1/admin/webhooks', undefined, adminToken)).webhooks;
  assert.deepEqual({ ...stored, created_at: undefined }, {
    id: webhookId,
    url: receiver.url,
    events: ['message.created', 'offline_message.created'],
    enabled: true,
    description: 'CRM sync',
    created_at: undefined,
    previous_secret_expires_at: null,
  });

  // A visitor leaves a message (nobody is online): two events, both dead after two 503s.
  const siteKey = (await api(server, 'GET', '/v1/me', undefined, adminToken)).workspace.site_key;
  const visitor = await (await browser.newContext()).newPage();
  watchErrors(visitor, errors);
  await visitor.goto(`${server.base}/healthz`);
  await visitorsWrite(visitor, siteKey, [{ text: HOSTILE, email: 'ada@example.com' }]);
  await page.locator('[data-testid="delivery-row"][data-status="dead"]').nth(1).waitFor({ timeout: 30_000 });
  assert.equal(await page.getByTestId('delivery-row').count(), 2);
  // Held by id: more deliveries of the same types come later.
  const offline = row(page, await page.locator('[data-event-type="offline_message.created"]').getAttribute('data-delivery-id'));
  const message = row(page, await page.locator('[data-event-type="message.created"]').getAttribute('data-delivery-id'));
  for (const dead of [offline, message]) {
    assert.equal(await text(dead.getByTestId('delivery-status')), 'Dead');
    assert.equal(await text(dead.getByTestId('delivery-attempts')), '2');
    assert.equal(await text(dead.getByTestId('delivery-response')), '503');
    assert.equal(await text(dead.getByTestId('delivery-when')), 'gave up');
    assert.ok(await dead.getByTestId('delivery-replay').isVisible(), 'a dead delivery can be replayed');
  }
  // Newest first: the message came after the conversation it opened.
  assert.deepEqual(await page.getByTestId('delivery-row').evaluateAll((rows) => rows.map((tr) => tr.dataset.eventType)), ['message.created', 'offline_message.created']);

  // Every attempt reached the receiver, signed with the secret shown once.
  const offlineId = await offline.getAttribute('data-message-id');
  assert.equal(receiver.requests.length, 4, 'two attempts of each delivery');
  for (const request of receiver.requests) {
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/hooks/switchboard');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.match(request.headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/, 'one signature before any rotation');
    assert.ok(signedWith(secret, request), 'the signature verifies with the secret');
    assert.equal(signedWith(secret, request, `${request.body} `), false, 'and not for another body');
  }
  assert.equal(receiver.requests.filter((request) => request.headers['webhook-id'] === offlineId).length, 2, 'the same webhook-id on each retry');

  // The status filter.
  await page.getByTestId('deliveries-filter-delivered').check();
  await page.getByTestId('deliveries-empty').getByText('No deliveries are Delivered.').waitFor();
  assert.equal(await page.getByTestId('delivery-row').count(), 0);
  await page.getByTestId('deliveries-filter-dead').check();
  await page.locator('[data-testid="delivery-row"]').nth(1).waitFor();
  await page.getByTestId('deliveries-filter-all').check();
  await page.locator('[data-testid="delivery-row"]').nth(1).waitFor();

  // The payload: pretty-printed JSON, the visitor's markup as text.
  await offline.getByTestId('delivery-payload').click();
  const payloadDialog = page.getByTestId('payload-dialog');
  await payloadDialog.waitFor();
  const shown = await page.getByTestId('payload-body').textContent();
  const sent = receiver.requests.find((request) => request.headers['webhook-id'] === offlineId).body;
  assert.equal(shown, JSON.stringify(JSON.parse(sent), null, 2));
  assert.match(shown, /^\{\n {2}"data": \{\n {4}"conversation": \{/);
  assert.equal(JSON.parse(shown).data.conversation.contact_email, 'ada@example.com');
  assert.equal(await page.getByTestId('payload-body').locator('*').count(), 0, 'no markup in the payload view');
  assert.match(await text(page.getByTestId('payload-meta')), new RegExp(`^offline_message\\.created · webhook-id ${offlineId}$`));
  await page.keyboard.press('Escape');
  await payloadDialog.waitFor({ state: 'hidden' });

  // A new secret, also shown once; the old one keeps signing for a while.
  await endpoint.getByTestId('webhook-rotate').click();
  const confirm = page.getByTestId('confirm-dialog');
  await confirm.waitFor();
  assert.match(await text(confirm), /Rotate the signing secret\?.*keeps signing requests next to it for 24 hours/s);
  await page.getByTestId('confirm-submit').click();
  await secretDialog.waitFor();
  assert.match(await text(secretDialog), /New signing secret/);
  const newSecret = await page.getByTestId('webhook-secret').inputValue();
  assert.match(newSecret, /^whsec_/);
  assert.notEqual(newSecret, secret);
  await page.getByTestId('webhook-secret-done').click();
  await secretDialog.waitFor({ state: 'hidden' });
  await endpoint.getByTestId('webhook-rotation').getByText('The previous secret also signs until').waitFor();

  // The receiver is back: Replay delivers the offline message, signed with both secrets.
  receiver.status = 200;
  const earlier = receiver.requests.length;
  await offline.getByTestId('delivery-replay').click();
  await page.locator('#toast').getByText('Delivery queued to be sent again.').waitFor();
  await waitFor('the replayed delivery to be delivered', async () => (await offline.getAttribute('data-status')) === 'delivered', 15_000);
  assert.equal(await text(offline.getByTestId('delivery-status')), 'Delivered');
  assert.equal(await text(offline.getByTestId('delivery-attempts')), '1');
  assert.equal(await text(offline.getByTestId('delivery-response')), '200');
  assert.match(await text(offline.getByTestId('delivery-when')), /^delivered \d{1,2}:\d{2}:\d{2}/);
  assert.equal(await message.getAttribute('data-status'), 'dead', 'the other delivery is left alone');
  const replayed = receiver.requests.slice(earlier);
  assert.equal(replayed.length, 1);
  const [delivered] = replayed;
  assert.equal(delivered.status, 200);
  assert.equal(delivered.headers['webhook-id'], offlineId);
  assert.equal(delivered.headers['webhook-signature'].split(' ').length, 2, 'one signature per secret in use');
  assert.ok(signedWith(newSecret, delivered), 'verifies with the new secret');
  assert.ok(signedWith(secret, delivered), 'and with the previous one');
  const body = JSON.parse(delivered.body);
  assert.equal(body.type, 'offline_message.created');
  assert.equal(body.data.conversation.contact_email, 'ada@example.com');
  assert.ok(writes.includes(`POST /v1/admin/webhook-deliveries/${await offline.getAttribute('data-delivery-id')}/replay`));

  // A second endpoint for every event, paused with its switch.
  await page.getByTestId('webhook-new').click();
  await dialog.waitFor();
  const warehouse = 'https://warehouse.northwind.example/ingest/switchboard';
  await page.getByTestId('webhook-url').fill(warehouse);
  await page.getByTestId('webhook-description').fill('Data warehouse');
  await page.getByTestId('webhook-submit').click();
  await secretDialog.waitFor();
  await page.getByTestId('webhook-secret-done').click();
  await secretDialog.waitFor({ state: 'hidden' });
  const second = item(page, warehouse);
  assert.deepEqual(await second.getByTestId('webhook-events').locator('.chip').allTextContents(), ['All events']);
  await second.getByTestId('webhook-enabled').uncheck();
  await page.locator(`[data-testid="webhook-item"][data-enabled="false"]`).waitFor();
  assert.equal(await text(second.locator('.toggle-text')), 'Paused');
  const secondId = await second.getAttribute('data-webhook-id');
  assert.equal((await api(server, 'GET', '/v1/admin/webhooks', undefined, adminToken)).webhooks.find((webhook) => webhook.id === secondId).enabled, false);

  // The first endpoint's log again, for the docs: one delivered, one dead.
  await endpoint.getByTestId('webhook-select').click();
  await offline.waitFor();
  await message.waitFor();
  await page.locator('#toast').waitFor({ state: 'hidden', timeout: 10_000 });
  await page.mouse.move(0, 0);
  await settled(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await settled(page);
  const wrap = page.getByTestId('deliveries-table').locator('..');
  assert.ok(await wrap.evaluate((node) => node.scrollWidth <= node.clientWidth), 'the log fits without scrolling sideways');
  await page.screenshot({ path: join(ARTIFACTS, 'admin-webhooks.png') });
  await page.setViewportSize({ width: 1280, height: 800 });

  // Editing sends only what changed; markup in a description is shown as text.
  await endpoint.getByTestId('webhook-edit').click();
  await dialog.waitFor();
  assert.equal(await page.getByTestId('webhook-url').inputValue(), receiver.url);
  assert.deepEqual(await page.locator('[data-testid="webhook-event"]:checked').evaluateAll((inputs) => inputs.map((input) => input.value)), ['message.created', 'offline_message.created']);
  await page.getByTestId('webhook-description').fill('CRM sync <b>staging</b>');
  const patched = page.waitForRequest((request) => request.method() === 'PATCH');
  await page.getByTestId('webhook-submit').click();
  assert.deepEqual((await patched).postDataJSON(), { description: 'CRM sync <b>staging</b>' });
  await dialog.waitFor({ state: 'hidden' });
  await endpoint.getByTestId('webhook-description-text').getByText('CRM sync <b>staging</b>', { exact: true }).waitFor();
  assert.equal(await endpoint.locator('b').count(), 0);

  // Twenty more deliveries: the log shows a page of 20 and "Load more" brings the rest.
  await visitorsWrite(
    visitor,
    siteKey,
    Array.from({ length: 10 }, (_, index) => ({ text: `Question ${index + 1}`, email: `visitor${index + 1}@example.com` })),
  );
  await waitFor('22 deliveries done', async () => {
    const { deliveries } = await api(server, 'GET', `/v1/admin/webhooks/${webhookId}/deliveries?limit=50`, undefined, adminToken);
    return deliveries.length === 22 && deliveries.every((delivery) => delivery.status !== 'pending');
  });
  // Read from the start (another filter and back): a page of 20, and "Load more" for the rest.
  await page.getByTestId('deliveries-filter-dead').check();
  await waitFor('the one dead delivery', async () => (await page.getByTestId('delivery-row').count()) === 1);
  assert.equal(await message.getAttribute('data-status'), 'dead');
  await page.getByTestId('deliveries-filter-all').check();
  await page.getByTestId('deliveries-more').waitFor();
  assert.equal(await page.getByTestId('delivery-row').count(), 20);
  await page.getByTestId('deliveries-more').click();
  await waitFor('all 22 deliveries', async () => (await page.getByTestId('delivery-row').count()) === 22);
  await page.getByTestId('deliveries-more').waitFor({ state: 'hidden' });
  const ids = await page.getByTestId('delivery-row').evaluateAll((rows) => rows.map((tr) => Number(tr.dataset.deliveryId)));
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
  assert.equal(new Set(ids).size, 22, 'each delivery once');

  // Deleting asks first; Cancel keeps the endpoint.
  await second.getByTestId('webhook-delete').click();
  await confirm.waitFor();
  assert.equal(await text(page.getByTestId('confirm-target')), warehouse);
  await page.getByTestId('confirm-cancel').click();
  await confirm.waitFor({ state: 'hidden' });
  assert.equal(writes.filter((write) => write.startsWith('DELETE')).length, 0);
  await second.getByTestId('webhook-delete').click();
  await confirm.waitFor();
  await page.getByTestId('confirm-submit').click();
  await confirm.waitFor({ state: 'hidden' });
  await second.waitFor({ state: 'detached' });
  assert.deepEqual(writes.filter((write) => write.startsWith('DELETE')), [`DELETE /v1/admin/webhooks/${secondId}`]);
  assert.deepEqual((await api(server, 'GET', '/v1/admin/webhooks', undefined, adminToken)).webhooks.map((webhook) => webhook.id), [webhookId]);

  // A reload comes back to the section, with no secret anywhere; in Chinese too.
  await page.reload();
  await endpoint.waitFor();
  assert.equal(await page.getByTestId('agents-table').isVisible(), false);
  assert.equal(await allowPrivate.isChecked(), true);
  assert.equal((await page.content()).includes(secret) || (await page.content()).includes(newSecret), false);
  await page.getByTestId('lang').click();
  await waitFor('the Chinese nav', async () => (await text(page.getByTestId('nav-webhooks'))) === 'Webhook');
  await page.locator('[data-testid="delivery-row"][data-status="delivered"]').first().waitFor();
  assert.equal(await text(page.locator('[data-testid="delivery-row"][data-status="delivered"]').first().getByTestId('delivery-status')), '已送达');
  assert.equal(await text(page.getByTestId('deliveries-filter-dead').locator('..')), '失败');
  await page.getByTestId('deliveries-filter-dead').check();
  await waitFor('the dead delivery in Chinese', async () => (await text(message.getByTestId('delivery-status'))) === '失败');
  assert.equal(await text(message.getByTestId('delivery-when')), '已放弃');
  await page.getByTestId('lang').click();
  await waitFor('English again', async () => (await text(page.getByTestId('nav-webhooks'))) === 'Webhooks');

  // Back to the overview from the nav.
  await page.getByTestId('nav-overview').click();
  await page.getByTestId('agents-table').waitFor();
  assert.equal(await page.getByTestId('webhooks-view').isVisible(), false);

  assert.equal(await visitor.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(errors, [], 'no script errors on any page');
});
