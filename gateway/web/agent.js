// Switchboard agent console.
//
// One WebSocket (`/v1/agent/ws`, protocol v1 in docs/protocol.md) carries everything live; the
// waiting queue is polled over REST (every 3 s, and at once after a claim or an assignment). A
// waiting conversation is taken with `claim`; refusals come back as `error` frames that name no
// conversation, so the console keeps one claim in flight at a time and reads a claim code as its
// answer. Nothing is trusted to survive a disconnect: after every reconnect the console re-sends `resume` for each conversation it shows with the last seq it
// has shown, and re-sends unacknowledged replies with their original client_msg_id, so the
// server deduplicates them. Messages are keyed by (conversation_id, seq) and shown in seq order.
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
  threadMessages: $('thread-messages'),
  closeConversation: $('close-conversation'),
  typing: $('typing'),
  typingText: $('typing-text'),
  threadNotice: $('thread-notice'),
  replyForm: $('reply-form'),
  replyInput: $('reply-input'),
  replySend: $('reply-send'),
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
function send(frame) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  outbox.push(JSON.stringify(frame));
  pump();
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
  const refused = code === 1008 && (lastErrorCode === 'invalid_token' || lastErrorCode === 'auth_required' || /token/i.test(reason || ''));
  if (refused) {
    endSession('login.expired');
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
    case 'error':
      return onError(frame);
    default:
      return undefined; // pong, and frame types this console does not know
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
  } else {
    message = {
      conversationId: conversation.id,
      seq: frame.seq,
      clientMsgId: frame.client_msg_id || '',
      sender,
      text: String(frame.text ?? ''),
      createdAt,
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
  renderMessage(message);
  insertMessage(conversation, message);
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
  if (conversation.id === store.openId) renderThread();
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
  if (entry.department_id) details.push(t('queue.department', { id: shortId(entry.department_id) }));
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
  const unread = el('span', { class: 'unread', 'data-testid': 'unread' });
  bottom.append(preview, pill, unread);
  body.append(top, bottom);
  button.append(avatar, body);
  button.addEventListener('click', () => openConversation(conversation.id, { focus: true }));
  li.appendChild(button);
  conversation.item = { li, button, avatar, title, time, preview, pill, unread };
}

function renderConversationItem(conversation) {
  if (!conversation.item) buildConversationItem(conversation);
  const { button, avatar, title, time, preview, pill, unread } = conversation.item;
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
  parts.delivery.hidden = !message.own;
  parts.stateLabel.textContent = message.own ? t(`message.${message.state}`) : '';
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
  }
  const changed = store.openId !== id;
  store.openId = id;
  conversation.readSeq = Math.max(conversation.readSeq ?? 0, conversation.lastSeq);
  markRead(conversation);
  if (changed) {
    ui.threadMessages.replaceChildren(...conversation.messages.map((message) => message.el));
    ui.replyInput.value = conversation.draft || '';
    autosize();
    clearThreadNotice();
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
  renderTyping();
  renderComposerState();
  if (!isWritable(conversation)) {
    showThreadNotice(status === 'closed' ? t('thread.closed') : t('error.not_assigned'), 'info', true);
  } else if (threadNoticeSticky) {
    clearThreadNotice();
  }
}

function renderComposerState() {
  const conversation = store.conversations.get(store.openId);
  const writable = Boolean(conversation && isWritable(conversation));
  ui.replyInput.disabled = !writable;
  ui.replySend.disabled = !writable;
  ui.closeConversation.disabled = !writable || !socketReady();
  ui.replyForm.classList.toggle('is-disabled', !writable);
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
  send({ type: 'message', client_msg_id: message.clientMsgId, conversation_id: message.conversationId, text: message.text });
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
  const conversation = store.conversations.get(store.openId);
  if (!ui.replyInput.value) {
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

function closeOpenConversation() {
  const conversation = store.conversations.get(store.openId);
  if (!conversation || !isWritable(conversation)) return;
  resetTyping();
  // The server confirms with a `conversation` frame (status closed), which updates the view.
  if (!send({ type: 'close', conversation_id: conversation.id })) showToast(t('error.unavailable'));
}

function autosize() {
  ui.replyInput.style.height = 'auto';
  ui.replyInput.style.height = `${Math.min(ui.replyInput.scrollHeight + 2, 180)}px`;
}

// ---------------------------------------------------------------------------------------------
// Wiring
// ---------------------------------------------------------------------------------------------

ui.logout.addEventListener('click', logout);
ui.threadBack.addEventListener('click', () => ui.workspace.classList.remove('show-thread'));
ui.closeConversation.addEventListener('click', closeOpenConversation);
ui.replyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  submitReply();
});
ui.replyInput.addEventListener('keydown', (event) => {
  // Enter sends, Shift+Enter adds a line; never while an IME is composing (pinyin input).
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
    event.preventDefault();
    submitReply();
  }
});
ui.replyInput.addEventListener('input', onReplyInput);
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
  }
  renderConversationList();
  renderThread();
  updateTitle();
  renderLanguageButton();
  loginForm.retranslate();
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
