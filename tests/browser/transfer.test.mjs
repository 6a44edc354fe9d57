// Transfers and internal notes in the agent console, in real Chromium: the administrator hands a
// conversation with a note to a colleague who is Away in her own browser, is refused while that
// colleague is offline, and hands another conversation to a department's queue. The receiving
// agent sees the history and the notes; the visitors see who helps them now and never a note.
// Notes written with the composer's "Internal note" mode stay among the agents too.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ARTIFACTS, Switchboard, api, launchBrowser, waitFor, watchErrors, widgetFirstMessage } from './harness.mjs';

const GRACE = { name: 'Grace Hopper', email: 'grace@northwind.example', password: 'grace-password-1' };
const ALAN = { name: 'Alan Turing', email: 'alan@northwind.example', password: 'alan-password-1' };
const TRANSFER_NOTE = 'Order #1042: parcel damaged, refund approved up to 80 EUR.';
const DEPARTMENT_NOTE = 'Wants to upgrade to the business plan; please call back.';
const OWN_NOTE = 'Refund issued, ticket R-77 (internal).';
const NOTES = [TRANSFER_NOTE, DEPARTMENT_NOTE, OWN_NOTE];

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

/** Signs in to the console in a fresh browser context and sets the availability. */
async function openConsole(email, password, status) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  watchErrors(page, errors);
  await page.goto(`${server.base}/agent`);
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
  await page.getByTestId('agent-status').selectOption(status);
  await page.locator(`#availability[data-status="${status}"]`).waitFor();
  return page;
}

/**
 * Opens the demo shop in a fresh context, recording every WebSocket frame the widget receives,
 * and sends the visitor's first message.
 */
async function visitorWrites(message) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  watchErrors(page, errors);
  const frames = [];
  page.on('websocket', (socket) => socket.on('framereceived', (frame) => frames.push(String(frame.payload))));
  await page.goto(server.base);
  await page.getByTestId('sb-launcher').click();
  await page.locator('[data-testid="sb-connection"][data-state="connected"]').waitFor();
  await widgetFirstMessage(page, message);
  await page.locator('[data-testid="sb-message"][data-state="sent"]').first().waitFor();
  const conversationId = await waitFor('the conversation id', () => page.evaluate(() => window.SwitchboardWidget.state().conversationId));
  return { page, frames, conversationId };
}

/** Everything the widget shows, shadow DOM included. */
function widgetText(page) {
  return page.evaluate(() => {
    const host = [...document.body.children].find((node) => node.shadowRoot);
    return `${document.body.innerText}\n${host?.shadowRoot.textContent ?? ''}`;
  });
}

/** Asserts that no frame and no text of the visitor's page carries an internal note. */
async function assertNoNotes(visitor, where) {
  const shown = await widgetText(visitor.page);
  for (const note of NOTES) {
    assert.ok(!shown.includes(note), `${where}: the widget does not show the note "${note}"`);
    assert.ok(!visitor.frames.some((frame) => frame.includes(note)), `${where}: no frame to the visitor carries "${note}"`);
  }
  assert.ok(visitor.frames.length > 0, `${where}: frames were recorded`);
  assert.ok(!visitor.frames.some((frame) => JSON.parse(frame).type === 'note'), `${where}: no note frame reached the visitor`);
}

const conversationItem = (page, id) => page.locator(`[data-testid="conversation-item"][data-conversation-id="${id}"]`);
const openThread = (page, id) => page.locator(`[data-testid="thread"][data-conversation-id="${id}"]`);
const target = (page, kind, id) => page.locator(`[data-testid="transfer-target"][data-kind="${kind}"][data-target-id="${id}"]`);

