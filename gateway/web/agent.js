// Switchboard agent console.
//
// One WebSocket (`/v1/agent/ws`, protocol v1 in docs/protocol.md) carries everything live; the
// waiting queue is polled over REST (every 3 s, and at once after a claim or an assignment). A
// waiting conversation is taken with `claim`; refusals come back as `error` frames that name no
// conversation, so the console keeps one claim in flight at a time and reads a claim code as its
// answer. Nothing is trusted to survive a disconnect: after every reconnect the console re-sends `resume` for each conversation it shows with the last seq it
// has shown, and re-sends unacknowledged replies with their original client_msg_id, so the
// server deduplicates them. Messages are keyed by (conversation_id, seq) and shown in seq order.
// Internal notes (agents only, never sent to the visitor) are keyed by id and shown by time among
// the messages. A held conversation can be transferred to a colleague or a department, carries
// tags, and the reply box inserts saved ("canned") replies typed as "/shortcut"; those three use
// REST (`/v1/directory`, `/v1/conversations/{id}/tags`, `/v1/canned-replies`). The open
// conversation shows a visitor card (`/v1/visitors/{id}`, cached per visitor): verified customer
// or not, contact, page and the visitor's past conversations. `transfer` and
// `note` are sent between two pings: the server handles a socket's frames in order and answers
// through one queue, so an `error` between the two pongs is their refusal and the second pong
// alone their success (errors carry no conversation id). The top bar opens Account security
// (security.js, shared with the dashboard and loaded on first use): two-factor and sessions. A
// session ended elsewhere closes the socket ("session ended") and returns to sign-in.
// User text is only ever inserted with textContent.

import { t, getLanguage, onLanguageChange, applyTranslations, formatTime, formatDateTime, formatDuration } from './i18n.js';
import {
  TOKEN_KEY,
  $,
  storageSet,
  readJson,
  el,
  syncChildren,
  shortId,
  avatarColour,
  initials,
  renderPerson,
  bearer,
  saveToken,
  saveAgent,
  storedToken,
  storedAgent,
  revokeToken,
  loginElements,
  createLoginForm,
  createLanguageButton,
  toastElements,
  createToast,
} from './common.js';

const READ_KEY = 'switchboard.console.read.'; // + agent id → { conversation id: last read seq }

