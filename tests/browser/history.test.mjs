// A conversation longer than one replay: the console opens it with its full history, page by page;
// and the console shows the trace id of a message it sent (the trace starts in the browser).
//
// The server runs with SWITCHBOARD_WS_REPLAY_LIMIT=50, so every `resume` stops after 50 messages
// with `recovered: false`; the console must ask for the next page until the replay is complete,
// and show every message exactly once, in order.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_EMAIL, ADMIN_PASSWORD, Switchboard, api, freePort, launchBrowser, waitFor, watchErrors } from './harness.mjs';

const MESSAGES = 120; // three pages: 50 + 50 + 20

let server;
let browser;
const errors = [];

before(async () => {
  server = await Switchboard.start({
    SWITCHBOARD_WS_REPLAY_LIMIT: '50',
    // The visitor below sends its backlog as fast as it can; the default rate limit would drop it.
    SWITCHBOARD_WS_FRAMES_PER_SECOND: '1000',
    SWITCHBOARD_WS_FRAMES_BURST: '1000',
    // Spans are recorded (and their export to this closed port fails quietly): messages get
    // trace ids.
    SWITCHBOARD_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Opens a raw visitor socket in `page` and sends `count` messages; returns their acks. */
function sendBacklog(page, siteKey, count) {
  const url = `${server.base.replace('http://', 'ws://')}/v1/visitor/ws?site_key=${siteKey}`;
  return page.evaluate(
    ({ url, count }) =>
      new Promise((resolve, reject) => {
        const socket = new WebSocket(url);
        const acks = [];
        const timer = setTimeout(() => reject(new Error(`only ${acks.length} of ${count} acks`)), 90_000);
        socket.onerror = () => reject(new Error('visitor socket failed'));
        socket.onmessage = (event) => {
          const frame = JSON.parse(event.data);
          if (frame.type === 'welcome') {
            // The first message opens the conversation; the rest follow once it is acknowledged.
            socket.send(JSON.stringify({ type: 'message', client_msg_id: 'm1', text: 'history line 1' }));
          } else if (frame.type === 'ack') {
            acks.push(frame);
            if (acks.length === 1) {
              for (let n = 2; n <= count; n += 1) {
                socket.send(JSON.stringify({ type: 'message', client_msg_id: `m${n}`, text: `history line ${n}` }));
              }
            }
            if (acks.length === count) {
              clearTimeout(timer);
              socket.close();
              resolve(acks);
            }
          } else if (frame.type === 'error') {
            clearTimeout(timer);
            reject(new Error(`server error: ${JSON.stringify(frame)}`));
          }
        };
      }),
    { url, count },
  );
}

test('the console opens a conversation longer than one replay with its whole history, in order', async () => {
  const admin = (await api(server, 'POST', '/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).token;
  const siteKey = (await api(server, 'GET', '/v1/me', undefined, admin)).workspace.site_key;

  const agent = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  watchErrors(agent, errors);
  await agent.goto(`${server.base}/agent`);
  await agent.getByTestId('login-email').fill(ADMIN_EMAIL);
  await agent.getByTestId('login-password').fill(ADMIN_PASSWORD);
  await agent.getByTestId('login-submit').click();
  await agent.locator('[data-testid="connection"][data-state="connected"]').waitFor();
  await agent.getByTestId('agent-status').selectOption('online');
  await agent.locator('#availability[data-status="online"]').waitFor();

  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(`${server.base}/healthz`);
  const acks = await sendBacklog(visitor, siteKey, MESSAGES);
  const conversationId = acks[0].conversation_id;
  assert.deepEqual(
    acks.map((ack) => ack.seq),
    Array.from({ length: MESSAGES }, (_, i) => i + 1),
    'the backlog is stored as seq 1..n',
  );

  // A fresh console (reload: nothing in memory) must page through the history to show it all.
  const resumed = [];
  const sent = [];
  agent.on('websocket', (socket) => {
    socket.on('framereceived', (frame) => {
      const parsed = JSON.parse(String(frame.payload));
      if (parsed.type === 'resumed' && parsed.conversation_id === conversationId) resumed.push(parsed);
    });
    socket.on('framesent', (frame) => sent.push(JSON.parse(String(frame.payload))));
  });
  await agent.reload();
  await agent.locator('[data-testid="connection"][data-state="connected"]').waitFor();
  await agent.locator(`[data-testid="conversation-item"][data-conversation-id="${conversationId}"]`).click();
  await waitFor(
    'the whole history in the console',
    async () => (await agent.locator('#thread [data-testid="message"]').count()) === MESSAGES,
    90_000,
  );

  const shown = await agent.locator('#thread [data-testid="message"]').evaluateAll((nodes) =>
    nodes.map((node) => ({ seq: Number(node.dataset.seq), text: node.querySelector('[data-testid="message-text"]').textContent })),
  );
  assert.deepEqual(
    shown.map((message) => message.seq),
    Array.from({ length: MESSAGES }, (_, i) => i + 1),
    'every message once, in seq order',
  );
  assert.ok(shown.every((message) => message.text === `history line ${message.seq}`), 'each message shows its own text');
  // Paged: two replays stopped at the limit, the third completed the history.
  assert.deepEqual(
    resumed.map((frame) => frame.recovered),
    [false, false, true],
    `resumed frames: ${JSON.stringify(resumed)}`,
  );
  assert.equal(resumed.at(-1).last_seq, MESSAGES);

  // A reply continues the trace the console started: the frame's traceparent names the trace
  // id the acknowledged message shows.
  await agent.getByTestId('reply-input').fill('Thanks, all read.');
  await agent.getByTestId('reply-input').press('Enter');
  const reply = agent.locator('#thread [data-testid="message"]').filter({ hasText: 'all read' });
  await reply.and(agent.locator('[data-state="sent"]')).waitFor();
  const frame = sent.find((f) => f.type === 'message' && f.text === 'Thanks, all read.');
  assert.match(frame?.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const traceId = frame.traceparent.slice(3, 35);
  await waitFor('the reply to show its trace id', async () => (await reply.getAttribute('data-trace-id')) === traceId);
  assert.match(await reply.locator('time').getAttribute('title'), new RegExp(traceId));
  assert.deepEqual(errors, []);
});