test('an agent transfers a conversation with a note to a colleague, and one to a department', async () => {
  const { department } = await api(server, 'POST', '/v1/admin/departments', { name: 'Sales' }, adminToken);
  const grace = (await api(server, 'POST', '/v1/admin/agents', { ...GRACE, role: 'agent', max_concurrent: 3, department_ids: [department.id] }, adminToken)).agent;
  const alan = (await api(server, 'POST', '/v1/admin/agents', { ...ALAN, role: 'agent', max_concurrent: 2 }, adminToken)).agent;
  const { agents } = await api(server, 'GET', '/v1/admin/agents', undefined, adminToken);
  const adminId = agents.find((agent) => agent.email === ADMIN_EMAIL).id;

  // The administrator is the only one online, so the first visitor's conversation is hers.
  const admin = await openConsole(ADMIN_EMAIL, ADMIN_PASSWORD, 'online');
  const first = await visitorWrites('My parcel arrived damaged.');
  await openThread(admin, first.conversationId).waitFor();
  await admin.getByTestId('reply-input').fill('Sorry to hear that! A colleague will take care of the refund.');
  await admin.getByTestId('reply-send').click();
  await first.page.getByTestId('sb-text').filter({ hasText: 'take care of the refund' }).waitFor();

  // Grace works in her own browser, Away: she can receive transfers but nothing automatically.
  const gracePage = await openConsole(GRACE.email, GRACE.password, 'away');

  // The dialog lists colleagues with their availability and load (not herself) and departments.
  await admin.getByTestId('transfer-open').click();
  await admin.getByTestId('transfer-dialog').waitFor();
  const graceRow = target(admin, 'agent', grace.id);
  await graceRow.filter({ hasText: 'Away' }).waitFor();
  assert.match(await text(graceRow), /Grace Hopper\s*Away · 0 of 3 conversations/);
  assert.equal(await graceRow.locator('input').isDisabled(), false);
  assert.match(await text(target(admin, 'agent', alan.id)), /Offline/);
  assert.equal(await target(admin, 'agent', alan.id).locator('input').isDisabled(), true, 'an offline colleague cannot be chosen');
  assert.equal(await target(admin, 'agent', adminId).count(), 0, 'not herself');
  assert.match(await text(target(admin, 'department', department.id)), /Sales/);

  // Nothing chosen: said so, nothing sent.
  await admin.getByTestId('transfer-submit').click();
  assert.equal(await text(admin.getByTestId('transfer-error')), 'Choose a colleague or a department.');

  // Grace goes offline after the list was read: the server refuses, and the console says why.
  // (The list's own refresh is held back meanwhile, so that it is the server that refuses.)
  const held = [];
  let holding = true;
  await admin.route('**/v1/directory', (route) => (holding ? held.push(route) : route.continue()));
  await graceRow.locator('input').check();
  await gracePage.getByTestId('agent-status').selectOption('offline');
  await gracePage.locator('#availability[data-status="offline"]').waitFor();
  await admin.getByTestId('transfer-note').fill(TRANSFER_NOTE);
  await admin.getByTestId('transfer-submit').click();
  await admin.getByTestId('transfer-error').filter({ hasText: 'Grace Hopper is offline now' }).waitFor();
  holding = false;
  for (const route of held) await route.continue();
  await waitFor('Grace shown offline', () => graceRow.locator('input').isDisabled());
  assert.equal(await conversationItem(admin, first.conversationId).count(), 1, 'still hers');

  // Away again, Grace can be chosen once more (the open dialog reads the list every few seconds).
  await gracePage.getByTestId('agent-status').selectOption('away');
  await gracePage.locator('#availability[data-status="away"]').waitFor();
  await waitFor('Grace choosable again', async () => !(await graceRow.locator('input').isDisabled()), 15_000);
  await graceRow.locator('input').check();
  await settled(admin);
  await admin.screenshot({ path: join(ARTIFACTS, 'agent-console-transfer.png') });
  await admin.getByTestId('transfer-submit').click();

  // Transferred: it leaves the administrator's console...
  await admin.getByTestId('transfer-dialog').waitFor({ state: 'hidden' });
  await admin.locator('#toast').getByText('Conversation transferred to Grace Hopper.').waitFor();
  await conversationItem(admin, first.conversationId).waitFor({ state: 'detached' });
  assert.equal(await openThread(admin, first.conversationId).count(), 0);

  // ...and Grace has it with its history and the note.
  await openThread(gracePage, first.conversationId).waitFor();
  await gracePage.getByTestId('message-text').filter({ hasText: 'arrived damaged' }).waitFor();
  await gracePage.getByTestId('message-text').filter({ hasText: 'take care of the refund' }).waitFor();
  const note = gracePage.getByTestId('note').filter({ hasText: TRANSFER_NOTE });
  await note.waitFor();
  assert.match(await text(note), /^Internal note\s*Administrator/);
  assert.equal(await text(note.getByTestId('note-text')), TRANSFER_NOTE);

  // The visitor sees who helps now, and Grace's reply.
  await first.page.locator('[data-testid="sb-status"][data-status="assigned"]').filter({ hasText: 'Grace Hopper' }).waitFor();
  await gracePage.getByTestId('reply-input').fill('Hi, I am Grace. Your refund is on its way.');
  await gracePage.getByTestId('reply-send').click();
  await first.page.getByTestId('sb-text').filter({ hasText: 'refund is on its way' }).waitFor();

  // Once Grace's reply arrived, anything sent before it has arrived too: no note reached the visitor.
  await assertNoNotes(first, 'first visitor');

  // A second visitor; the administrator hands the conversation to the Sales queue.
  const second = await visitorWrites('Can I upgrade my plan?');
  await openThread(admin, second.conversationId).waitFor();
  await admin.getByTestId('transfer-open').click();
  await target(admin, 'department', department.id).locator('input').check();
  await admin.getByTestId('transfer-note').fill(DEPARTMENT_NOTE);
  await admin.getByTestId('transfer-submit').click();
  await admin.locator('#toast').getByText('Conversation transferred to the Sales queue.').waitFor();
  await conversationItem(admin, second.conversationId).waitFor({ state: 'detached' });

  // It waits for Sales (the visitor is told); Grace, a member, sees the department by name and takes it.
  await second.page.locator('[data-testid="sb-status"][data-status="queued"]').waitFor();
  const queued = gracePage.locator(`[data-testid="queue-item"][data-conversation-id="${second.conversationId}"]`);
  await queued.filter({ hasText: 'Department: Sales' }).waitFor({ timeout: 15_000 });
  await queued.getByTestId('queue-take').click();
  await openThread(gracePage, second.conversationId).waitFor();
  await gracePage.getByTestId('message-text').filter({ hasText: 'upgrade my plan' }).waitFor();
  await gracePage.getByTestId('note').filter({ hasText: DEPARTMENT_NOTE }).waitFor();
  await second.page.locator('[data-testid="sb-status"][data-status="assigned"]').filter({ hasText: 'Grace Hopper' }).waitFor();
  await gracePage.getByTestId('reply-input').fill('Sure, I can help with the upgrade.');
  await gracePage.getByTestId('reply-send').click();
  await second.page.getByTestId('sb-text').filter({ hasText: 'help with the upgrade' }).waitFor();
  await assertNoNotes(second, 'second visitor');
  await assertNoNotes(first, 'first visitor, at the end');

  assert.equal(await admin.getByTestId('conversation-item').count(), 0, 'the administrator holds neither conversation');
  assert.deepEqual(errors, [], 'no script errors on any page');
});