const MAX_TEXT_BYTES = 8192;
const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 10_000;
const PING_EVERY_MS = 25_000;
const SILENT_LIMIT_MS = 70_000;
const QUEUE_POLL_MS = 3_000;
const TYPING_THROTTLE_MS = 2_000;
const TYPING_IDLE_MS = 3_000;
const REMOTE_TYPING_TIMEOUT_MS = 8_000;
const TOAST_MS = 6_000;
// A claim is answered by `assigned` or an `error`; past this, stop waiting and look at the queue.
const CLAIM_TIMEOUT_MS = 10_000;
/** `error` codes that answer a `claim` (docs/protocol.md §6). */
const CLAIM_CODES = new Set(['already_assigned', 'at_capacity', 'not_in_department', 'not_available', 'conversation_closed', 'conversation_not_found']);
// The server drops frames beyond 20/s (burst 40) per socket. Staying below that means a burst of
// `resume`s after a reconnect, or fast replies, queue here instead of being lost.
const SEND_RATE_PER_SEC = 15;
const SEND_BURST = 30;
// A transfer or note with no answer (error or pong) within this time is reported as failed.
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_TAGS = 20;
const MAX_TAG_CHARS = 32;
const MAX_CANNED_BYTES = 4096;
const CANNED_SHORTCUT = /^[a-z0-9_-]{1,32}$/;
const CANNED_SUGGESTIONS = 8;
// While the transfer dialog is open, colleagues' status and load are read again this often.
const DIRECTORY_REFRESH_MS = 5_000;
const WS_URL = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/v1/agent/ws`;

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

function uuid() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // Outside secure contexts randomUUID is missing; getRandomValues is not.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const encoder = new TextEncoder();
const utf8Length = (text) => encoder.encode(text).length;

function errorText(code) {
  const key = `error.${code}`;
  const text = t(key);
  return text === key ? t('error.generic') : text;
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

const store = {
  token: storedToken(),
  agent: storedAgent(), // { id, name } — shown at once after a reload
  status: 'offline',
  pendingStatus: null,
  connection: 'connecting',
  conversations: new Map(), // id → conversation
  openId: null,
  queue: [],
  queueState: 'idle', // idle | ok | error
  claim: null, // { id, timer }: the one claim waiting for its answer
  role: null, // admin | supervisor | agent, from GET /v1/me: who may share saved replies
  canned: [], // saved replies: { id, shortcut, text, scope: personal | workspace }
  directory: { agents: [], departments: [], state: 'idle' }, // GET /v1/directory; state idle | ok | error
  noteInFlight: null, // conversation id of the note waiting for its answer
};

/** Own messages by client_msg_id, to match acks, echoes and errors. */
const byClientId = new Map();
let localOrder = 0;

function conversationFor(id) {
  let conversation = store.conversations.get(id);
  if (!conversation) {
    conversation = {
      id,
      visitorId: '',
      status: 'assigned',
      agentId: null,
      messages: [], // sorted by seq (unsent ones last)
      bySeq: new Map(),
      lastSeq: 0, // highest seq shown: what `resume` asks after
      unread: 0,
      lastActivity: 0,
      replaying: false,
      typing: null,
      draft: '',
      mode: 'reply', // the composer: reply (to the visitor) or note (internal)
      notes: [], // sorted by created_at
      noteIds: new Set(),
      tags: [],
      offline: false,
      contactEmail: '',
      readSent: 0, // highest seq this console marked read
      visitorRead: 0, // highest seq the visitor has read
      item: null,
    };
    store.conversations.set(id, conversation);
  }
  return conversation;
}

function applyView(view) {
  const conversation = conversationFor(view.id);
  conversation.visitorId = view.visitor_id || conversation.visitorId;
  conversation.status = view.status || conversation.status;
  conversation.agentId = view.agent_id ?? conversation.agentId;
  conversation.department = view.department ?? null;
  // Full objects (welcome, assigned) leave `tags` out when there are none.
  conversation.tags = Array.isArray(view.tags) ? view.tags.map(String) : [];
  // Left while nobody could answer: the visitor may have gone, so the email matters.
  conversation.offline = view.offline === true;
  conversation.contactEmail = typeof view.contact_email === 'string' ? view.contact_email : '';
  if (!conversation.lastActivity) conversation.lastActivity = Date.now();
  return conversation;
}

const isMine = (conversation) =>
  conversation.status === 'assigned' && !conversation.lost && (!conversation.agentId || conversation.agentId === store.agent?.id);
const isWritable = (conversation) => isMine(conversation);

// Read positions survive reloads so that replayed history is not all "unread" again.
function readPositions() {
  return store.agent?.id ? readJson(READ_KEY + store.agent.id, {}) : {};
}

function markRead(conversation) {
  if (!store.agent?.id) return;
  const positions = readPositions();
  if ((positions[conversation.id] ?? 0) >= conversation.lastSeq && conversation.unread === 0) return;
  positions[conversation.id] = conversation.lastSeq;
  // Keep the map small: only conversations this page still shows.
  for (const id of Object.keys(positions)) if (!store.conversations.has(id)) delete positions[id];
  storageSet(READ_KEY + store.agent.id, JSON.stringify(positions));
  conversation.unread = 0;
}

// ---------------------------------------------------------------------------------------------
// DOM references
// ---------------------------------------------------------------------------------------------

const ui = {
  ...loginElements(),
  app: $('app'),
  workspace: $('workspace'),
  connection: $('connection'),
  availability: $('availability'),
  status: $('agent-status'),
  topbarLangSlot: $('topbar-lang-slot'),
  lang: $('lang'),
  agentName: $('agent-name'),
  agentAvatar: $('agent-avatar'),
  logout: $('logout'),
  securityOpen: $('security-open'),
  queue: $('queue'),
  queueCount: $('queue-count'),
  queueEmpty: $('queue-empty'),
  conversations: $('conversations'),
  conversationsCount: $('conversations-count'),
  conversationsEmpty: $('conversations-empty'),
  threadEmpty: $('thread-empty'),
  thread: $('thread'),
  threadBack: $('thread-back'),
  threadAvatar: $('thread-avatar'),
  threadTitle: $('thread-title'),
  threadStatus: $('thread-status'),
  threadOffline: $('thread-offline'),
  threadContact: $('thread-contact'),
  threadContactEmail: $('thread-contact-email'),
  closeConfirm: $('close-confirm'),
  closeRate: $('close-rate'),
  closePlain: $('close-plain'),
  closeCancel: $('close-cancel'),
  announcements: $('announcements'),
  threadMessages: $('thread-messages'),
  closeConversation: $('close-conversation'),
  typing: $('typing'),
  typingText: $('typing-text'),
  threadNotice: $('thread-notice'),
  replyForm: $('reply-form'),
  replyInput: $('reply-input'),
  replySend: $('reply-send'),
  replySendLabel: $('reply-send-label'),
  modeReply: $('mode-reply'),
  modeNote: $('mode-note'),
  composeHint: $('compose-hint'),
  cannedPopup: $('canned-popup'),
  cannedOptions: $('canned-options'),
  cannedStatus: $('canned-status'),
  cannedOpen: $('canned-open'),
  cannedOpenEmpty: $('canned-open-empty'),
  transferOpen: $('transfer-open'),
  card: {
    root: $('visitor-card'),
    name: $('visitor-card-name'),
    badge: $('visitor-card-badge'),
    badgeText: $('visitor-card-badge-text'),
    customer: $('visitor-card-customer'),
    customerId: $('visitor-card-customer-id'),
    emailRow: $('visitor-card-email-row'),
    email: $('visitor-card-email'),
    pageRow: $('visitor-card-page-row'),
    page: $('visitor-card-page'),
    history: $('visitor-card-history'),
    toggle: $('visitor-card-toggle'),
    count: $('visitor-card-count'),
    notice: $('visitor-card-notice'),
    past: $('visitor-card-past'),
  },
  tagBar: $('tag-bar'),
  tagList: $('tag-list'),
  tagForm: $('tag-form'),
  tagInput: $('tag-input'),
  tagAdd: $('tag-add'),
  tagError: $('tag-error'),
  transfer: {
    dialog: $('transfer-dialog'),
    form: $('transfer-form'),
    subtitle: $('transfer-subtitle'),
    close: $('transfer-close'),
    loading: $('transfer-loading'),
    agents: $('transfer-agents'),
    agentsEmpty: $('transfer-agents-empty'),
    departments: $('transfer-departments'),
    departmentsHint: $('transfer-departments-hint'),
    note: $('transfer-note'),
    error: $('transfer-error'),
    cancel: $('transfer-cancel'),
    submit: $('transfer-submit'),
  },
  canned: {
    dialog: $('canned-dialog'),
    close: $('canned-close'),
    done: $('canned-done'),
    loading: $('canned-loading'),
    mine: $('canned-mine'),
    shared: $('canned-shared'),
    form: $('canned-form'),
    formTitle: $('canned-form-title'),
    shortcut: $('canned-shortcut'),
    scopeField: $('canned-scope-field'),
    scope: $('canned-scope'),
    text: $('canned-text'),
    error: $('canned-error'),
    ok: $('canned-ok'),
    cancelEdit: $('canned-cancel-edit'),
    save: $('canned-save'),
  },
  ...toastElements(),
};

const loginForm = createLoginForm(ui, {
  beforeSubmit: () => unlockAudio(),
  onSession: (token, agent) => startSession(token, agent ? { id: agent.id, name: agent.name } : null),
});
const renderLanguageButton = createLanguageButton(ui.lang);
const { show: showToast } = createToast(ui, TOAST_MS);

// ---------------------------------------------------------------------------------------------
// Screens
// ---------------------------------------------------------------------------------------------

function showLogin(messageKey) {
  ui.app.hidden = true;
  ui.login.hidden = false;
  ui.loginLangSlot.appendChild(ui.lang);
  renderLanguageButton();
  loginForm.reset(messageKey);
  document.title = t('title.base');
}

function showApp() {
  ui.login.hidden = true;
  ui.app.hidden = false;
  ui.topbarLangSlot.appendChild(ui.lang);
  renderAgent();
  renderConnection();
  renderQueue();
  renderConversationList();
  renderThread();
}

function startSession(token, agent) {
  store.token = token;
  saveToken(token);
  if (agent) {
    store.agent = agent;
    saveAgent(agent);
  }
  resetConsole();
  showApp();
  attempt = 0;
  setConnection('connecting');
  connect();
}

/** Forgets everything shown, e.g. after logging out. */
function resetConsole() {
  store.conversations.clear();
  byClientId.clear();
  store.openId = null;
  store.queue = [];
  store.queueState = 'idle';
  endClaim();
  queueItems.clear();
  ui.queue.replaceChildren();
  store.status = 'offline';
  store.pendingStatus = null;
  ui.conversations.replaceChildren();
  ui.threadMessages.replaceChildren();
  ui.replyInput.value = '';
  closeCannedPopup();
  for (const dialog of [ui.transfer.dialog, ui.canned.dialog]) if (dialog.open) dialog.close();
  security?.reset();
  store.role = null;
  store.canned = [];
  store.directory = { agents: [], departments: [], state: 'idle' };
  store.noteInFlight = null;
  renderedTags = '';
  visitorCards.clear();
  renderedCard = '';
  ui.announcements.replaceChildren();
  announcementIds.clear();
  hideCloseConfirm(false);
  hiddenAttention = 0;
  updateTitle();
}

function endSession(messageKey) {
  const token = store.token;
  store.token = null;
  saveToken(null);
  disconnect();
  stopQueuePolling();
  resetConsole();
  showLogin(messageKey);
  return token;
}

function logout() {
  return revokeToken(endSession(null));
}

// ---------------------------------------------------------------------------------------------
// Connection
// ---------------------------------------------------------------------------------------------

let socket = null;
let welcomed = false;
let attempt = 0;
let reconnectTimer = null;
let heartbeatTimer = null;
let lastFrameAt = 0;
let lastErrorCode = null;

function setConnection(next) {
  if (!navigator.onLine && next !== 'connected') next = 'offline';
  store.connection = next;
  renderConnection();
}

const socketReady = () => socket && socket.readyState === WebSocket.OPEN && welcomed;

const outbox = [];
let tokens = SEND_BURST;
let refilledAt = Date.now();
let pumpTimer = null;

/** Queues a frame for the open socket; false if there is none (it is re-sent later anyway). */
/** Returns a W3C traceparent for a new trace that starts here (protocol v1's optional field). */
function newTraceparent() {
  const hex = (bytes) => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `00-${hex(16)}-${hex(8)}-01`;
}

function send(frame) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  outbox.push(JSON.stringify(frame));
  if (frame.type === 'ping') pingsSent += 1;
  pump();
  return true;
}

// Answers to `transfer` and `note` (see the top of this file): pings are counted as sent and
// pongs as received on the current socket; a request waits between its two pings.
let pingsSent = 0;
let pongsSeen = 0;
const requests = []; // { start, end, code, resolve, timer }

/** Sends `frame` between two pings; resolves to null when accepted, else the refusal's code. */
function request(frame) {
  return new Promise((resolve) => {
    if (!socketReady()) {
      resolve('unavailable');
      return;
    }
    send({ type: 'ping' });
    const start = pingsSent;
    send(frame);
    send({ type: 'ping' });
    const entry = { start, end: pingsSent, code: null, resolve, timer: null };
    entry.timer = setTimeout(() => settleRequest(entry, entry.code ?? 'timeout'), REQUEST_TIMEOUT_MS);
    requests.push(entry);
  });
}

function settleRequest(entry, code) {
  const index = requests.indexOf(entry);
  if (index === -1) return;
  requests.splice(index, 1);
  clearTimeout(entry.timer);
  entry.resolve(code);
}

function onPong() {
  pongsSeen += 1;
  for (const entry of [...requests]) if (entry.end <= pongsSeen) settleRequest(entry, entry.code);
}

/** An `error` that arrives between a request's two pongs is its refusal; true if it was one. */
function requestRefused(code) {
  const entry = requests.find((candidate) => candidate.start === pongsSeen);
  if (!entry) return false;
  entry.code ??= code;
  return true;
}

function pump() {
  const now = Date.now();
  tokens = Math.min(SEND_BURST, tokens + ((now - refilledAt) / 1000) * SEND_RATE_PER_SEC);
  refilledAt = now;
  while (outbox.length && tokens >= 1 && socket?.readyState === WebSocket.OPEN) {
    try {
      socket.send(outbox.shift());
    } catch {
      outbox.length = 0;
      return;
    }
    tokens -= 1;
  }
  if (outbox.length && !pumpTimer) {
    pumpTimer = setTimeout(() => {
      pumpTimer = null;
      pump();
    }, 1000 / SEND_RATE_PER_SEC);
  }
}

function connect() {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  if (socket || !store.token) return;
  if (!navigator.onLine) {
    setConnection('offline'); // the `online` event reconnects
    return;
  }
  let ws;
  try {
    ws = new WebSocket(WS_URL);
  } catch {
    scheduleReconnect();
    return;
  }
  socket = ws;
  welcomed = false;
  lastErrorCode = null;
  pingsSent = 0;
  pongsSeen = 0;
  ws.onopen = () => {
    lastFrameAt = Date.now();
    ws.send(JSON.stringify({ type: 'auth', token: store.token }));
    startHeartbeat();
  };
  ws.onmessage = (event) => {
    if (socket !== ws) return;
    lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (frame && typeof frame === 'object') handleFrame(frame);
  };
  ws.onclose = (event) => {
    if (socket === ws) dropped(event.code, event.reason);
  };
  ws.onerror = () => {
    // A close event follows.
  };
}

function detachSocket() {
  const ws = socket;
  socket = null;
  welcomed = false;
  stopHeartbeat();
  outbox.length = 0; // resumes and unacked replies are re-sent after the next welcome
  clearTimeout(pumpTimer);
  pumpTimer = null;
  // Their answers went with the socket: they may or may not have been applied.
  for (const entry of [...requests]) settleRequest(entry, 'disconnected');
  if (ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close();
    } catch {
      // already closed
    }
  }
  for (const conversation of store.conversations.values()) {
    conversation.replaying = false;
    setRemoteTyping(conversation, null);
  }
  resetTyping();
  if (store.claim) {
    endClaim(); // its answer went with the socket; the queue after the reconnect tells the rest
    renderQueue();
  }
}

/** Logging out: close for good. */
function disconnect() {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  detachSocket();
}

/** The socket is gone: back to the login screen if the token was refused, else retry. */
function dropped(code, reason) {
  detachSocket();
  stopQueuePolling();
  const refused = code === 1008 && (lastErrorCode === 'invalid_token' || lastErrorCode === 'auth_required' || /token|session ended/i.test(reason || ''));
  if (refused) {
    // "session ended": signed out from another device or by an administrator while connected.
    endSession(/session ended/i.test(reason || '') ? 'login.signedOut' : 'login.expired');
    return;
  }
  setConnection('reconnecting');
  renderThread();
  scheduleReconnect();
}

function scheduleReconnect() {
  clearTimeout(reconnectTimer);
  if (!store.token) return;
  if (!navigator.onLine) {
    setConnection('offline');
    return;
  }
  // 0.5 s doubling to 10 s, ±25 % jitter so a restarted gateway is not hit by everyone at once.
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** attempt);
  attempt += 1;
  reconnectTimer = setTimeout(connect, base * (0.75 + Math.random() * 0.5));
}

function startHeartbeat() {
  stopHeartbeat();
  heartbeatTimer = setInterval(() => {
    if (!socket) return;
    if (Date.now() - lastFrameAt > SILENT_LIMIT_MS) {
      dropped(1006, ''); // nothing heard, not even a pong: the network died without a close
      return;
    }
    send({ type: 'ping' });
  }, PING_EVERY_MS);
}

function stopHeartbeat() {
  clearInterval(heartbeatTimer);
  heartbeatTimer = null;
}

window.addEventListener('offline', () => {
  if (store.token) setConnection('offline');
});
window.addEventListener('online', () => {
  if (!store.token) return;
  if (socket) {
    setConnection(welcomed ? 'connected' : 'connecting');
  } else {
    attempt = 0;
    setConnection('reconnecting');
    connect();
  }
});

// Logging out in another tab logs this one out too.
window.addEventListener('storage', (event) => {
  if (event.key === TOKEN_KEY && !event.newValue && store.token) endSession(null);
});

// ---------------------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------------------

function handleFrame(frame) {
  switch (frame.type) {
    case 'welcome':
      return onWelcome(frame);
    case 'assigned':
      return onAssigned(frame);
    case 'message':
      return onMessage(frame);
    case 'ack':
      return onAck(frame);
    case 'conversation':
      return onConversation(frame);
    case 'resumed':
      return onResumed(frame);
    case 'typing':
      return onTyping(frame);
    case 'status':
      return onStatus(frame);
    case 'note':
      return onNote(frame);
    case 'read':
      return onRead(frame);
    case 'announcement':
      return onAnnouncement(frame);
    case 'error':
      return onError(frame);
    case 'pong':
      return onPong();
    default:
      return undefined; // frame types this console does not know
  }
}

function onWelcome(frame) {
  welcomed = true;
  attempt = 0;
  store.agent = { id: frame.agent_id, name: frame.name };
  saveAgent(store.agent);
  store.status = frame.status || 'offline';
  store.pendingStatus = null;
  setConnection('connected');

  const assigned = new Set();
  const positions = readPositions();
  for (const view of frame.conversations || []) {
    if (!view?.id) continue;
    const known = store.conversations.has(view.id);
    const conversation = applyView(view);
    assigned.add(view.id);
    if (!known) conversation.readSeq = positions[view.id] ?? 0;
  }
  // Shown before but no longer assigned to us: it was closed (or moved) while we were away.
  const resume = [];
  for (const conversation of store.conversations.values()) {
    if (!assigned.has(conversation.id)) {
      if (conversation.status === 'closed') continue;
      conversation.status = 'closed';
    }
    resume.push(conversation);
  }
  // Resume each with the last seq shown (0 for new ones): the server replays the gap, then
  // goes live. Unacked replies wait for `resumed`, since the replay may show them delivered.
  for (const conversation of resume) {
    conversation.replaying = true;
    send({ type: 'resume', conversation_id: conversation.id, after_seq: conversation.lastSeq });
  }

  if (!store.openId || !store.conversations.has(store.openId)) {
    const first = sortedConversations().find(isMine);
    if (first) openConversation(first.id, { focus: false });
  }
  renderAgent();
  renderConversationList();
  renderThread();
  startQueuePolling();
  // Who may share saved replies, the replies themselves, and department names for the queue.
  loadRole();
  loadCanned();
  loadDirectory();
}

function onAssigned(frame) {
  const view = frame.conversation;
  if (!view?.id) return;
  const conversation = applyView(view);
  conversation.status = 'assigned';
  conversation.agentId = store.agent?.id ?? conversation.agentId;
  conversation.lost = false;
  conversation.lastActivity = Date.now();
  conversation.replaying = false; // its messages follow from seq 1, live
  if (conversation.readSeq == null) conversation.readSeq = readPositions()[view.id] ?? 0;
  const claimed = store.claim?.id === view.id;
  if (claimed) endClaim();
  // It has left the queue; don't wait for the next poll to say so, and ask for the rest now.
  store.queue = store.queue.filter((entry) => entry.conversation_id !== view.id);
  renderQueue();
  refreshQueue();
  if (claimed) {
    // Taken on purpose: open it and put the cursor in the reply box.
    openConversation(view.id, { focus: true });
  } else if (!store.openId || !isMine(store.conversations.get(store.openId) ?? {})) {
    // Nothing (writable) open: show the new one right away.
    openConversation(view.id, { focus: false });
    if (document.hidden) hiddenAttention += 1;
  }
  renderConversationList();
  if (!claimed) notify();
}

function onMessage(frame) {
  if (!frame.conversation_id || typeof frame.seq !== 'number') return;
  const conversation = conversationFor(frame.conversation_id);
  const key = frame.seq;
  const createdAt = frame.created_at ? new Date(frame.created_at) : new Date();
  const sender = frame.sender || { kind: 'system', id: '', name: '' };
  if (frame.seq > conversation.lastSeq) conversation.lastSeq = frame.seq;
  if (conversation.typing && conversation.typing.id === sender.id) setRemoteTyping(conversation, null);

  const existing = conversation.bySeq.get(key);
  if (existing) {
    existing.createdAt = createdAt;
    if (frame.trace_id) existing.traceId = frame.trace_id;
    renderMessage(existing);
    return;
  }
  const mineOwn = frame.client_msg_id ? byClientId.get(frame.client_msg_id) : null;
  let message;
  if (mineOwn && mineOwn.conversationId === conversation.id && (mineOwn.seq == null || mineOwn.seq === frame.seq)) {
    message = mineOwn;
    message.seq = frame.seq;
    message.state = 'sent';
    message.createdAt = createdAt;
    message.sender = sender;
    if (frame.trace_id) message.traceId = frame.trace_id;
  } else {
    message = {
      conversationId: conversation.id,
      seq: frame.seq,
      clientMsgId: frame.client_msg_id || '',
      sender,
      text: String(frame.text ?? ''),
      createdAt,
      traceId: frame.trace_id || '',
      state: 'sent',
      own: sender.kind === 'agent' && sender.id === store.agent?.id,
      order: localOrder++,
    };
    buildMessage(message);
  }
  conversation.bySeq.set(key, message);
  insertMessage(conversation, message);
  if (createdAt.getTime() > conversation.lastActivity || !conversation.lastActivity) conversation.lastActivity = createdAt.getTime();

  // Unread: someone else wrote, beyond what this agent has read.
  if (!message.own && frame.seq > (conversation.readSeq ?? 0)) {
    const open = conversation.id === store.openId && !ui.app.hidden;
    if (open) {
      conversation.readSeq = frame.seq;
      markRead(conversation);
      scheduleReadMark();
      if (document.hidden && !conversation.replaying) {
        hiddenAttention += 1;
        notify();
      }
    } else {
      conversation.unread += 1;
      if (!conversation.replaying) notify();
    }
  }
  renderConversationItem(conversation);
  scheduleListSort();
  updateTitle();
}

function onAck(frame) {
  const message = byClientId.get(frame.client_msg_id);
  if (!message) return;
  const conversation = conversationFor(frame.conversation_id);
  if (message.seq == null && typeof frame.seq === 'number' && frame.seq > 0 && !conversation.bySeq.has(frame.seq)) {
    message.seq = frame.seq;
    conversation.bySeq.set(frame.seq, message);
  }
  message.state = 'sent';
  if (frame.trace_id) message.traceId = frame.trace_id;
  renderMessage(message);
  insertMessage(conversation, message);
  if (conversation.visitorRead) updateSeen(conversation);
}

function onConversation(frame) {
  const conversation = store.conversations.get(frame.conversation_id);
  if (!conversation) return; // not one this console shows
  conversation.status = frame.status || conversation.status;
  if (frame.agent) {
    conversation.agentId = frame.agent.id;
    conversation.lost = frame.agent.id !== store.agent?.id;
  }
  if (conversation.status === 'closed') setRemoteTyping(conversation, null);
  renderConversationItem(conversation);
  if (conversation.id === store.openId) renderThread();
}

function onResumed(frame) {
  const conversation = store.conversations.get(frame.conversation_id);
  if (!conversation) return;
  if (frame.recovered === false && typeof frame.last_seq === 'number') {
    // The replay stopped at the server's limit: ask for the rest before going on.
    send({ type: 'resume', conversation_id: conversation.id, after_seq: frame.last_seq });
    return;
  }
  conversation.replaying = false;
  resendPending(conversation);
  if (conversation.id === store.openId) {
    renderThread();
    scheduleReadMark();
  }
}

// Read marks: the open conversation, while the page is visible and its replay is done.
let readMarkTimer = null;
function scheduleReadMark() {
  if (readMarkTimer) return;
  readMarkTimer = setTimeout(() => {
    readMarkTimer = null;
    const conversation = store.conversations.get(store.openId);
    if (!conversation || conversation.replaying || document.hidden || ui.app.hidden || !socketReady()) return;
    if (conversation.lastSeq <= conversation.readSent) return;
    if (send({ type: 'read', conversation_id: conversation.id, seq: conversation.lastSeq })) conversation.readSent = conversation.lastSeq;
  }, 250);
}

function onRead(frame) {
  const conversation = store.conversations.get(frame.conversation_id);
  if (!conversation || typeof frame.seq !== 'number') return;
  const reader = frame.reader || {};
  if (reader.kind === 'agent' && reader.id === store.agent?.id) {
    // Our own mark, replayed after a resume.
    conversation.readSent = Math.max(conversation.readSent, frame.seq);
    return;
  }
  if (reader.kind !== 'visitor' || frame.seq <= conversation.visitorRead) return;
  conversation.visitorRead = frame.seq;
  updateSeen(conversation);
}

/** "Seen" under the agents' last message the visitor has read. */
function updateSeen(conversation) {
  let last = null;
  for (const message of conversation.messages) {
    if (message.sender.kind === 'agent' && message.seq != null && message.seq <= conversation.visitorRead) last = message;
  }
  for (const message of conversation.messages) {
    const seen = message === last;
    if (Boolean(message.seen) !== seen) {
      message.seen = seen;
      renderMessage(message);
    }
  }
}

const MAX_ANNOUNCEMENTS = 5;
const announcementIds = new Set();

/** Shows an announcement at the top until dismissed (live only; nothing is replayed). */
function onAnnouncement(frame) {
  const id = String(frame.id || '');
  if (!id || announcementIds.has(id)) return;
  announcementIds.add(id);
  const item = el('div', { class: 'announcement', 'data-testid': 'announcement', 'data-announcement-id': id, role: 'note' });
  const body = el('div', { class: 'announcement-body' });
  const from = el('span', { class: 'announcement-from', 'data-testid': 'announcement-from' });
  const author = frame.author?.name || '';
  const createdAt = frame.created_at ? new Date(frame.created_at) : new Date();
  const paintFrom = () => {
    from.textContent = `${t('announce.from', { name: author })} · ${formatTime(createdAt)}`;
    dismiss.setAttribute('aria-label', t('announce.dismiss'));
    dismiss.title = t('announce.dismiss');
  };
  const text = el('span', { 'data-testid': 'announcement-text' });
  text.textContent = String(frame.text ?? ''); // user text: textContent only
  body.append(from, text);
  const dismiss = el('button', { type: 'button', class: 'toast-close', 'data-testid': 'announcement-dismiss' });
  dismiss.textContent = '×';
  dismiss.addEventListener('click', () => {
    const nextButton = (item.nextElementSibling || item.previousElementSibling)?.querySelector('button');
    item.remove();
    // Keep the keyboard user in the announcements, or give the focus back to the reply box.
    if (nextButton) nextButton.focus();
    else if (!ui.thread.hidden && !ui.replyInput.disabled) ui.replyInput.focus();
  });
  item.paint = paintFrom;
  paintFrom();
  item.append(body, dismiss);
  ui.announcements.prepend(item);
  while (ui.announcements.children.length > MAX_ANNOUNCEMENTS) ui.announcements.lastElementChild.remove();
  notify();
}

function onTyping(frame) {
  const conversation = store.conversations.get(frame.conversation_id);
  const sender = frame.sender || {};
  if (!conversation || (sender.kind === 'agent' && sender.id === store.agent?.id)) return;
  if (frame.state) setRemoteTyping(conversation, { id: sender.id, name: sender.name });
  else if (conversation.typing?.id === sender.id) setRemoteTyping(conversation, null);
}

function setRemoteTyping(conversation, typing) {
  if (conversation.typing) clearTimeout(conversation.typing.timer);
  conversation.typing = typing;
  if (typing) {
    typing.timer = setTimeout(() => {
      if (conversation.typing === typing) setRemoteTyping(conversation, null);
    }, REMOTE_TYPING_TIMEOUT_MS);
  }
  renderConversationItem(conversation);
  if (conversation.id === store.openId) renderTyping();
}

function onStatus(frame) {
  store.status = frame.status;
  store.pendingStatus = null;
  renderAgent();
}

function onError(frame) {
  const code = String(frame.code || '');
  const message = frame.client_msg_id ? byClientId.get(frame.client_msg_id) : null;
  if (message) {
    message.state = 'failed';
    renderMessage(message);
    const conversation = store.conversations.get(message.conversationId);
    if (conversation && code === 'conversation_closed') conversation.status = 'closed';
    if (conversation && code === 'not_assigned') conversation.lost = true; // moved to someone else
    // Service-side failures: the generic text would promise an automatic retry we don't do.
    const text = ['unavailable', 'internal'].includes(code) || errorText(code) === t('error.generic') ? t('error.messageFailed') : errorText(code);
    if (conversation) {
      renderConversationItem(conversation);
      if (conversation.id === store.openId) {
        renderThread();
        showThreadNotice(text);
        return;
      }
    }
    showToast(text);
    return;
  }
  lastErrorCode = code;
  if (code === 'invalid_token' || code === 'auth_required') return; // the 1008 close follows
  if (requestRefused(code)) return; // a transfer's or note's answer, shown where it was made
  if (store.claim && CLAIM_CODES.has(code)) {
    // Errors carry no conversation id; with one claim in flight, a claim code is its answer.
    endClaim();
    renderQueue();
    showToast(t(`claim.error.${code}`));
    refreshQueue();
    return;
  }
  if (store.pendingStatus) {
    // Our availability change was refused: show what the server still has.
    store.pendingStatus = null;
    renderAgent();
  }
  showToast(errorText(code));
}

// ---------------------------------------------------------------------------------------------
// Notifications: unread badges, a flashing title and a short beep
// ---------------------------------------------------------------------------------------------

let hiddenAttention = 0; // messages that arrived in the open conversation while the tab was hidden
let titleTimer = null;
let titlePhase = false;

function totalUnread() {
  let total = 0;
  for (const conversation of store.conversations.values()) total += conversation.unread;
  return total + hiddenAttention;
}

function updateTitle() {
  const count = totalUnread();
  if (!count || !store.token) {
    clearInterval(titleTimer);
    titleTimer = null;
    document.title = t('title.base');
    return;
  }
  const paint = () => {
    titlePhase = !titlePhase;
    // Both phases keep the count, so a glance (or a test) always sees it.
    document.title = titlePhase ? t('title.new', { count }) : `(${count}) ${t('title.base')}`;
  };
  titlePhase = false;
  paint();
  clearInterval(titleTimer);
  titleTimer = setInterval(paint, 1200);
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) scheduleReadMark();
  if (!document.hidden && hiddenAttention) {
    hiddenAttention = 0;
    updateTitle();
  }
});

let audio = null;
let lastBeep = 0;

/** Creates the AudioContext inside a user gesture, as browsers require. */
function unlockAudio() {
  try {
    if (!audio) {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return;
      audio = new Context();
    }
    if (audio.state === 'suspended') audio.resume().catch(() => {});
  } catch {
    audio = null;
  }
}
document.addEventListener('pointerdown', unlockAudio, { passive: true });
document.addEventListener('keydown', unlockAudio);

function beep() {
  const now = Date.now();
  if (!audio || audio.state !== 'running' || now - lastBeep < 1500) return;
  lastBeep = now;
  try {
    const start = audio.currentTime;
    const gain = audio.createGain();
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.08, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.32);
    gain.connect(audio.destination);
    const tone = audio.createOscillator();
    tone.type = 'sine';
    tone.frequency.setValueAtTime(880, start);
    tone.frequency.setValueAtTime(1175, start + 0.12);
    tone.connect(gain);
    tone.start(start);
    tone.stop(start + 0.34);
  } catch {
    // Sound is a nicety; never let it break message handling.
  }
}

function notify() {
  updateTitle();
  beep();
}

// ---------------------------------------------------------------------------------------------
// Queue (REST, polled while connected)
// ---------------------------------------------------------------------------------------------

let queueTimer = null;
let queueAbort = null;

function startQueuePolling() {
  stopQueuePolling();
  pollQueue();
}

function stopQueuePolling() {
  clearTimeout(queueTimer);
  queueTimer = null;
  queueAbort?.abort();
  queueAbort = null;
}

/** Polls now instead of at the next tick (after a claim or an assignment). */
function refreshQueue() {
  if (!socketReady()) return;
  stopQueuePolling();
  pollQueue();
}

async function pollQueue() {
  if (!store.token || !socketReady()) return;
  const controller = new AbortController();
  queueAbort = controller;
  try {
    const response = await fetch('/v1/queue', {
      headers: bearer(store.token),
      cache: 'no-store',
      signal: controller.signal,
    });
    if (response.status === 401) {
      endSession('login.expired');
      return;
    }
    if (!response.ok) throw new Error(`queue: ${response.status}`);
    const body = await response.json();
    store.queue = Array.isArray(body.entries) ? body.entries : [];
    store.queueState = 'ok';
    const known = new Set(store.directory.departments.map((department) => department.id));
    if (store.queue.some((entry) => entry?.department_id && !known.has(entry.department_id))) loadDirectoryOnce();
  } catch (error) {
    if (controller.signal.aborted) return;
    store.queueState = 'error';
  }
  if (queueAbort !== controller) return;
  queueAbort = null;
  renderQueue();
  if (socketReady()) queueTimer = setTimeout(pollQueue, QUEUE_POLL_MS);
}

// ---------------------------------------------------------------------------------------------
// Rendering: top bar
// ---------------------------------------------------------------------------------------------

function renderAgent() {
  renderPerson(ui.agentName, ui.agentAvatar, store.agent);
  const status = store.pendingStatus || store.status;
  ui.status.value = status;
  ui.status.disabled = !socketReady();
  ui.availability.dataset.status = status;
  renderLanguageButton();
}

function renderConnection() {
  ui.connection.dataset.state = store.connection;
  ui.connection.querySelector('.connection-label').textContent = t(`connection.${store.connection}`);
  ui.connection.title = `${t('connection.label')}: ${t(`connection.${store.connection}`)}`;
  ui.status.disabled = !socketReady();
  renderComposerState();
  renderQueue();
}

// ---------------------------------------------------------------------------------------------
// Rendering: queue and conversation list
// ---------------------------------------------------------------------------------------------

// Queue items are kept per conversation and updated in place, so a poll every 3 s neither
// flickers nor takes the keyboard focus away from a Take button.
const queueItems = new Map(); // conversation id → { li, title, details, take }

function buildQueueItem(id) {
  const li = el('li', { class: 'queue-item', 'data-testid': 'queue-item', 'data-conversation-id': id });
  const icon = el('span', { class: 'queue-icon', 'aria-hidden': 'true' });
  const body = el('div', { class: 'item-body' });
  const title = el('span', { class: 'item-title', 'data-testid': 'queue-title' });
  const details = el('span', { class: 'item-preview' });
  body.append(title, details);
  const take = el('button', { type: 'button', class: 'btn btn-outline btn-small take-button', 'data-testid': 'queue-take' });
  take.addEventListener('click', () => claim(id));
  li.append(icon, body, take);
  const item = { li, title, details, take };
  queueItems.set(id, item);
  return item;
}

function renderQueueItem(item, entry) {
  const id = String(entry.conversation_id);
  const who = entry.visitor_id ? t('visitor.short', { id: shortId(entry.visitor_id) }) : t('queue.visitor', { id: shortId(id) });
  item.title.textContent = who;
  const details = [];
  if (typeof entry.enqueued_at === 'number') details.push(t('queue.waiting', { duration: formatDuration(Date.now() - entry.enqueued_at * 1000) }));
  if (entry.department_id) {
    const department = store.directory.departments.find((candidate) => candidate.id === entry.department_id);
    details.push(department ? t('queue.departmentNamed', { name: department.name }) : t('queue.department', { id: shortId(entry.department_id) }));
  }
  item.details.textContent = details.join(' · ');
  const pending = store.claim?.id === id;
  const busy = Boolean(store.claim) || !socketReady();
  item.li.classList.toggle('is-claiming', pending);
  item.take.textContent = pending ? t('queue.taking') : t('queue.take');
  // aria-disabled rather than disabled: a disabled button drops the keyboard focus, and the
  // focus should still be there when a refusal comes back.
  item.take.setAttribute('aria-disabled', String(busy));
  item.take.setAttribute('aria-label', t('queue.takeLabel', { name: who }));
  if (pending) item.take.setAttribute('aria-busy', 'true');
  else item.take.removeAttribute('aria-busy');
}

function renderQueue() {
  const entries = store.queue.filter((entry) => entry && entry.conversation_id);
  ui.queueCount.textContent = String(entries.length);
  ui.queueCount.hidden = entries.length === 0;
  const seen = new Set();
  const wanted = entries.map((entry) => {
    const id = String(entry.conversation_id);
    seen.add(id);
    const item = queueItems.get(id) ?? buildQueueItem(id);
    renderQueueItem(item, entry);
    return item.li;
  });
  for (const id of [...queueItems.keys()]) if (!seen.has(id)) queueItems.delete(id);
  const focused = ui.queue.contains(document.activeElement);
  syncChildren(ui.queue, wanted);
  // The focused item left the queue (taken by us or someone else): keep the keyboard in the list.
  if (focused && !ui.queue.contains(document.activeElement)) ui.queue.querySelector('button')?.focus();
  let emptyText = '';
  if (store.queueState === 'error') emptyText = t('queue.unavailable');
  else if (!entries.length) emptyText = t('queue.empty');
  else if (store.status !== 'online') emptyText = t('queue.hint');
  ui.queueEmpty.textContent = emptyText;
  ui.queueEmpty.hidden = !emptyText;
  ui.queueEmpty.classList.toggle('list-hint', entries.length > 0);
}

// ---------------------------------------------------------------------------------------------
// Claiming a waiting conversation
// ---------------------------------------------------------------------------------------------

/** Sends `claim`; the answer is `assigned` (see onAssigned) or a claim error (see onError). */
function claim(id) {
  if (store.claim) return; // one at a time: the buttons say so (aria-disabled)
  if (!socketReady() || !send({ type: 'claim', conversation_id: id })) {
    showToast(t('error.unavailable'));
    return;
  }
  const timer = setTimeout(() => {
    if (store.claim?.timer !== timer) return;
    endClaim();
    renderQueue();
    refreshQueue();
  }, CLAIM_TIMEOUT_MS);
  store.claim = { id, timer };
  renderQueue();
}

function endClaim() {
  if (store.claim) clearTimeout(store.claim.timer);
  store.claim = null;
}

function sortedConversations() {
  return [...store.conversations.values()].sort((a, b) => b.lastActivity - a.lastActivity || a.id.localeCompare(b.id));
}

function conversationTitle(conversation) {
  return t('visitor.short', { id: shortId(conversation.visitorId || conversation.id) });
}

function statusOf(conversation) {
  if (conversation.status === 'assigned' && !isMine(conversation)) return 'transferred';
  return conversation.status;
}

function buildConversationItem(conversation) {
  const li = el('li', { class: 'conversation-entry' });
  const button = el('button', {
    type: 'button',
    class: 'conversation-item',
    'data-testid': 'conversation-item',
    'data-conversation-id': conversation.id,
  });
  const avatar = el('span', { class: 'avatar', 'aria-hidden': 'true' });
  const body = el('span', { class: 'item-body' });
  const top = el('span', { class: 'item-top' });
  const title = el('span', { class: 'item-title' });
  const time = el('time', { class: 'item-time' });
  top.append(title, time);
  const bottom = el('span', { class: 'item-bottom' });
  const preview = el('span', { class: 'item-preview' });
  const pill = el('span', { class: 'pill pill-small' });
  const offline = el('span', { class: 'pill pill-small pill-offline', 'data-testid': 'conversation-offline' });
  const unread = el('span', { class: 'unread', 'data-testid': 'unread' });
  bottom.append(preview, offline, pill, unread);
  body.append(top, bottom);
  button.append(avatar, body);
  button.addEventListener('click', () => openConversation(conversation.id, { focus: true }));
  li.appendChild(button);
  conversation.item = { li, button, avatar, title, time, preview, pill, offline, unread };
}

function renderConversationItem(conversation) {
  if (!conversation.item) buildConversationItem(conversation);
  const { button, avatar, title, time, preview, pill, offline, unread } = conversation.item;
  offline.textContent = t('offline.listBadge');
  offline.hidden = !conversation.offline;
  const name = conversationTitle(conversation);
  title.textContent = name;
  avatar.textContent = initials(shortId(conversation.visitorId || conversation.id).slice(0, 2));
  avatar.style.background = avatarColour(conversation.visitorId || conversation.id);
  const last = [...conversation.messages].reverse().find((message) => message.sender.kind !== 'system') ?? conversation.messages.at(-1);
  if (conversation.typing) {
    preview.textContent = t('conversations.typing');
    preview.classList.add('is-typing');
  } else {
    preview.classList.remove('is-typing');
    preview.textContent = last ? (last.own ? t('conversations.you', { text: last.text }) : last.text) : t('conversations.noMessages');
  }
  const activity = conversation.lastActivity ? new Date(conversation.lastActivity) : null;
  time.textContent = activity ? formatTime(activity) : '';
  if (activity) time.dateTime = activity.toISOString();
  const status = statusOf(conversation);
  pill.dataset.status = status;
  pill.textContent = status === 'assigned' ? '' : t(`conv.${status}`);
  pill.hidden = status === 'assigned';
  unread.textContent = String(conversation.unread);
  unread.hidden = conversation.unread === 0;
  unread.setAttribute('aria-label', t('conversations.unread', { count: conversation.unread }));
  const open = conversation.id === store.openId;
  button.classList.toggle('is-open', open);
  button.classList.toggle('is-unread', conversation.unread > 0);
  button.classList.toggle('is-closed', status !== 'assigned');
  if (open) button.setAttribute('aria-current', 'true');
  else button.removeAttribute('aria-current');
}

let sortScheduled = false;
/** Re-sorts the list at most every 50 ms (a replay can bring hundreds of messages at once). */
function scheduleListSort() {
  if (sortScheduled) return;
  sortScheduled = true;
  // A timer, not requestAnimationFrame: that one sleeps in background tabs.
  setTimeout(() => {
    sortScheduled = false;
    renderConversationList();
  }, 50);
}

function renderConversationList() {
  const conversations = sortedConversations();
  for (const conversation of conversations) renderConversationItem(conversation);
  // Move nodes only when the order changed, so focus and hover are not disturbed.
  const wanted = conversations.map((conversation) => conversation.item.li);
  syncChildren(ui.conversations, wanted);
  ui.conversationsCount.textContent = String(conversations.filter(isMine).length);
  ui.conversationsEmpty.textContent = t('conversations.empty');
  ui.conversationsEmpty.hidden = conversations.length > 0;
}

// ---------------------------------------------------------------------------------------------
// Rendering: the open conversation
// ---------------------------------------------------------------------------------------------

function buildMessage(message) {
  const node = el('article', { class: 'message', 'data-testid': 'message' });
  const meta = el('div', { class: 'message-meta' });
  const sender = el('span', { class: 'message-sender' });
  const time = el('time', { class: 'message-time' });
  meta.append(sender, time);
  const bubble = el('div', { class: 'bubble' });
  const text = el('div', { class: 'message-text', 'data-testid': 'message-text' });
  text.textContent = message.text; // user text: textContent only
  bubble.appendChild(text);
  const delivery = el('div', { class: 'message-delivery' });
  const stateLabel = el('span', { class: 'delivery-state' });
  const retry = el('button', { type: 'button', class: 'link-button retry' });
  retry.addEventListener('click', () => retrySend(message));
  delivery.append(stateLabel, retry);
  node.append(meta, bubble, delivery);
  message.el = node;
  message.parts = { sender, time, stateLabel, retry, delivery };
  renderMessage(message);
}

function renderMessage(message) {
  const { el: node, parts } = message;
  if (!node) return;
  node.dataset.seq = message.seq == null ? '' : String(message.seq);
  node.dataset.sender = message.sender.kind;
  node.dataset.state = message.state;
  node.dataset.clientMsgId = message.clientMsgId || '';
  node.classList.toggle('is-own', message.own);
  const kind = message.sender.kind;
  const name = message.sender.name;
  // "Visitor" is the server's default name; show it in the console's language instead.
  parts.sender.textContent = message.own
    ? t('message.you')
    : kind === 'visitor' && (!name || name === 'Visitor')
      ? t('visitor.label')
      : name || '';
  parts.time.textContent = formatTime(message.createdAt);
  if (!Number.isNaN(message.createdAt.getTime())) {
    parts.time.dateTime = message.createdAt.toISOString();
    parts.time.title = formatDateTime(message.createdAt);
  }
  // The trace of the send (when the server records traces): hover the time, or look it up in
  // Jaeger/Tempo by this id.
  node.dataset.traceId = message.traceId || '';
  if (message.traceId) parts.time.title += `\n${t('message.trace')} ${message.traceId}`;
  const seen = message.seen === true;
  parts.delivery.hidden = !message.own && !seen;
  parts.stateLabel.textContent = seen ? t('message.seen') : message.own ? t(`message.${message.state}`) : '';
  parts.stateLabel.dataset.seen = seen ? 'true' : 'false';
  node.dataset.seen = seen ? 'true' : 'false';
  parts.retry.textContent = t('message.retry');
  parts.retry.hidden = message.state !== 'failed';
}

function messageOrder(a, b) {
  const seqA = a.seq ?? Number.MAX_SAFE_INTEGER;
  const seqB = b.seq ?? Number.MAX_SAFE_INTEGER;
  return seqA - seqB || a.order - b.order;
}

/** Puts the message at its seq position in the conversation, and in the DOM if it is open. */
function insertMessage(conversation, message) {
  const list = conversation.messages;
  const index = list.indexOf(message);
  if (index !== -1) list.splice(index, 1);
  let at = list.length;
  while (at > 0 && messageOrder(list[at - 1], message) > 0) at -= 1;
  list.splice(at, 0, message);
  for (const position of new Set([index, at, at + 1])) regroup(list, position);
  if (conversation.id !== store.openId) return;
  const stick = nearBottom() || message.own;
  const next = list[at + 1];
  ui.threadMessages.insertBefore(message.el, next ? next.el : null);
  if (conversation.notes.length) settleAmongNotes(message);
  if (stick) scrollToBottom();
}

const GROUP_GAP_MS = 3 * 60_000;

/** A message right after one from the same sender (within minutes) hides its name and time. */
function regroup(list, index) {
  const message = list[index];
  if (!message?.el) return;
  const previous = list[index - 1];
  const continued =
    Boolean(previous) &&
    previous.sender.kind === message.sender.kind &&
    previous.sender.id === message.sender.id &&
    previous.own === message.own &&
    message.createdAt - previous.createdAt < GROUP_GAP_MS;
  message.el.classList.toggle('is-continued', continued);
}

const nearBottom = () => ui.threadMessages.scrollHeight - ui.threadMessages.scrollTop - ui.threadMessages.clientHeight < 120;
const scrollToBottom = () => {
  ui.threadMessages.scrollTop = ui.threadMessages.scrollHeight;
};

function openConversation(id, { focus }) {
  const conversation = store.conversations.get(id);
  if (!conversation) return;
  const previous = store.conversations.get(store.openId);
  if (previous && previous.id !== id) {
    previous.draft = ui.replyInput.value;
    resetTyping();
    closeCannedPopup();
  }
  const changed = store.openId !== id;
  store.openId = id;
  conversation.readSeq = Math.max(conversation.readSeq ?? 0, conversation.lastSeq);
  markRead(conversation);
  scheduleReadMark();
  if (changed) {
    hideCloseConfirm(false);
    ui.threadMessages.replaceChildren(...timeline(conversation));
    ui.replyInput.value = conversation.draft || '';
    autosize();
    clearThreadNotice();
    clearTagError();
    ui.tagInput.value = '';
    loadVisitorCard(conversation, false);
  }
  ui.workspace.classList.add('show-thread');
  renderConversationList();
  renderThread();
  scrollToBottom();
  updateTitle();
  if (focus && isWritable(conversation)) ui.replyInput.focus();
}

function renderThread() {
  const conversation = store.conversations.get(store.openId);
  ui.thread.hidden = !conversation;
  ui.threadEmpty.hidden = Boolean(conversation);
  if (!conversation) {
    ui.thread.dataset.conversationId = '';
    ui.workspace.classList.remove('show-thread');
    return;
  }
  ui.thread.dataset.conversationId = conversation.id;
  ui.threadTitle.textContent = conversationTitle(conversation);
  ui.threadTitle.title = conversation.visitorId || conversation.id;
  ui.threadAvatar.textContent = initials(shortId(conversation.visitorId || conversation.id).slice(0, 2));
  ui.threadAvatar.style.background = avatarColour(conversation.visitorId || conversation.id);
  const status = statusOf(conversation);
  ui.threadStatus.dataset.status = status;
  ui.threadStatus.textContent = t(`conv.${status}`);
  ui.threadOffline.hidden = !conversation.offline;
  ui.threadContact.hidden = !conversation.contactEmail;
  ui.threadContactEmail.textContent = conversation.contactEmail;
  if (conversation.contactEmail) ui.threadContactEmail.href = `mailto:${encodeURIComponent(conversation.contactEmail).replace(/%40/g, '@')}`;
  else ui.threadContactEmail.removeAttribute('href');
  if (!isWritable(conversation)) hideCloseConfirm(false);
  renderTyping();
  renderComposerState();
  renderTags(conversation);
  renderVisitorCard(conversation);
  if (!isWritable(conversation)) {
    showThreadNotice(status === 'closed' ? t('thread.closed') : t('error.not_assigned'), 'info', true);
  } else if (threadNoticeSticky) {
    clearThreadNotice();
  }
}

function renderComposerState() {
  const conversation = store.conversations.get(store.openId);
  const writable = Boolean(conversation && isWritable(conversation));
  const mode = conversation?.mode ?? 'reply';
  const savingNote = Boolean(conversation) && store.noteInFlight === conversation.id;
  ui.replyInput.disabled = !writable;
  ui.replySend.disabled = !writable || (mode === 'note' && savingNote);
  ui.closeConversation.disabled = !writable || !socketReady();
  ui.transferOpen.disabled = !writable || !socketReady();
  ui.modeReply.disabled = !writable;
  ui.modeNote.disabled = !writable;
  ui.replyForm.classList.toggle('is-disabled', !writable);
  // The mode shows in the colours, the placeholder, the hint and the button, so that an internal
  // note is never mistaken for a reply to the visitor (and the other way round).
  ui.replyForm.dataset.mode = mode;
  ui.modeReply.checked = mode === 'reply';
  ui.modeNote.checked = mode === 'note';
  ui.replyInput.placeholder = t(mode === 'note' ? 'note.placeholder' : 'reply.placeholder');
  ui.replyInput.setAttribute('aria-label', t(mode === 'note' ? 'note.label' : 'reply.label'));
  ui.composeHint.textContent = mode === 'note' ? t('note.hint') : '';
  ui.replySendLabel.textContent = t(mode === 'note' ? (savingNote ? 'note.saving' : 'note.send') : 'reply.send');
  if (savingNote && mode === 'note') ui.replySend.setAttribute('aria-busy', 'true');
  else ui.replySend.removeAttribute('aria-busy');
  if (!writable) closeCannedPopup();
}

function renderTyping() {
  const conversation = store.conversations.get(store.openId);
  const typing = conversation?.typing;
  ui.typing.hidden = !typing;
  ui.typingText.textContent = typing ? t('thread.typing', { name: typing.name || t('visitor.short', { id: shortId(typing.id) }) }) : '';
}

let threadNoticeTimer = null;
let threadNoticeSticky = false;
function showThreadNotice(text, kind = 'warn', sticky = false) {
  clearTimeout(threadNoticeTimer);
  threadNoticeSticky = sticky;
  ui.threadNotice.textContent = text;
  ui.threadNotice.dataset.kind = kind;
  ui.threadNotice.hidden = false;
  if (!sticky) threadNoticeTimer = setTimeout(clearThreadNotice, 8_000);
}

function clearThreadNotice() {
  clearTimeout(threadNoticeTimer);
  threadNoticeSticky = false;
  ui.threadNotice.hidden = true;
  ui.threadNotice.textContent = '';
}

// ---------------------------------------------------------------------------------------------
// Replying, typing, closing
// ---------------------------------------------------------------------------------------------

function transmit(message) {
  const conversation = store.conversations.get(message.conversationId);
  if (!socketReady() || !conversation || conversation.replaying) return; // sent after (re)connect
  // A retry keeps the first attempt's trace, so one message is one trace however often it is sent.
  message.traceparent ??= newTraceparent();
  send({ type: 'message', client_msg_id: message.clientMsgId, conversation_id: message.conversationId, text: message.text, traceparent: message.traceparent });
}

function resendPending(conversation) {
  for (const message of conversation.messages) {
    if (message.own && message.state === 'sending') transmit(message);
  }
}

function submitReply() {
  const conversation = store.conversations.get(store.openId);
  if (!conversation || !isWritable(conversation)) return;
  const text = ui.replyInput.value;
  if (!text.trim()) {
    showThreadNotice(t('notice.empty'));
    ui.replyInput.focus();
    return;
  }
  const bytes = utf8Length(text);
  if (bytes > MAX_TEXT_BYTES) {
    showThreadNotice(t('notice.tooLong', { bytes, max: MAX_TEXT_BYTES }));
    ui.replyInput.focus();
    return;
  }
  if (!threadNoticeSticky) clearThreadNotice();
  const message = {
    conversationId: conversation.id,
    seq: null,
    clientMsgId: uuid(),
    sender: { kind: 'agent', id: store.agent?.id ?? '', name: store.agent?.name ?? '' },
    text,
    createdAt: new Date(),
    state: 'sending',
    own: true,
    order: localOrder++,
  };
  byClientId.set(message.clientMsgId, message);
  buildMessage(message);
  insertMessage(conversation, message);
  conversation.lastActivity = Date.now();
  conversation.draft = '';
  ui.replyInput.value = '';
  autosize();
  resetTyping();
  transmit(message);
  renderConversationList();
  ui.replyInput.focus();
}

function retrySend(message) {
  if (message.state !== 'failed') return;
  message.state = 'sending'; // same client_msg_id: the server deduplicates
  renderMessage(message);
  clearThreadNotice();
  transmit(message);
}

// `typing: true` at most every 2 s while typing; `false` after 3 s idle, on send or on switch.
let typingConversation = null;
let typingSentAt = 0;
let typingIdleTimer = null;

function onReplyInput() {
  autosize();
  updateCannedPopup();
  const conversation = store.conversations.get(store.openId);
  if (!ui.replyInput.value || conversation?.mode === 'note') {
    // Writing an internal note is nothing the visitor should see, not even as "typing".
    resetTyping();
    return;
  }
  if (!conversation || !isWritable(conversation) || !socketReady()) return;
  const now = Date.now();
  if (typingConversation !== conversation.id || now - typingSentAt >= TYPING_THROTTLE_MS) {
    if (typingConversation && typingConversation !== conversation.id) resetTyping();
    if (send({ type: 'typing', conversation_id: conversation.id, state: true })) {
      typingConversation = conversation.id;
      typingSentAt = now;
    }
  }
  clearTimeout(typingIdleTimer);
  typingIdleTimer = setTimeout(resetTyping, TYPING_IDLE_MS);
}

function resetTyping() {
  clearTimeout(typingIdleTimer);
  typingIdleTimer = null;
  if (typingConversation && socketReady()) send({ type: 'typing', conversation_id: typingConversation, state: false });
  typingConversation = null;
}

/** Close asks first: with a rating request for the visitor, or without. */
function showCloseConfirm() {
  const conversation = store.conversations.get(store.openId);
  if (!conversation || !isWritable(conversation)) return;
  ui.closeConfirm.hidden = false;
  ui.closeConversation.setAttribute('aria-expanded', 'true');
  ui.closeRate.focus();
}

function hideCloseConfirm(focusButton) {
  if (ui.closeConfirm.hidden) return;
  ui.closeConfirm.hidden = true;
  ui.closeConversation.setAttribute('aria-expanded', 'false');
  if (focusButton && !ui.closeConversation.disabled) ui.closeConversation.focus();
}

function closeOpenConversation(requestRating) {
  const conversation = store.conversations.get(store.openId);
  hideCloseConfirm(false);
  if (!conversation || !isWritable(conversation)) return;
  resetTyping();
  // The server confirms with a `conversation` frame (status closed), which updates the view.
  const frame = { type: 'close', conversation_id: conversation.id };
  if (requestRating) frame.request_rating = true;
  if (!send(frame)) showToast(t('error.unavailable'));
  ui.replyInput.focus();
}

function autosize() {
  ui.replyInput.style.height = 'auto';
  ui.replyInput.style.height = `${Math.min(ui.replyInput.scrollHeight + 2, 180)}px`;
}

// ---------------------------------------------------------------------------------------------
// REST calls of the console tools (directory, saved replies, tags)
// ---------------------------------------------------------------------------------------------

/**
 * Calls the API with the session's token. Answers { ok, status, body }, or { stale: true } when
 * the session changed meanwhile; a 401 ends the session. Throws when Switchboard is unreachable.
 */
async function callApi(method, path, body) {
  const token = store.token;
  if (!token) return { stale: true };
  const headers = bearer(token);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  const text = await response.text();
  if (store.token !== token) return { stale: true };
  let parsed = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = {};
  }
  if (response.status === 401) {
    endSession('login.expired');
    return { stale: true };
  }
  return { ok: response.ok, status: response.status, body: parsed ?? {} };
}

const managesWorkspace = () => store.role === 'admin' || store.role === 'supervisor';

/** Reads the caller's role (GET /v1/me): admins and supervisors also manage shared replies. */
async function loadRole() {
  try {
    const result = await callApi('GET', '/v1/me');
    if (result.stale || !result.ok) return;
    store.role = String(result.body.agent?.role || 'agent');
  } catch {
    return; // read again after the next welcome; until then only personal replies can be added
  }
  if (ui.canned.dialog.open) renderCannedDialog();
}

let directoryReadAt = 0;
/** Reads the directory again unless that was done recently (a department created meanwhile). */
function loadDirectoryOnce() {
  if (Date.now() - directoryReadAt < 30_000) return;
  loadDirectory();
}

/** Reads colleagues and departments (GET /v1/directory) for transfers and queue department names. */
async function loadDirectory() {
  directoryReadAt = Date.now();
  try {
    const result = await callApi('GET', '/v1/directory');
    if (result.stale) return;
    if (!result.ok) throw new Error(`directory: ${result.status}`);
    const valid = (item) => item && typeof item.id === 'string' && item.id;
    store.directory = {
      agents: (Array.isArray(result.body.agents) ? result.body.agents : []).filter(valid),
      departments: (Array.isArray(result.body.departments) ? result.body.departments : []).filter(valid),
      state: 'ok',
    };
  } catch {
    store.directory.state = 'error'; // what was read before stays shown
  }
  renderQueue();
  if (ui.transfer.dialog.open) renderTransferDialog();
}

// ---------------------------------------------------------------------------------------------
// Internal notes: shown among the messages by time, written with the composer in "note" mode
// ---------------------------------------------------------------------------------------------

const noteOfNode = new WeakMap(); // note element → note

function onNote(frame) {
  const conversation = store.conversations.get(frame.conversation_id);
  // Every resume sends all notes again: keep each once.
  if (!conversation || !frame.id || conversation.noteIds.has(String(frame.id))) return;
  const author = frame.author || { id: '', name: '' };
  const createdAt = frame.created_at ? new Date(frame.created_at) : new Date();
  const note = {
    id: String(frame.id),
    conversationId: conversation.id,
    author,
    text: String(frame.text ?? ''),
    createdAt,
    own: Boolean(author.id) && author.id === store.agent?.id,
  };
  buildNote(note);
  conversation.noteIds.add(note.id);
  const list = conversation.notes;
  let at = list.length;
  while (at > 0 && list[at - 1].createdAt > note.createdAt) at -= 1;
  list.splice(at, 0, note);
  if (conversation.id === store.openId) placeNote(conversation, note);
}

function buildNote(note) {
  const node = el('article', { class: 'note', 'data-testid': 'note', 'data-note-id': note.id });
  const meta = el('div', { class: 'note-meta' });
  const badge = el('span', { class: 'note-badge' });
  const author = el('span', { class: 'note-author' });
  const time = el('time', { class: 'message-time' });
  meta.append(badge, author, time);
  const text = el('div', { class: 'note-text', 'data-testid': 'note-text' }, note.text); // user text
  node.append(meta, text);
  note.el = node;
  note.parts = { badge, author, time };
  noteOfNode.set(node, note);
  renderNote(note);
}

function renderNote(note) {
  const { badge, author, time } = note.parts;
  badge.textContent = t('note.badge');
  author.textContent = note.own ? t('message.you') : note.author.name || '';
  time.textContent = formatTime(note.createdAt);
  if (!Number.isNaN(note.createdAt.getTime())) {
    time.dateTime = note.createdAt.toISOString();
    time.title = formatDateTime(note.createdAt);
  }
}

/** Whether a note is shown before a message: by time, and always before replies not yet sent. */
const noteBefore = (note, message) => message.seq == null || note.createdAt <= message.createdAt;

/** A conversation's messages and notes in the order they are shown. */
function timeline(conversation) {
  const nodes = [];
  const notes = conversation.notes;
  let next = 0;
  for (const message of conversation.messages) {
    while (next < notes.length && noteBefore(notes[next], message)) nodes.push(notes[next++].el);
    nodes.push(message.el);
  }
  while (next < notes.length) nodes.push(notes[next++].el);
  return nodes;
}

/** Puts a note of the open conversation in place. */
function placeNote(conversation, note) {
  const stick = nearBottom();
  const before = conversation.messages.find((message) => noteBefore(note, message));
  ui.threadMessages.insertBefore(note.el, before?.el ?? null);
  let previous = note.el.previousElementSibling;
  while (previous && noteOfNode.has(previous) && noteOfNode.get(previous).createdAt > note.createdAt) {
    ui.threadMessages.insertBefore(note.el, previous);
    previous = note.el.previousElementSibling;
  }
  if (stick) scrollToBottom();
}

/** After a message was put at its seq position, moves it past the notes it belongs after (or before). */
function settleAmongNotes(message) {
  const node = message.el;
  let previous = node.previousElementSibling;
  while (previous && noteOfNode.has(previous) && !noteBefore(noteOfNode.get(previous), message)) {
    ui.threadMessages.insertBefore(node, previous);
    previous = node.previousElementSibling;
  }
  let next = node.nextElementSibling;
  while (next && noteOfNode.has(next) && noteBefore(noteOfNode.get(next), message)) {
    next.after(node);
    next = node.nextElementSibling;
  }
}

function setComposeMode(mode) {
  const conversation = store.conversations.get(store.openId);
  if (!conversation) return;
  conversation.mode = mode === 'note' ? 'note' : 'reply';
  if (conversation.mode === 'note') resetTyping();
  renderComposerState();
}

function submitComposer() {
  const conversation = store.conversations.get(store.openId);
  if (conversation?.mode === 'note') submitNote();
  else submitReply();
}

function noteErrorText(code) {
  if (code === 'timeout' || code === 'disconnected') return t('note.error.unconfirmed');
  if (code === 'empty_message') return t('note.empty');
  if (['not_assigned', 'message_too_long', 'conversation_not_found', 'rate_limited'].includes(code)) return errorText(code);
  return t('note.error.failed');
}

/** Sends the composer's text as an internal note; it stays in the box until the server took it. */
async function submitNote() {
  const conversation = store.conversations.get(store.openId);
  if (!conversation || !isWritable(conversation) || store.noteInFlight) return;
  const text = ui.replyInput.value;
  if (!text.trim()) {
    showThreadNotice(t('note.empty'));
    ui.replyInput.focus();
    return;
  }
  const bytes = utf8Length(text.trim());
  if (bytes > MAX_TEXT_BYTES) {
    showThreadNotice(t('notice.tooLong', { bytes, max: MAX_TEXT_BYTES }));
    ui.replyInput.focus();
    return;
  }
  if (!threadNoticeSticky) clearThreadNotice();
  closeCannedPopup();
  store.noteInFlight = conversation.id;
  renderComposerState();
  const code = await request({ type: 'note', conversation_id: conversation.id, text });
  if (store.noteInFlight !== conversation.id) return; // signed out meanwhile
  store.noteInFlight = null;
  if (code == null) {
    // Shown when the server's `note` frame comes; here only the box is emptied.
    if (store.openId === conversation.id && ui.replyInput.value === text) {
      ui.replyInput.value = '';
      autosize();
    } else if (conversation.draft === text) {
      conversation.draft = '';
    }
  } else if (store.openId === conversation.id) {
    showThreadNotice(noteErrorText(code));
  } else {
    showToast(noteErrorText(code));
  }
  if (store.openId === conversation.id) renderComposerState();
}

// ---------------------------------------------------------------------------------------------
// Tags of the open conversation (PUT /v1/conversations/{id}/tags by the agent holding it)
// ---------------------------------------------------------------------------------------------

let tagsSaving = null; // conversation id while its tags are being saved
let tagErrorKey = null;
let renderedTags = '';

function renderTags(conversation) {
  const writable = isWritable(conversation);
  const tags = conversation.tags;
  ui.tagBar.hidden = !writable && tags.length === 0;
  ui.tagForm.hidden = !writable;
  const busy = tagsSaving === conversation.id;
  ui.tagBar.setAttribute('aria-busy', String(busy));
  ui.tagAdd.setAttribute('aria-disabled', String(busy));
  // Rebuilt only when something shown changed, so the focus stays put on every other render.
  const key = [conversation.id, writable, getLanguage(), ...tags].join('\u0000');
  if (key === renderedTags) return;
  renderedTags = key;
  const buttons = [...ui.tagList.querySelectorAll('button')];
  const focused = buttons.indexOf(document.activeElement);
  ui.tagList.replaceChildren(
    ...tags.map((tag) => {
      const li = el('li', { class: 'tag', 'data-testid': 'tag', 'data-tag': tag });
      li.append(el('span', { class: 'tag-text' }, tag));
      if (writable) {
        const label = t('tags.remove', { tag });
        const remove = el('button', { type: 'button', class: 'tag-remove', 'data-testid': 'tag-remove', 'aria-label': label, title: label }, '×');
        const id = conversation.id;
        remove.addEventListener('click', () => removeTag(store.conversations.get(id), tag));
        li.append(remove);
      }
      return li;
    }),
  );
  ui.tagList.hidden = tags.length === 0;
  if (focused !== -1) {
    // The removed tag's button is gone: the next one (or the box) takes the focus.
    const now = ui.tagList.querySelectorAll('button');
    (now[Math.min(focused, now.length - 1)] ?? ui.tagInput).focus();
  }
}

function showTagError(key) {
  tagErrorKey = key;
  ui.tagError.textContent = t(key);
  ui.tagError.hidden = false;
  ui.tagInput.setAttribute('aria-invalid', 'true');
}

function clearTagError() {
  tagErrorKey = null;
  ui.tagError.hidden = true;
  ui.tagError.textContent = '';
  ui.tagInput.removeAttribute('aria-invalid');
}

/** Saves the whole list; the server's (normalised, sorted) answer is what is shown. */
async function saveTags(conversation, tags) {
  tagsSaving = conversation.id;
  clearTagError();
  renderTags(conversation);
  try {
    const result = await callApi('PUT', `/v1/conversations/${encodeURIComponent(conversation.id)}/tags`, { tags });
    if (result.stale) return false;
    if (result.ok) {
      const saved = result.body.conversation?.tags;
      conversation.tags = Array.isArray(saved) ? saved.map(String) : tags;
      return true;
    }
    const key = { 400: 'tags.error.invalid', 403: 'error.not_assigned', 404: 'error.conversation_not_found', 429: 'error.rate_limited' }[result.status];
    if (conversation.id === store.openId) showTagError(key ?? 'tags.error.failed');
    return false;
  } catch {
    if (conversation.id === store.openId) showTagError('tags.error.failed');
    return false;
  } finally {
    tagsSaving = null;
    if (conversation.id === store.openId) renderTags(conversation);
  }
}

async function addTagFromInput() {
  const conversation = store.conversations.get(store.openId);
  if (!conversation || !isWritable(conversation) || tagsSaving) return;
  const typed = ui.tagInput.value;
  // What the server does too: trimmed, lower case, 1–32 characters, no control characters.
  const tag = typed.trim().toLowerCase();
  if (!tag) {
    ui.tagInput.focus();
    return;
  }
  if ([...tag].length > MAX_TAG_CHARS || /[\u0000-\u001f\u007f-\u009f]/.test(tag)) {
    showTagError('tags.error.invalid');
    ui.tagInput.focus();
    return;
  }
  if (conversation.tags.includes(tag)) {
    ui.tagInput.value = '';
    return;
  }
  if (conversation.tags.length >= MAX_TAGS) {
    showTagError('tags.error.tooMany');
    ui.tagInput.focus();
    return;
  }
  const saved = await saveTags(conversation, [...conversation.tags, tag]);
  if (saved && ui.tagInput.value === typed) ui.tagInput.value = '';
}

function removeTag(conversation, tag) {
  if (!conversation || !isWritable(conversation) || tagsSaving) return;
  saveTags(
    conversation,
    conversation.tags.filter((candidate) => candidate !== tag),
  );
}

// ---------------------------------------------------------------------------------------------
// Saved replies: "/shortcut" in the reply box, and the manager dialog
// ---------------------------------------------------------------------------------------------

let cannedState = 'idle'; // idle | ok | error
let cannedLoadedAt = 0;
let cannedLoading = false;
// Replies shared (or changed in another tab) meanwhile show up once the list is this old.
const CANNED_MAX_AGE_MS = 60_000;
const suggestions = { open: false, token: null, options: [], active: 0, dismissed: null };

function byShortcut(a, b) {
  return a.shortcut.localeCompare(b.shortcut) || (a.scope === 'personal' ? -1 : 1) - (b.scope === 'personal' ? -1 : 1);
}

/** Reads the caller's replies and the workspace's (GET /v1/canned-replies). */
async function loadCanned() {
  cannedLoading = true;
  try {
    const result = await callApi('GET', '/v1/canned-replies');
    if (result.stale) return;
    if (!result.ok) throw new Error(`canned replies: ${result.status}`);
    store.canned = (Array.isArray(result.body.replies) ? result.body.replies : [])
      .filter((reply) => reply && typeof reply.id === 'string' && typeof reply.shortcut === 'string' && typeof reply.text === 'string')
      .map((reply) => ({ id: reply.id, shortcut: reply.shortcut, text: reply.text, scope: reply.scope === 'workspace' ? 'workspace' : 'personal' }))
      .sort(byShortcut);
    cannedState = 'ok';
    cannedLoadedAt = Date.now();
  } catch {
    cannedState = 'error';
  } finally {
    cannedLoading = false;
  }
  if (ui.canned.dialog.open) renderCannedDialog();
  if (suggestions.open) updateCannedPopup();
}

/** The "/query" right before the caret (at the start or after a space), or null. */
function cannedToken() {
  const input = ui.replyInput;
  if (input.selectionStart !== input.selectionEnd) return null;
  const before = input.value.slice(0, input.selectionStart);
  const match = /(?:^|\s)\/([a-z0-9_-]{0,32})$/i.exec(before);
  if (!match) return null;
  return { start: before.length - match[1].length - 1, end: before.length, query: match[1].toLowerCase() };
}

function cannedMatches(query) {
  const starts = store.canned.filter((reply) => reply.shortcut.startsWith(query));
  const contains = query ? store.canned.filter((reply) => !reply.shortcut.startsWith(query) && reply.shortcut.includes(query)) : [];
  return [...starts, ...contains].slice(0, CANNED_SUGGESTIONS);
}

/** Opens, updates or closes the suggestions for what is under the caret. */
function updateCannedPopup() {
  const conversation = store.conversations.get(store.openId);
  const usable = conversation && isWritable(conversation) && document.activeElement === ui.replyInput;
  const token = usable ? cannedToken() : null;
  const key = token ? `${token.start}:${token.query}` : null;
  if (key !== suggestions.dismissed) suggestions.dismissed = null;
  if (token && !cannedLoading && Date.now() - cannedLoadedAt > CANNED_MAX_AGE_MS) loadCanned(); // shows when it arrives
  const options = token && !suggestions.dismissed ? cannedMatches(token.query) : [];
  if (!options.length) {
    closeCannedPopup();
    return;
  }
  const activeId = suggestions.open ? suggestions.options[suggestions.active]?.id : null;
  suggestions.open = true;
  suggestions.token = token;
  suggestions.options = options;
  suggestions.active = Math.max(0, options.findIndex((reply) => reply.id === activeId));
  renderCannedPopup();
}

function renderCannedPopup() {
  const items = suggestions.options.map((reply, index) => {
    const li = el('li', {
      class: 'canned-option',
      role: 'option',
      id: `canned-option-${index}`,
      'data-testid': 'canned-option',
      'data-shortcut': reply.shortcut,
      'aria-selected': String(index === suggestions.active),
    });
    const head = el('span', { class: 'canned-option-head' });
    head.append(el('span', { class: 'canned-shortcut' }, `/${reply.shortcut}`));
    if (reply.scope === 'workspace') head.append(el('span', { class: 'canned-scope' }, t('canned.sharedBadge')));
    li.append(head, el('span', { class: 'canned-preview' }, reply.text));
    li.addEventListener('click', () => insertCanned(index));
    return li;
  });
  ui.cannedOptions.replaceChildren(...items);
  ui.cannedPopup.hidden = false;
  ui.replyInput.setAttribute('aria-activedescendant', `canned-option-${suggestions.active}`);
  const status = t(items.length === 1 ? 'canned.matches.one' : 'canned.matches', { count: items.length });
  if (ui.cannedStatus.textContent !== status) ui.cannedStatus.textContent = status;
  items[suggestions.active]?.scrollIntoView({ block: 'nearest' });
}

function closeCannedPopup() {
  suggestions.open = false;
  suggestions.token = null;
  suggestions.options = [];
  if (ui.cannedPopup.hidden) return;
  ui.cannedPopup.hidden = true;
  ui.cannedOptions.replaceChildren();
  ui.replyInput.removeAttribute('aria-activedescendant');
  ui.cannedStatus.textContent = '';
}

function moveCanned(step) {
  const count = suggestions.options.length;
  suggestions.active = (suggestions.active + step + count) % count;
  const items = ui.cannedOptions.children;
  for (let index = 0; index < items.length; index += 1) items[index].setAttribute('aria-selected', String(index === suggestions.active));
  ui.replyInput.setAttribute('aria-activedescendant', `canned-option-${suggestions.active}`);
  items[suggestions.active]?.scrollIntoView({ block: 'nearest' });
}

/** Replaces the "/query" with the reply's text; the agent can still edit it before sending. */
function insertCanned(index) {
  const reply = suggestions.options[index];
  const token = suggestions.token;
  if (!reply || !token) return;
  ui.replyInput.setRangeText(reply.text, token.start, token.end, 'end');
  closeCannedPopup();
  ui.replyInput.focus();
  onReplyInput();
}

/** Keys for the open suggestions; true when the key was theirs. */
function cannedKeydown(event) {
  if (!suggestions.open || event.isComposing || event.keyCode === 229) return false;
  if (event.key === 'ArrowDown') moveCanned(1);
  else if (event.key === 'ArrowUp') moveCanned(-1);
  else if (event.key === 'Enter' && !event.shiftKey) insertCanned(suggestions.active);
  else if (event.key === 'Escape') {
    // Closed until the "/query" changes.
    suggestions.dismissed = `${suggestions.token.start}:${suggestions.token.query}`;
    closeCannedPopup();
  } else return false;
  event.preventDefault();
  return true;
}

// The manager: my replies, the workspace's (changed by admins and supervisors), one form for
// adding and editing, deleting after a confirmation in the row.

const cannedForm = { editingId: null, confirmId: null, busy: false, error: null, field: null, ok: null };

const cannedEditable = (reply) => reply.scope === 'personal' || managesWorkspace();

function openCannedDialog() {
  resetCannedForm();
  cannedForm.ok = null;
  renderCannedDialog();
  if (!ui.canned.dialog.open) ui.canned.dialog.showModal();
  ui.canned.shortcut.focus();
  loadCanned();
  if (!store.role) loadRole();
}

function resetCannedForm() {
  cannedForm.editingId = null;
  cannedForm.confirmId = null;
  setCannedError(null);
  ui.canned.shortcut.value = '';
  ui.canned.text.value = '';
  ui.canned.scope.value = 'personal';
}

function setCannedError(key, field) {
  cannedForm.error = key;
  ui.canned.error.textContent = key ? t(key) : '';
  ui.canned.error.hidden = !key;
  for (const input of [ui.canned.shortcut, ui.canned.text]) input.removeAttribute('aria-invalid');
  const input = field === 'shortcut' ? ui.canned.shortcut : field === 'text' ? ui.canned.text : null;
  if (key) cannedForm.ok = null;
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}

function renderCannedDialog() {
  const focusedRow = document.activeElement?.closest?.('[data-reply-id]');
  const focus = focusedRow ? { id: focusedRow.dataset.replyId, action: document.activeElement.dataset.action } : null;
  const mine = store.canned.filter((reply) => reply.scope === 'personal');
  const shared = store.canned.filter((reply) => reply.scope === 'workspace');
  renderCannedList(ui.canned.mine, mine, 'canned.emptyMine');
  renderCannedList(ui.canned.shared, shared, 'canned.emptyShared');
  const loading = cannedState === 'error' ? t('canned.unavailable') : cannedState === 'idle' ? t('canned.loading') : '';
  ui.canned.loading.textContent = loading;
  ui.canned.loading.hidden = !loading;
  const editing = store.canned.find((reply) => reply.id === cannedForm.editingId);
  ui.canned.formTitle.textContent = editing ? t('canned.editTitle', { shortcut: editing.shortcut }) : t('canned.newTitle');
  ui.canned.scopeField.hidden = Boolean(editing) || !managesWorkspace();
  ui.canned.cancelEdit.hidden = !editing;
  ui.canned.save.textContent = t(cannedForm.busy ? 'canned.saving' : editing ? 'canned.saveEdit' : 'canned.add');
  ui.canned.save.disabled = cannedForm.busy;
  ui.canned.error.textContent = cannedForm.error ? t(cannedForm.error) : '';
  ui.canned.ok.textContent = cannedForm.ok ? cannedForm.ok() : '';
  ui.canned.ok.hidden = !cannedForm.ok;
  if (focus) {
    const target =
      ui.canned.dialog.querySelector(`[data-reply-id="${CSS.escape(focus.id)}"] [data-action="${CSS.escape(focus.action || '')}"]`) ??
      ui.canned.dialog.querySelector(`[data-reply-id="${CSS.escape(focus.id)}"] button`);
    (target ?? ui.canned.shortcut).focus();
  }
}

function renderCannedList(list, replies, emptyKey) {
  if (!replies.length) {
    list.replaceChildren(el('li', { class: 'canned-empty' }, cannedState === 'ok' ? t(emptyKey) : ''));
    return;
  }
  list.replaceChildren(
    ...replies.map((reply) => {
      const li = el('li', { class: 'canned-item', 'data-testid': 'canned-item', 'data-shortcut': reply.shortcut, 'data-scope': reply.scope, 'data-reply-id': reply.id });
      const main = el('div', { class: 'canned-item-main' });
      main.append(el('span', { class: 'canned-shortcut' }, `/${reply.shortcut}`), el('span', { class: 'canned-item-text' }, reply.text));
      const actions = el('div', { class: 'canned-item-actions' });
      const button = (action, key, className, label) => {
        const node = el('button', { type: 'button', class: `btn btn-small ${className}`, 'data-action': action, 'data-testid': `canned-${action}` }, t(key));
        if (label) node.setAttribute('aria-label', label);
        node.addEventListener('click', () => cannedAction(action, reply));
        return node;
      };
      if (cannedForm.confirmId === reply.id) {
        li.classList.add('is-confirming');
        actions.append(
          el('span', { class: 'canned-confirm' }, t('canned.confirmDelete', { shortcut: reply.shortcut })),
          button('confirm-delete', 'canned.delete', 'btn-danger'),
          button('keep', 'canned.keep', 'btn-ghost'),
        );
      } else if (cannedEditable(reply)) {
        actions.append(
          button('edit', 'canned.edit', 'btn-outline', t('canned.editLabel', { shortcut: reply.shortcut })),
          button('delete', 'canned.delete', 'btn-ghost', t('canned.deleteLabel', { shortcut: reply.shortcut })),
        );
      }
      li.append(main, actions);
      return li;
    }),
  );
}

async function cannedAction(action, reply) {
  if (cannedForm.busy) return;
  if (action === 'edit') {
    resetCannedForm();
    cannedForm.editingId = reply.id;
    cannedForm.ok = null;
    ui.canned.shortcut.value = reply.shortcut;
    ui.canned.text.value = reply.text;
    renderCannedDialog();
    ui.canned.text.focus();
  } else if (action === 'delete') {
    cannedForm.confirmId = reply.id;
    renderCannedDialog();
    ui.canned.dialog.querySelector(`[data-reply-id="${CSS.escape(reply.id)}"] [data-action="confirm-delete"]`)?.focus();
  } else if (action === 'keep') {
    cannedForm.confirmId = null;
    renderCannedDialog();
    ui.canned.dialog.querySelector(`[data-reply-id="${CSS.escape(reply.id)}"] [data-action="delete"]`)?.focus();
  } else if (action === 'confirm-delete') {
    cannedForm.busy = true;
    setCannedError(null);
    renderCannedDialog();
    try {
      const result = await callApi('DELETE', `/v1/canned-replies/${encodeURIComponent(reply.id)}`);
      if (result.stale) return;
      if (result.ok || result.status === 404) {
        if (cannedForm.editingId === reply.id) resetCannedForm();
        cannedForm.confirmId = null;
        cannedForm.ok = () => t('canned.deleted', { shortcut: reply.shortcut });
        await loadCanned();
      } else {
        setCannedError(result.status === 403 ? 'canned.error.forbidden' : 'error.generic');
      }
    } catch {
      setCannedError('canned.error.network');
    } finally {
      cannedForm.busy = false;
    }
    renderCannedDialog();
    if (!store.canned.some((candidate) => candidate.id === reply.id)) ui.canned.shortcut.focus();
  }
}

/** Reads a refused save: the server names the field first ("shortcut: …"). */
function cannedFailure(result) {
  const message = String(result.body.error?.message || '');
  if (result.status === 400 && message.startsWith('shortcut:')) {
    return [/exists/.test(message) ? 'canned.error.taken' : 'canned.error.shortcut', 'shortcut'];
  }
  if (result.status === 400 && message.startsWith('text:')) return ['canned.error.text', 'text'];
  if (result.status === 403) return ['canned.error.forbidden', null];
  if (result.status === 404) return ['canned.error.gone', null];
  if (result.status === 429) return ['error.rate_limited', null];
  return ['error.generic', null];
}

async function saveCanned() {
  if (cannedForm.busy) return;
  const shortcut = ui.canned.shortcut.value.trim().replace(/^\/+/, '').toLowerCase();
  const text = ui.canned.text.value.trim();
  if (!CANNED_SHORTCUT.test(shortcut)) return setCannedError('canned.error.shortcut', 'shortcut');
  if (!text) return setCannedError('canned.error.textMissing', 'text');
  if (utf8Length(text) > MAX_CANNED_BYTES) return setCannedError('canned.error.text', 'text');
  const editing = store.canned.find((reply) => reply.id === cannedForm.editingId);
  cannedForm.busy = true;
  setCannedError(null);
  renderCannedDialog();
  try {
    const result = editing
      ? await callApi('PATCH', `/v1/canned-replies/${encodeURIComponent(editing.id)}`, { shortcut, text })
      : await callApi('POST', '/v1/canned-replies', { shortcut, text, scope: managesWorkspace() ? ui.canned.scope.value : 'personal' });
    if (result.stale) return;
    if (result.ok) {
      const saved = result.body.reply?.shortcut ?? shortcut;
      resetCannedForm();
      cannedForm.ok = () => t('canned.saved', { shortcut: saved });
      await loadCanned();
      ui.canned.shortcut.focus();
    } else {
      const [key, field] = cannedFailure(result);
      if (result.status === 404) {
        resetCannedForm(); // edited meanwhile elsewhere: it is gone
        loadCanned();
      }
      setCannedError(key, field);
    }
  } catch {
    setCannedError('canned.error.network');
  } finally {
    cannedForm.busy = false;
    renderCannedDialog();
  }
}

// ---------------------------------------------------------------------------------------------
// Transfer to a colleague or a department
// ---------------------------------------------------------------------------------------------

let transferFor = null; // the conversation the dialog hands over
let transferBusy = false;
let transferError = null; // () => text
let directoryTimer = null;
const targetRows = new Map(); // 'agent:id' | 'department:id' → { label, input, mark, name, detail }

function openTransferDialog() {
  const conversation = store.conversations.get(store.openId);
  if (!conversation || !isWritable(conversation) || !socketReady()) return;
  transferFor = conversation.id;
  ui.transfer.note.value = '';
  setTransferError(null);
  for (const row of targetRows.values()) row.input.checked = false;
  renderTransferDialog();
  if (!ui.transfer.dialog.open) ui.transfer.dialog.showModal();
  focusFirstTarget();
  refreshDirectory();
}

function focusFirstTarget() {
  const radios = [...ui.transfer.form.querySelectorAll('input[name="transfer-target"]')];
  (radios.find((radio) => radio.checked) ?? radios.find((radio) => !radio.disabled) ?? ui.transfer.note).focus();
}

/** Reads the directory now and then every few seconds while the dialog is open. */
async function refreshDirectory() {
  clearTimeout(directoryTimer);
  const first = store.directory.state !== 'ok';
  await loadDirectory();
  if (!ui.transfer.dialog.open) return;
  // The dialog opened before anything was known: now there is something to choose.
  if (first && [ui.transfer.close, ui.transfer.note, ui.transfer.dialog].includes(document.activeElement) && !ui.transfer.note.value) {
    focusFirstTarget();
  }
  directoryTimer = setTimeout(refreshDirectory, DIRECTORY_REFRESH_MS);
}

function setTransferError(text) {
  transferError = text;
  ui.transfer.error.textContent = text ? text() : '';
  ui.transfer.error.hidden = !text;
}

const STATUS_ORDER = { online: 0, away: 1, offline: 2 };

function renderTransferDialog() {
  const conversation = store.conversations.get(transferFor);
  ui.transfer.subtitle.textContent = conversation ? t('transfer.subtitle', { name: conversationTitle(conversation) }) : '';
  const { agents, departments, state } = store.directory;
  const loading = state === 'error' ? t('transfer.unavailable') : state === 'idle' ? t('transfer.loading') : '';
  ui.transfer.loading.textContent = loading;
  ui.transfer.loading.hidden = !loading;
  const colleagues = agents
    .filter((agent) => agent.id !== store.agent?.id) // the server refuses a transfer to oneself
    .sort((a, b) => (STATUS_ORDER[a.status] ?? 3) - (STATUS_ORDER[b.status] ?? 3) || String(a.name).localeCompare(String(b.name)));
  renderTargets(
    ui.transfer.agents,
    colleagues.map((agent) => {
      const status = STATUS_ORDER[agent.status] != null ? agent.status : 'offline';
      const load = Number(agent.load) || 0;
      const max = Number(agent.max_concurrent) || 0;
      const full = max > 0 && load >= max;
      const details = [t(`status.${status}`), t(full ? 'transfer.full' : 'transfer.load', { load, max })];
      return {
        key: `agent:${agent.id}`,
        kind: 'agent',
        id: agent.id,
        name: String(agent.name || ''),
        detail: details.join(' · '),
        status,
        // Offline agents and full ones would be refused (not_available, at_capacity).
        disabled: status === 'offline' || full,
      };
    }),
  );
  ui.transfer.agentsEmpty.textContent = state === 'ok' && !colleagues.length ? t('transfer.noAgents') : '';
  ui.transfer.agentsEmpty.hidden = !ui.transfer.agentsEmpty.textContent;
  renderTargets(
    ui.transfer.departments,
    departments.map((department) => ({
      key: `department:${department.id}`,
      kind: 'department',
      id: department.id,
      name: String(department.name || ''),
      detail: '',
      disabled: false,
    })),
  );
  ui.transfer.departmentsHint.textContent = state === 'ok' && !departments.length ? t('transfer.noDepartments') : t('transfer.departmentsHint');
  ui.transfer.submit.textContent = t(transferBusy ? 'transfer.submitting' : 'transfer.submit');
  ui.transfer.submit.disabled = transferBusy;
  if (transferError) ui.transfer.error.textContent = transferError();
}

/** Radio rows kept per target and updated in place (the list is read again every few seconds). */
function renderTargets(container, targets) {
  const nodes = targets.map((target) => {
    let row = targetRows.get(target.key);
    if (!row) {
      const label = el('label', { class: 'target', 'data-testid': 'transfer-target', 'data-kind': target.kind, 'data-target-id': target.id });
      const input = el('input', { type: 'radio', name: 'transfer-target', value: target.key });
      const mark = el('span', { class: target.kind === 'agent' ? 'avatar avatar-sm' : 'department-mark', 'aria-hidden': 'true' });
      mark.style.background = avatarColour(target.id);
      const body = el('span', { class: 'target-body' });
      const name = el('span', { class: 'target-name' });
      const detail = el('span', { class: 'target-detail' });
      body.append(name, detail);
      label.append(input, mark, body);
      input.addEventListener('change', () => setTransferError(null));
      row = { label, input, mark, name, detail };
      targetRows.set(target.key, row);
    }
    row.name.textContent = target.name;
    row.detail.textContent = target.detail;
    row.detail.hidden = !target.detail;
    row.mark.textContent = target.kind === 'agent' ? initials(target.name) : [...target.name.trim()][0]?.toUpperCase() ?? '#';
    row.label.dataset.status = target.status ?? '';
    row.label.classList.toggle('is-disabled', target.disabled);
    if (target.disabled && row.input.checked) row.input.checked = false;
    row.input.disabled = target.disabled;
    return row.label;
  });
  const keys = new Set(targets.map((target) => target.key));
  for (const [key, row] of [...targetRows]) if (row.label.parentNode === container && !keys.has(key)) targetRows.delete(key);
  // A colleague's new status can reorder the rows; a moved radio would lose the keyboard focus.
  const focused = container.contains(document.activeElement) ? document.activeElement : null;
  syncChildren(container, nodes);
  if (focused?.isConnected && document.activeElement !== focused && !focused.disabled) focused.focus();
}

function transferErrorText(code, name) {
  const key = `transfer.error.${code}`;
  const text = t(key, { name });
  if (text !== key) return text;
  if (code === 'not_assigned' || code === 'conversation_not_found') return errorText(code);
  return t('transfer.error.failed');
}

async function submitTransfer() {
  if (transferBusy) return;
  const conversation = store.conversations.get(transferFor);
  if (!conversation || !isWritable(conversation)) {
    setTransferError(() => t('error.not_assigned'));
    return;
  }
  const checked = ui.transfer.form.querySelector('input[name="transfer-target"]:checked');
  if (!checked) {
    setTransferError(() => t('transfer.error.choose'));
    focusFirstTarget();
    return;
  }
  const [kind, ...rest] = checked.value.split(':');
  const id = rest.join(':');
  const known = kind === 'agent' ? store.directory.agents : store.directory.departments;
  const name = String(known.find((target) => target.id === id)?.name || '');
  const note = ui.transfer.note.value.trim();
  const bytes = utf8Length(note);
  if (bytes > MAX_TEXT_BYTES) {
    setTransferError(() => t('notice.tooLong', { bytes, max: MAX_TEXT_BYTES }));
    ui.transfer.note.focus();
    return;
  }
  const frame = { type: 'transfer', conversation_id: conversation.id };
  frame[kind === 'agent' ? 'to_agent_id' : 'to_department_id'] = id;
  if (note) frame.note = note;
  transferBusy = true;
  setTransferError(null);
  renderTransferDialog();
  const code = await request(frame);
  transferBusy = false;
  if (code == null) {
    finishTransfer(conversation, kind, name);
    return;
  }
  const text = () => transferErrorText(code, name);
  if (ui.transfer.dialog.open && transferFor === conversation.id) {
    setTransferError(text);
    renderTransferDialog();
    refreshDirectory(); // the refusal likely means the list is out of date
  } else {
    showToast(text());
  }
}

/** The conversation is someone else's now: it leaves this console. */
function finishTransfer(conversation, kind, name) {
  if (ui.transfer.dialog.open) ui.transfer.dialog.close();
  forgetConversation(conversation);
  showToast(t(kind === 'agent' ? 'transfer.done.agent' : 'transfer.done.department', { name }));
  // The button that opened the dialog went with the conversation.
  (ui.conversations.querySelector('button') ?? ui.status).focus();
}

function forgetConversation(conversation) {
  if (typingConversation === conversation.id) resetTyping();
  if (conversation.typing) clearTimeout(conversation.typing.timer);
  for (const message of conversation.messages) if (message.clientMsgId) byClientId.delete(message.clientMsgId);
  store.conversations.delete(conversation.id);
  if (store.openId === conversation.id) {
    store.openId = null;
    ui.threadMessages.replaceChildren();
    ui.replyInput.value = '';
    closeCannedPopup();
    clearThreadNotice();
    const next = sortedConversations().find(isMine);
    if (next) openConversation(next.id, { focus: false });
  }
  renderConversationList();
  renderThread();
  updateTitle();
}


// ---------------------------------------------------------------------------------------------
// Visitor card: who the visitor of the open conversation is, and their past conversations
// ---------------------------------------------------------------------------------------------

// Read again on opening a conversation when older than this (statuses of past chats change).
const CARD_MAX_AGE_MS = 30_000;
/** visitor id → { state: loading | ok | missing | error, visitor, conversations, at } */
const visitorCards = new Map();
let cardPastOpen = true; // the past-conversations list, shown or folded (one choice for all cards)
let renderedCard = ''; // what the past list shows, so renders without a change keep focus

/**
 * Reads the visitor of `conversation` (GET /v1/visitors/{id}) unless it is cached; `force` reads
 * again anyway. On opening a conversation a card is also read again when it is older than
 * CARD_MAX_AGE_MS or does not know this conversation yet (the visitor's new chat).
 */
async function loadVisitorCard(conversation, force) {
  const visitorId = conversation.visitorId;
  if (!visitorId) return;
  const cached = visitorCards.get(visitorId);
  if (cached?.state === 'loading') return;
  if (cached && !force) {
    const fresh = Date.now() - cached.at < CARD_MAX_AGE_MS;
    const knows = cached.state !== 'ok' || cached.conversations.some((entry) => entry.id === conversation.id);
    if (fresh && knows && cached.state !== 'error') return; // a failed read is tried again at once
  }
  // While reading again, the old card stays up.
  visitorCards.set(visitorId, cached ? { ...cached, state: cached.state === 'ok' ? 'ok' : 'loading', reloading: true } : { state: 'loading', at: 0 });
  if (!cached) renderOpenCard(visitorId);
  let next;
  try {
    const result = await callApi('GET', `/v1/visitors/${encodeURIComponent(visitorId)}`);
    if (result.stale) return;
    if (result.ok && result.body.visitor) {
      next = {
        state: 'ok',
        visitor: result.body.visitor,
        conversations: Array.isArray(result.body.conversations) ? result.body.conversations : [],
        at: Date.now(),
      };
    } else if (result.status === 404 || result.status === 400) {
      next = { state: 'missing', at: Date.now() };
    } else {
      next = { state: 'error', at: Date.now() };
    }
  } catch {
    next = { state: 'error', at: Date.now() };
  }
  // A failed re-read keeps the card it had.
  const previous = visitorCards.get(visitorId);
  if (next.state === 'error' && previous?.visitor) next = { ...previous, state: 'ok', reloading: false, at: Date.now() };
  if (!store.token) return;
  visitorCards.set(visitorId, next);
  renderOpenCard(visitorId);
}

function renderOpenCard(visitorId) {
  const conversation = store.conversations.get(store.openId);
  if (conversation && conversation.visitorId === visitorId) renderVisitorCard(conversation);
}

/** Only http(s) addresses become links; anything else the visitor's page sent stays text. */
function safeHttpUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

function messageCount(count) {
  if (!count) return t('card.messages.none');
  return count === 1 ? t('card.messages.one') : t('card.messages', { count });
}

function renderVisitorCard(conversation) {
  const card = ui.card;
  const visitorId = conversation.visitorId;
  card.root.hidden = !visitorId;
  if (!visitorId) return;
  const entry = visitorCards.get(visitorId);
  if (!entry) {
    loadVisitorCard(conversation, false); // the visitor id came after the conversation opened
    return;
  }
  card.root.dataset.state = entry.state;
  card.root.dataset.visitorId = visitorId;
  const visitor = entry.state === 'ok' ? entry.visitor : null;
  const verified = visitor?.verified === true;

  card.name.textContent = (visitor && typeof visitor.name === 'string' && visitor.name.trim()) || t('card.anonymous');
  card.name.title = visitorId;
  card.badge.hidden = !visitor;
  card.badge.dataset.verified = String(verified);
  card.badgeText.textContent = t(verified ? 'card.verified' : 'card.notVerified');
  card.badge.title = t(verified ? 'card.verifiedHint' : 'card.notVerifiedHint');
  const externalId = verified && typeof visitor.external_id === 'string' ? visitor.external_id : '';
  card.customer.hidden = !externalId;
  card.customerId.textContent = externalId;

  const email = visitor && typeof visitor.email === 'string' ? visitor.email : '';
  card.emailRow.hidden = !email;
  card.emailRow.title = t('card.email');
  card.email.textContent = email;
  if (email) card.email.href = `mailto:${encodeURIComponent(email).replace(/%40/g, '@')}`;
  else card.email.removeAttribute('href');

  const page = visitor && typeof visitor.page_url === 'string' ? visitor.page_url : '';
  const pageUrl = page ? safeHttpUrl(page) : null;
  card.pageRow.hidden = !page;
  card.pageRow.title = `${t('card.page')}: ${page}`;
  card.page.textContent = pageUrl ? `${pageUrl.host}${pageUrl.pathname === '/' ? '' : pageUrl.pathname}` : page;
  if (pageUrl) card.page.href = pageUrl.href;
  else card.page.removeAttribute('href');

  const notice = { loading: 'card.loading', missing: 'card.missing', error: 'card.failed' }[entry.state];
  card.notice.hidden = !notice;
  card.notice.textContent = notice ? t(notice) : '';
  card.notice.dataset.kind = entry.state;

  const past = visitor ? entry.conversations.filter((item) => item && item.id && item.id !== conversation.id) : [];
  card.history.hidden = !visitor;
  card.toggle.disabled = past.length === 0;
  card.toggle.setAttribute('aria-expanded', String(cardPastOpen && past.length > 0));
  // The server lists at most 50: one of them is the open conversation.
  const more = entry.conversations?.length >= 50 ? '+' : '';
  card.count.textContent = past.length ? t('card.pastCount', { count: `${past.length}${more}` }) : t('card.pastNone');
  card.count.dataset.count = String(past.length);
  card.past.hidden = !cardPastOpen || past.length === 0;
  renderPastConversations(past);
}

function renderPastConversations(past) {
  const rows = past.map((item) => {
    const live = store.conversations.get(item.id);
    const status = live ? statusOf(live) : String(item.status || 'closed');
    const count = Number(live ? Math.max(live.lastSeq, item.last_seq || 0) : item.last_seq) || 0;
    const when = live?.lastActivity ? new Date(live.lastActivity) : null;
    return { id: item.id, openable: Boolean(live), status, count, when };
  });
  const key = JSON.stringify([getLanguage(), rows.map((row) => [row.id, row.openable, row.status, row.count, row.when?.getTime() ?? 0])]);
  if (key === renderedCard) return;
  renderedCard = key;
  ui.card.past.replaceChildren(
    ...rows.map((row) => {
      const li = el('li', {
        class: 'visitor-past-entry',
        'data-testid': 'visitor-past-item',
        'data-conversation-id': row.id,
        'data-status': row.status,
        'data-openable': String(row.openable),
      });
      const item = row.openable
        ? el('button', { type: 'button', class: 'visitor-past-item', 'aria-label': t('card.open', { id: shortId(row.id) }) })
        : el('div', { class: 'visitor-past-item is-muted', title: t('card.notInList') });
      const pill = el('span', { class: 'pill pill-small', 'data-status': row.status }, t(`conv.${row.status}`));
      const title = el('span', { class: 'visitor-past-title' }, t('card.conversation', { id: shortId(row.id) }));
      const meta = el('span', { class: 'visitor-past-meta' }, messageCount(row.count));
      item.append(pill, title, meta);
      if (row.when) {
        const time = el('time', { class: 'visitor-past-time', datetime: row.when.toISOString() }, formatDateTime(row.when));
        item.append(time);
      }
      if (row.openable) item.addEventListener('click', () => openConversation(row.id, { focus: true }));
      li.append(item);
      return li;
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Account security (security.js, loaded the first time it is opened; shared with the dashboard)
// ---------------------------------------------------------------------------------------------

let security = null;
let securityLoading = null;

function openSecurity() {
  securityLoading ??= import('./security.js')
    .then((module) => {
      security = module.createSecurity({ token: () => store.token, onUnauthorized: () => endSession('login.expired') });
      return security;
    })
    .catch(() => {
      securityLoading = null; // the next click tries again
      showToast(t('security.moduleFailed'));
      return null;
    });
  securityLoading.then((instance) => {
    if (instance && store.token && !ui.app.hidden) instance.open(ui.securityOpen);
  });
}

// ---------------------------------------------------------------------------------------------
// Wiring
// ---------------------------------------------------------------------------------------------

ui.logout.addEventListener('click', logout);
ui.securityOpen.addEventListener('click', openSecurity);
ui.threadBack.addEventListener('click', () => ui.workspace.classList.remove('show-thread'));
ui.closeConversation.addEventListener('click', () => (ui.closeConfirm.hidden ? showCloseConfirm() : hideCloseConfirm(true)));
ui.closeConversation.setAttribute('aria-controls', 'close-confirm');
ui.closeConversation.setAttribute('aria-expanded', 'false');
ui.closeRate.addEventListener('click', () => closeOpenConversation(true));
ui.closePlain.addEventListener('click', () => closeOpenConversation(false));
ui.closeCancel.addEventListener('click', () => hideCloseConfirm(true));
ui.closeConfirm.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') {
    event.preventDefault();
    hideCloseConfirm(true);
  }
});
ui.replyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  submitComposer();
});
ui.replyInput.addEventListener('keydown', (event) => {
  if (cannedKeydown(event)) return; // the saved-reply list has the arrow keys, Enter and Escape
  // Enter sends, Shift+Enter adds a line; never while an IME is composing (pinyin input).
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
    event.preventDefault();
    submitComposer();
  }
});
ui.replyInput.addEventListener('input', onReplyInput);
// The caret moved without typing: the "/shortcut" under it may have changed.
ui.replyInput.addEventListener('click', updateCannedPopup);
ui.replyInput.addEventListener('keyup', (event) => {
  if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) updateCannedPopup();
});
ui.replyInput.addEventListener('blur', closeCannedPopup);
// Clicks in the list (an option, its scroll bar) leave the focus in the reply box.
ui.cannedPopup.addEventListener('mousedown', (event) => event.preventDefault());
for (const radio of [ui.modeReply, ui.modeNote]) {
  radio.addEventListener('change', () => {
    if (radio.checked) setComposeMode(radio.value);
  });
}
ui.tagForm.addEventListener('submit', (event) => {
  event.preventDefault();
  addTagFromInput();
});
ui.tagInput.addEventListener('input', clearTagError);
ui.card.toggle.addEventListener('click', () => {
  cardPastOpen = !cardPastOpen;
  const conversation = store.conversations.get(store.openId);
  if (conversation) renderVisitorCard(conversation);
});
ui.transferOpen.addEventListener('click', openTransferDialog);
ui.transfer.form.addEventListener('submit', (event) => {
  event.preventDefault();
  submitTransfer();
});
for (const button of [ui.transfer.close, ui.transfer.cancel]) button.addEventListener('click', () => ui.transfer.dialog.close());
ui.transfer.dialog.addEventListener('close', () => {
  clearTimeout(directoryTimer);
  directoryTimer = null;
  // Back to the button that opened it, unless that went with the transferred conversation.
  if (store.conversations.has(transferFor) && store.openId === transferFor && !ui.transferOpen.disabled) ui.transferOpen.focus();
});
ui.cannedOpen.addEventListener('click', openCannedDialog);
ui.cannedOpenEmpty.addEventListener('click', openCannedDialog);
ui.canned.form.addEventListener('submit', (event) => {
  event.preventDefault();
  saveCanned();
});
ui.canned.cancelEdit.addEventListener('click', () => {
  resetCannedForm();
  renderCannedDialog();
  ui.canned.shortcut.focus();
});
for (const button of [ui.canned.close, ui.canned.done]) button.addEventListener('click', () => ui.canned.dialog.close());
ui.canned.dialog.addEventListener('close', () => {
  cannedForm.confirmId = null;
  // Back to whichever button opened it (the one in the composer, or the one shown without a conversation).
  (ui.thread.hidden ? ui.cannedOpenEmpty : ui.cannedOpen).focus();
});
ui.status.addEventListener('change', () => {
  const wanted = ui.status.value;
  if (!send({ type: 'status', status: wanted })) {
    ui.status.value = store.status;
    showToast(t('error.unavailable'));
    return;
  }
  store.pendingStatus = wanted; // until the server's `status` answer
  renderAgent();
  renderQueue();
});

onLanguageChange(() => {
  applyTranslations(document);
  renderAgent();
  renderConnection();
  renderQueue();
  for (const conversation of store.conversations.values()) {
    for (const message of conversation.messages) renderMessage(message);
    for (const note of conversation.notes) renderNote(note);
  }
  for (const item of ui.announcements.children) item.paint?.();
  renderConversationList();
  renderThread();
  updateTitle();
  updateCannedPopup();
  if (tagErrorKey) ui.tagError.textContent = t(tagErrorKey);
  if (ui.transfer.dialog.open) renderTransferDialog();
  if (ui.canned.dialog.open) renderCannedDialog();
  renderLanguageButton();
  loginForm.retranslate();
  security?.retranslate();
});

// Queue waiting times tick even when the list does not change.
setInterval(() => {
  if (store.queue.length && !ui.app.hidden) renderQueue();
}, 15_000);

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

applyTranslations(document);
document.documentElement.lang = getLanguage();
if (store.token) {
  // Reloaded with a session: straight back to work; a refused token returns to sign-in.
  showApp();
  setConnection('connecting');
  connect();
} else {
  showLogin(null);
}
