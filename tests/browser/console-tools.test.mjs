// Saved replies and tags in the agent console, in real Chromium: an agent manages her saved
// replies (the workspace's shared ones are read-only for her, an administrator may share and
// change them), inserts one by typing "/shortcut" and choosing with the keyboard, and the visitor
// receives it; tags added and removed on a conversation survive a reload of the console, which
// also works on a phone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Switchboard, api, launchBrowser, waitFor, watchErrors, widgetFirstMessage } from './harness.mjs';

const ADA = { name: 'Ada Lovelace', email: 'ada@northwind.example', password: 'ada-password-1' };
const SHIP = 'Orders ship within 2 business days.';
const EU = 'Delivery in the EU takes 3–5 business days.';

let server;
let browser;
let adminToken;
let adaToken;
const errors = [];

before(async () => {
  server = await Switchboard.start();
  browser = await launchBrowser();
  adminToken = (await api(server, 'POST', '/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).token;
  await api(server, 'POST', '/v1/admin/agents', { ...ADA, role: 'agent', max_concurrent: 3 }, adminToken);
  adaToken = (await api(server, 'POST', '/v1/auth/login', { email: ADA.email, password: ADA.password })).token;
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const text = async (locator) => ((await locator.textContent()) ?? '').trim();

/** Resolves once every finite animation and transition on the page has ended (for screenshots). */
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

/** Signs in to the console in a fresh browser context; `status` is set when given. */
async function openConsole(email, password, status, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  watchErrors(page, errors);
  await page.goto(`${server.base}/agent`);
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
  if (status) {
    await page.getByTestId('agent-status').selectOption(status);
    await page.locator(`#availability[data-status="${status}"]`).waitFor();
  }
  return page;
}

async function visitorWrites(message) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  watchErrors(page, errors);
  await page.goto(server.base);
  await page.getByTestId('sb-launcher').click();
  await page.locator('[data-testid="sb-connection"][data-state="connected"]').waitFor();
  await widgetFirstMessage(page, message);
  await page.locator('[data-testid="sb-message"][data-state="sent"]').first().waitFor();
  const conversationId = await waitFor('the conversation id', () => page.evaluate(() => window.SwitchboardWidget.state().conversationId));
  return { page, conversationId };
}

/** Counts the page's requests to the saved-reply API that change something. */
function recordCannedWrites(page) {
  const writes = [];
  page.on('request', (request) => {
    if (request.method() !== 'GET' && new URL(request.url()).pathname.startsWith('/v1/canned-replies')) writes.push(request.method());
  });
  return writes;
}

const cannedItem = (page, shortcut, scope) => page.locator(`[data-testid="canned-item"][data-shortcut="${shortcut}"][data-scope="${scope}"]`);
const options = (page) => page.getByTestId('canned-option').evaluateAll((nodes) => nodes.map((node) => [node.dataset.shortcut, node.getAttribute('aria-selected')]));
const tagsShown = (page) => page.getByTestId('tag').evaluateAll((nodes) => nodes.map((node) => node.dataset.tag));

test('an agent manages saved replies and inserts one with "/" and the keyboard; the visitor receives it', async () => {
  // Shared with the whole workspace by the administrator.
  await api(server, 'POST', '/v1/canned-replies', { shortcut: 'hello', text: 'Hello! How can I help you today?', scope: 'workspace' }, adminToken);

  const ada = await openConsole(ADA.email, ADA.password, 'online');
  const writes = recordCannedWrites(ada);
  const visitor = await visitorWrites('When will my order ship?');
  await ada.locator(`[data-testid="thread"][data-conversation-id="${visitor.conversationId}"]`).waitFor();

  // The manager: Ada (an agent) sees the shared reply without Edit or Delete, and cannot share.
  await ada.getByTestId('canned-open').click();
  await ada.getByTestId('canned-dialog').waitFor();
  await cannedItem(ada, 'hello', 'workspace').waitFor();
  assert.equal(await cannedItem(ada, 'hello', 'workspace').locator('button').count(), 0, 'shared replies are read-only for agents');
  assert.equal(await ada.getByTestId('canned-scope').isVisible(), false, 'agents add personal replies only');
  assert.equal(await text(ada.getByTestId('canned-mine')), 'You have no saved replies yet.');

  // A shortcut the server would refuse is refused before sending.
  await ada.getByTestId('canned-shortcut').fill('no spaces');
  await ada.getByTestId('canned-text').fill(SHIP);
  await ada.getByTestId('canned-save').click();
  assert.match(await text(ada.getByTestId('canned-error')), /1 to 32 of a–z/);
  assert.equal(await ada.getByTestId('canned-shortcut').getAttribute('aria-invalid'), 'true');
  assert.deepEqual(writes, [], 'nothing sent');

  // Two personal replies ("/" typed in front is fine), then one edited.
  await ada.getByTestId('canned-shortcut').fill('/ship');
  await ada.getByTestId('canned-save').click();
  await cannedItem(ada, 'ship', 'personal').waitFor();
  assert.equal(await text(ada.getByTestId('canned-ok')), 'Saved /ship.');
  assert.equal(await ada.getByTestId('canned-shortcut').inputValue(), '', 'the form is ready for the next one');
  await ada.getByTestId('canned-shortcut').fill('shipping-eu');
  await ada.getByTestId('canned-text').fill('EU delivery: 3 days.');
  await ada.getByTestId('canned-text').press('Tab');
  await ada.keyboard.press('Enter'); // on "Add reply"
  await cannedItem(ada, 'shipping-eu', 'personal').waitFor();

  // The same shortcut again is refused by the server, next to the form.
  await ada.getByTestId('canned-shortcut').fill('ship');
  await ada.getByTestId('canned-text').fill('duplicate');
  await ada.getByTestId('canned-save').click();
  await ada.getByTestId('canned-error').filter({ hasText: 'You already have a saved reply with this shortcut.' }).waitFor();

  await cannedItem(ada, 'shipping-eu', 'personal').getByTestId('canned-edit').click();
  assert.equal(await ada.getByTestId('canned-shortcut').inputValue(), 'shipping-eu');
  assert.equal(await ada.getByTestId('canned-error').isVisible(), false, 'the old error is gone');
  await ada.getByTestId('canned-text').fill(EU);
  await ada.getByTestId('canned-save').click();
  await cannedItem(ada, 'shipping-eu', 'personal').filter({ hasText: EU }).waitFor();

  // A third one is deleted after confirming in its row (Keep first, from the keyboard).
  await ada.getByTestId('canned-shortcut').fill('temp');
  await ada.getByTestId('canned-text').fill('Temporary');
  await ada.getByTestId('canned-save').click();
  await cannedItem(ada, 'temp', 'personal').getByTestId('canned-delete').click();
  await ada.getByText('Delete /temp?').waitFor();
  await waitFor('the focus on the confirmation', () => ada.evaluate(() => document.activeElement?.dataset.action === 'confirm-delete'));
  await ada.keyboard.press('Tab');
  await ada.keyboard.press('Enter'); // Keep
  await cannedItem(ada, 'temp', 'personal').getByTestId('canned-delete').waitFor();
  await cannedItem(ada, 'temp', 'personal').getByTestId('canned-delete').click();
  await cannedItem(ada, 'temp', 'personal').getByTestId('canned-confirm-delete').click();
  await cannedItem(ada, 'temp', 'personal').waitFor({ state: 'detached' });
  assert.equal(await text(ada.getByTestId('canned-ok')), 'Deleted /temp.');
  const stored = (await api(server, 'GET', '/v1/canned-replies', undefined, adaToken)).replies;
  assert.deepEqual(
    stored.map((reply) => [reply.shortcut, reply.scope, reply.text]).sort(),
    [['hello', 'workspace', 'Hello! How can I help you today?'], ['ship', 'personal', SHIP], ['shipping-eu', 'personal', EU]],
  );
  await ada.keyboard.press('Escape');
  await ada.getByTestId('canned-dialog').waitFor({ state: 'hidden' });

  // "/ship" lists both of hers; the arrow keys choose, Enter inserts in place of "/ship".
  const input = ada.getByTestId('reply-input');
  await input.click();
  await input.pressSequentially('/ship');
  await ada.getByTestId('canned-popup').waitFor();
  assert.deepEqual(await options(ada), [['ship', 'true'], ['shipping-eu', 'false']]);
  assert.match(await text(ada.getByTestId('canned-option').nth(1)), /shipping-eu.*3–5 business days/);
  await input.press('ArrowDown');
  assert.deepEqual(await options(ada), [['ship', 'false'], ['shipping-eu', 'true']]);
  assert.equal(await input.getAttribute('aria-activedescendant'), 'canned-option-1');
  await input.press('Enter');
  await ada.getByTestId('canned-popup').waitFor({ state: 'hidden' });
  assert.equal(await input.inputValue(), EU, 'inserted, not sent');
  assert.equal(await ada.getByTestId('message-text').filter({ hasText: EU }).count(), 0);

  // Escape closes the list and leaves the text; typing on opens it again.
  await input.fill('');
  await input.pressSequentially('Hi! /s');
  await ada.getByTestId('canned-popup').waitFor();
  await settled(ada);
  await ada.screenshot({ path: join(ARTIFACTS, 'agent-console-canned.png') });
  await input.press('Escape');
  await ada.getByTestId('canned-popup').waitFor({ state: 'hidden' });
  assert.equal(await input.inputValue(), 'Hi! /s');
  await input.pressSequentially('hi');
  await ada.getByTestId('canned-popup').waitFor();
  await input.press('ArrowDown');
  await input.press('ArrowUp');
  assert.deepEqual(await options(ada), [['ship', 'true'], ['shipping-eu', 'false']]);
  await input.press('Enter');
  assert.equal(await input.inputValue(), `Hi! ${SHIP}`);

  // Enter again sends it, and the visitor receives exactly that text.
  await input.press('Enter');
  await visitor.page.getByTestId('sb-text').filter({ hasText: SHIP }).waitFor();
  assert.equal(await text(visitor.page.getByTestId('sb-text').filter({ hasText: SHIP })), `Hi! ${SHIP}`);

  // A shared reply, chosen with the mouse.
  await input.pressSequentially('/hel');
  await ada.getByTestId('canned-option').filter({ hasText: 'Shared' }).click();
  assert.equal(await input.inputValue(), 'Hello! How can I help you today?');
  await input.fill('');

  // The administrator may share replies and change the shared ones.
  // (She holds no conversation: the manager opens from the empty thread pane.)
  const admin = await openConsole(ADMIN_EMAIL, ADMIN_PASSWORD, null);
  await admin.getByTestId('canned-open-empty').click();
  await admin.getByTestId('canned-scope').waitFor();
  await cannedItem(admin, 'hello', 'workspace').getByTestId('canned-edit').waitFor();
  await admin.getByTestId('canned-shortcut').fill('refund');
  await admin.getByTestId('canned-text').fill('Your refund is on its way.');
  await admin.getByTestId('canned-scope').selectOption('workspace');
  await admin.getByTestId('canned-save').click();
  await cannedItem(admin, 'refund', 'workspace').waitFor();
  assert.equal(await cannedItem(admin, 'ship', 'personal').count(), 0, 'Ada’s personal replies are hers alone');
  await settled(admin);
  await admin.screenshot({ path: join(ARTIFACTS, 'agent-console-canned-manager.png') });

  assert.deepEqual(errors, [], 'no script errors on any page');
});

test('tags added and removed on a conversation survive a reload, also on a phone', async () => {
  const ada = await openConsole(ADA.email, ADA.password, 'online');
  const visitor = await visitorWrites('I was charged twice.');
  // Ada still holds the conversation of the first test, which is open: open this one.
  await ada.locator(`[data-testid="conversation-item"][data-conversation-id="${visitor.conversationId}"]`).click();
  await ada.locator(`[data-testid="thread"][data-conversation-id="${visitor.conversationId}"]`).waitFor();

  const tagInput = ada.getByTestId('tag-input');
  // Enter adds; the server normalises (lower case, sorted).
  await tagInput.fill('  Billing ');
  await tagInput.press('Enter');
  await ada.locator('[data-testid="tag"][data-tag="billing"]').waitFor();
  assert.equal(await tagInput.inputValue(), '');
  await tagInput.fill('VIP');
  await ada.getByTestId('tag-add').click();
  await ada.locator('[data-testid="tag"][data-tag="vip"]').waitFor();
  await tagInput.fill('double-charge');
  await tagInput.press('Enter');
  await ada.locator('[data-testid="tag"][data-tag="double-charge"]').waitFor();
  assert.deepEqual(await tagsShown(ada), ['billing', 'double-charge', 'vip']);

  // At most 32 characters fit in the box (what the server accepts); a blank tag sends nothing.
  await tagInput.fill('x'.repeat(40));
  assert.equal((await tagInput.inputValue()).length, 32);
  await tagInput.fill('   ');
  await tagInput.press('Enter');
  assert.deepEqual(await tagsShown(ada), ['billing', 'double-charge', 'vip']);
  await tagInput.fill('');

  // Removed with the keyboard; the focus moves to the next tag's button.
  await ada.locator('[data-testid="tag"][data-tag="double-charge"]').getByTestId('tag-remove').focus();
  await ada.keyboard.press('Enter');
  await ada.locator('[data-testid="tag"][data-tag="double-charge"]').waitFor({ state: 'detached' });
  assert.deepEqual(await tagsShown(ada), ['billing', 'vip']);
  assert.equal(await ada.evaluate(() => document.activeElement?.closest('[data-testid="tag"]')?.dataset.tag), 'vip');
  assert.equal(await ada.locator('[data-testid="tag"][data-tag="vip"]').getByTestId('tag-remove').getAttribute('aria-label'), 'Remove tag vip');

  // The console reloads: the tags come back with the conversation.
  await ada.reload();
  await ada.locator('[data-testid="connection"][data-state="connected"]').waitFor();
  await ada.locator(`[data-testid="conversation-item"][data-conversation-id="${visitor.conversationId}"]`).click();
  await ada.locator('[data-testid="tag"][data-tag="vip"]').waitFor();
  assert.deepEqual(await tagsShown(ada), ['billing', 'vip']);

  // On a phone: the thread with its tags and composer fits the screen, nothing scrolls sideways.
  const phone = await openConsole(ADA.email, ADA.password, null, { width: 390, height: 844 });
  // Signed in, the phone shows the first conversation full screen; back to the list for this one.
  await phone.locator('#thread-back').click();
  await phone.locator(`[data-testid="conversation-item"][data-conversation-id="${visitor.conversationId}"]`).click();
  await phone.locator('[data-testid="tag"][data-tag="billing"]').waitFor();
  assert.deepEqual(await tagsShown(phone), ['billing', 'vip']);
  for (const id of ['transfer-open', 'close-conversation', 'mode-note', 'canned-open', 'reply-send', 'tag-input']) {
    const box = await phone.getByTestId(id).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${id} is on the screen: ${JSON.stringify(box)}`);
  }
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling');
  await phone.getByTestId('mode-note').check();
  await settled(phone);
  await phone.screenshot({ path: join(ARTIFACTS, 'agent-console-phone.png') });

  assert.deepEqual(errors, [], 'no script errors on any page');
});