test('internal notes are shown among the messages to agents only and never reach the visitor', async () => {
  // The administrator is online and holds nothing (the previous test's conversations are Grace's).
  const admin = await openConsole(ADMIN_EMAIL, ADMIN_PASSWORD, 'online');
  const visitor = await visitorWrites('Where is my refund?');
  await openThread(admin, visitor.conversationId).waitFor();
  await admin.getByTestId('reply-input').fill('Let me look that up.');
  await admin.getByTestId('reply-input').press('Enter');
  await visitor.page.getByTestId('sb-text').filter({ hasText: 'look that up' }).waitFor();

  // "Internal note" mode, chosen with the keyboard: it shows in the box, the hint and the button.
  await admin.getByTestId('mode-reply').focus();
  await admin.keyboard.press('ArrowRight');
  await admin.locator('#reply-form[data-mode="note"]').waitFor();
  assert.equal(await admin.getByTestId('mode-note').isChecked(), true);
  assert.equal(await admin.getByTestId('reply-input').getAttribute('placeholder'), 'Internal note — only agents see it…');
  assert.equal(await text(admin.getByTestId('compose-hint')), 'Only agents see notes. The visitor never does.');
  assert.equal(await text(admin.getByTestId('reply-send')), 'Add note');

  // An empty note is refused before sending; a note is added with Enter.
  await admin.getByTestId('reply-input').press('Enter');
  await admin.locator('#thread-notice').getByText('Type a note before adding it.').waitFor();
  await admin.getByTestId('reply-input').fill(OWN_NOTE);
  await admin.getByTestId('reply-input').press('Enter');
  const note = admin.getByTestId('note').filter({ hasText: OWN_NOTE });
  await note.waitFor();
  assert.match(await text(note), /^Internal note\s*You/);
  await waitFor('the box to be emptied once the note is stored', async () => (await admin.getByTestId('reply-input').inputValue()) === '');
  assert.equal(await admin.getByTestId('message-text').filter({ hasText: OWN_NOTE }).count(), 0, 'a note is not a message');
  await settled(admin);
  await admin.screenshot({ path: join(ARTIFACTS, 'agent-console-notes.png') });

  // Back to Reply: the next text goes to the visitor. Once it arrived, anything sent before it
  // has arrived too, so the visitor's page can be checked for notes.
  await admin.getByTestId('mode-reply').check();
  assert.equal(await text(admin.getByTestId('reply-send')), 'Send');
  await admin.getByTestId('reply-input').fill('Your refund left our bank today.');
  await admin.getByTestId('reply-input').press('Enter');
  await visitor.page.getByTestId('sb-text').filter({ hasText: 'left our bank' }).waitFor();
  await assertNoNotes(visitor, 'visitor');
  assert.equal(await visitor.page.getByTestId('sb-message').count(), 3, 'the visitor sees the three messages and nothing else');

  // A reload shows the note once, between the messages it was written between; in Chinese too.
  await admin.reload();
  await admin.locator('[data-testid="connection"][data-state="connected"]').waitFor();
  await admin.getByTestId('note').filter({ hasText: OWN_NOTE }).waitFor();
  await admin.getByTestId('message-text').filter({ hasText: 'left our bank' }).waitFor();
  assert.equal(await admin.getByTestId('note').count(), 1, 'once after the resume');
  const order = await admin.locator('#thread-messages > *').evaluateAll((nodes) =>
    nodes.map((node) => node.querySelector('[data-testid="note-text"], [data-testid="message-text"]')?.textContent ?? ''),
  );
  assert.deepEqual(order, ['Where is my refund?', 'Let me look that up.', OWN_NOTE, 'Your refund left our bank today.']);
  await admin.getByTestId('lang').click();
  await admin.getByTestId('note').filter({ hasText: '内部备注' }).waitFor();
  await admin.getByTestId('mode-note').check();
  assert.equal(await admin.getByTestId('reply-input').getAttribute('placeholder'), '内部备注，仅客服可见…');
  await admin.getByTestId('lang').click();

  assert.deepEqual(errors, [], 'no script errors on any page');
});
