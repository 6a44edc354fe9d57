// Switchboard admin dashboard (`/admin`).
//
// Plain REST, polled: the live overview and the agents every 3 s, the departments with them.
// Agents are created and edited (role, capacity, skills, departments, disabled) and get new
// passwords in dialogs; departments are created and edited with their routing settings and
// business hours. Announcements go to the agents signed in now (`POST /v1/announcements`).
// The Webhooks section (`#webhooks`) lives in admin-webhooks.js, API tokens (`#tokens`) in
// admin-tokens.js and the Audit & privacy section (`#audit`) in admin-audit.js, each loaded the
// first time it opens. Each agent's row also ends all of that agent's sessions or resets its
// two-factor (after a confirmation in the page), and the top bar opens the administrator's own
// account security (security.js, shared with the console).
// The session is the agent console's: the same token under the same localStorage key, so an
// administrator signed in to one page is signed in to the other, and logging out of either ends
// both. Who may see the dashboard is the server's decision: a 403 `forbidden` on any admin route
// shows the "Administrators only" screen, a 401 returns to sign-in.
// User data (names, emails, department names, server messages) is only ever set with textContent.

import { t, getLanguage, onLanguageChange, applyTranslations, formatDuration } from './i18n.js';
import {
  TOKEN_KEY,
  $,
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
  ApiFailure,
} from './common.js';

const POLL_MS = 3_000;
const RETRY_MAX_MS = 15_000;
const TOAST_MS = 6_000;
const MAX_FIELD_LEN = 200;
const MIN_PASSWORD_LEN = 8;
const MAX_CONCURRENT_LIMIT = 100;
const MAX_SKILLS = 50;
const MAX_SKILL_LEN = 64;
const MAX_STICKY_SECS = 30 * 86_400;
const ROLES = ['agent', 'supervisor', 'admin'];
const STRATEGIES = ['least_loaded', 'round_robin', 'longest_idle'];
const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7]; // ISO: 1 = Monday … 7 = Sunday, as the API counts
const TIME_RE = /^([01]\d|2[0-3]):[0-5]\d$/;
const DEFAULT_OPEN = '09:00';
const DEFAULT_CLOSE = '18:00';
const MAX_ANNOUNCEMENT_CHARS = 2000;

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

const toNumber = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : Number(value) || 0);

/** The same rule as the server: something@domain.tld, no spaces. */
function isEmail(value) {
  const at = value.indexOf('@');
  return at > 0 && value.slice(at + 1).includes('.') && !/\s/.test(value);
}

/**
 * Reads a comma-separated skill list ("Billing, VIP", also with Chinese commas) as the server
 * will store it: trimmed, lower-case, without repeats. Returns { skills } or { error } (a key).
 */
function parseSkills(text) {
  const skills = [];
  for (const part of String(text).split(/[,，、;；\n]/)) {
    const skill = part.trim().toLowerCase();
    if (!skill) continue;
    if ([...skill].length > MAX_SKILL_LEN) return { error: 'admin.form.error.skillLength' };
    // Control characters are refused by the server too.
    if (/[\u0000-\u001f\u007f-\u009f]/.test(skill)) return { error: 'admin.form.error.skillLength' };
    if (!skills.includes(skill)) skills.push(skill);
  }
  if (skills.length > MAX_SKILLS) return { error: 'admin.form.error.skillCount' };
  return { skills: skills.sort() };
}

const sameList = (a, b) => a.length === b.length && [...a].sort().every((value, index) => value === [...b].sort()[index]);

/** Business hours as the API sends them, or null (always open); intervals in weekday order. */
function normalizeHours(raw) {
  if (!raw || typeof raw !== 'object') return null;
  const intervals = (Array.isArray(raw.intervals) ? raw.intervals : [])
    .filter((interval) => interval && typeof interval === 'object')
    .map((interval) => ({ weekday: toNumber(interval.weekday), open: String(interval.open ?? ''), close: String(interval.close ?? '') }))
    .sort((a, b) => a.weekday - b.weekday || a.open.localeCompare(b.open));
  return { time_zone: String(raw.time_zone ?? ''), intervals };
}

/**
 * "open Mon–Fri 09:00–18:00; Sat 10:00–14:00 (Asia/Shanghai)": consecutive days with the same
 * intervals are grouped.
 */
function hoursSummary(hours) {
  const zone = hours.time_zone;
  const groups = [];
  for (const weekday of WEEKDAYS) {
    const text = hours.intervals
      .filter((interval) => interval.weekday === weekday)
      .map((interval) => `${interval.open}–${interval.close}`)
      .join(', ');
    if (!text) continue;
    const last = groups.at(-1);
    if (last && last.to === weekday - 1 && last.text === text) last.to = weekday;
    else groups.push({ from: weekday, to: weekday, text });
  }
  if (!groups.length) return t('admin.hours.summaryClosed', { zone });
  const days = (group) =>
    group.from === group.to ? t(`weekday.short.${group.from}`) : `${t(`weekday.short.${group.from}`)}–${t(`weekday.short.${group.to}`)}`;
  const text = groups.map((group) => `${days(group)} ${group.text}`).join(t('admin.hours.separator'));
  return t('admin.hours.summary', { hours: text, zone });
}

/**
 * The IANA zone as typed, if this browser knows it (with the browser's spelling when only the
 * case differs: the server's names are case-sensitive); null if not.
 */
function canonicalZone(typed) {
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: typed }).resolvedOptions().timeZone;
    return resolved.toLowerCase() === typed.toLowerCase() ? resolved : typed;
  } catch {
    return null;
  }
}

function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** "2 h", "30 min", "7 d": a sticky window in its largest whole unit. */
function formatWindow(seconds) {
  if (seconds % 86_400 === 0) return t('duration.days', { n: seconds / 86_400 });
  if (seconds % 3_600 === 0) return t('duration.hours', { n: seconds / 3_600 });
  if (seconds % 60 === 0) return t('duration.minutes', { n: seconds / 60 });
  return t('duration.seconds', { n: seconds });
}

function clockTime(date) {
  return new Intl.DateTimeFormat(getLanguage(), { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(date);
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

const store = {
  token: storedToken(),
  agent: storedAgent(), // { id, name }, as the console stores it
  role: null, // known right after a sign-in here; otherwise the server answers 403 when not admin
  screen: 'boot', // boot | login | forbidden | app
  live: 'connecting', // connecting | connected | reconnecting | offline
  updatedAt: null,
  overview: null,
  agents: null, // array, or null before the first answer
  agentsFailed: false,
  departments: [], // [{ id, name, strategy, sticky_window_secs, required_skills, business_hours }] sorted by name
};

// ---------------------------------------------------------------------------------------------
// DOM references
// ---------------------------------------------------------------------------------------------

const ui = {
  boot: $('boot-screen'),
  navLinks: [...document.querySelectorAll('.admin-nav-link')],
  views: { overview: $('view-overview'), webhooks: $('view-webhooks'), tokens: $('view-tokens'), audit: $('view-audit') },
  dashboard: $('dashboard'),
  ...loginElements(),
  forbidden: $('forbidden-screen'),
  forbiddenBody: $('forbidden-body'),
  forbiddenSwitch: $('forbidden-switch'),
  forbiddenLangSlot: $('forbidden-lang-slot'),
  app: $('app'),
  live: $('live'),
  topbarLangSlot: $('topbar-lang-slot'),
  lang: $('lang'),
  adminName: $('admin-name'),
  adminAvatar: $('admin-avatar'),
  logout: $('logout'),
  securityOpen: $('security-open'),
  cards: {
    agentsOnline: $('card-agents-online'),
    queueLength: $('card-queue-length'),
    longestWait: $('card-longest-wait'),
    openConversations: $('card-open-conversations'),
    messages: $('card-messages'),
  },
  metricMessages: $('metric-messages'),
  gatewayList: $('gateway-list'),
  metricAgentsOnline: $('metric-agents-online'),
  metricAgentsTotal: $('metric-agents-total'),
  metricQueueLength: $('metric-queue-length'),
  metricQueueHint: $('metric-queue-hint'),
  metricLongestWait: $('metric-longest-wait'),
  metricOpenConversations: $('metric-open-conversations'),
  metricAssigned: $('metric-assigned'),
  agentsBody: $('agents-body'),
  agentsCount: $('agents-count'),
  agentsEmpty: $('agents-empty'),
  newAgent: $('new-agent'),
  departments: $('departments'),
  departmentsCount: $('departments-count'),
  departmentsEmpty: $('departments-empty'),
  departmentForm: $('department-form'),
  departmentName: $('department-name'),
  departmentSubmit: $('department-submit'),
  departmentError: $('department-error'),
  newDepartment: $('new-department'),
  dialog: $('agent-dialog'),
  agentForm: $('agent-form'),
  agentName: $('agent-name'),
  agentEmail: $('agent-email'),
  agentPassword: $('agent-password'),
  agentRole: $('agent-role'),
  agentMax: $('agent-max'),
  agentSkills: $('agent-skills'),
  agentDepartments: $('agent-departments'),
  agentDepartmentsHint: $('agent-departments-hint'),
  agentError: $('agent-error'),
  agentSubmit: $('agent-submit'),
  agentCancel: $('agent-cancel'),
  agentClose: $('agent-close'),
  edit: {
    dialog: $('edit-dialog'),
    form: $('edit-form'),
    email: $('edit-dialog-email'),
    name: $('edit-name'),
    role: $('edit-role'),
    max: $('edit-max'),
    skills: $('edit-skills'),
    departments: $('edit-departments'),
    departmentsHint: $('edit-departments-hint'),
    disabled: $('edit-disabled'),
    selfHint: $('edit-self-hint'),
    error: $('edit-error'),
    submit: $('edit-submit'),
    cancel: $('edit-cancel'),
    close: $('edit-close'),
    password: $('edit-password'),
    passwordSubmit: $('edit-password-submit'),
    passwordError: $('edit-password-error'),
    passwordDone: $('edit-password-done'),
  },
  dept: {
    dialog: $('department-dialog'),
    form: $('dept-form'),
    title: $('department-dialog-title'),
    name: $('dept-name'),
    strategy: $('dept-strategy'),
    strategyHint: $('dept-strategy-hint'),
    sticky: $('dept-sticky'),
    stickyUnit: $('dept-sticky-unit'),
    skills: $('dept-skills'),
    hoursAlways: $('dept-hours-always'),
    hoursSet: $('dept-hours-set'),
    hoursField: document.querySelector('[data-testid="dept-hours"]'),
    hoursEditor: $('dept-hours-editor'),
    tz: $('dept-tz'),
    days: $('dept-days'),
    hoursMulti: $('dept-hours-multi'),
    error: $('dept-error'),
    submit: $('dept-submit'),
    cancel: $('dept-cancel'),
    close: $('dept-close'),
  },
  agentAction: {
    dialog: $('agent-action-dialog'),
    title: $('agent-action-title'),
    target: $('agent-action-target'),
    text: $('agent-action-text'),
    error: $('agent-action-error'),
    cancel: $('agent-action-cancel'),
    submit: $('agent-action-submit'),
  },
  announce: {
    form: $('announce-form'),
    text: $('announce-text'),
    count: $('announce-count'),
    department: $('announce-department'),
    error: $('announce-error'),
    done: $('announce-done'),
    submit: $('announce-submit'),
  },
  ...toastElements(),
};

const loginForm = createLoginForm(ui, { onSession: startSession });
const renderLanguageButton = createLanguageButton(ui.lang);
const { show: showToast } = createToast(ui, TOAST_MS);

// ---------------------------------------------------------------------------------------------
// REST
// ---------------------------------------------------------------------------------------------

/** Calls the API with the session's token; resolves to the JSON body, rejects with ApiFailure. */
async function api(method, path, body, signal) {
  const headers = bearer(store.token);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    signal,
  });
  const json = response.status === 204 ? {} : await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiFailure(response.status, json?.error?.code, json?.error?.message);
  return json;
}

/** The Authorization header of the session, for requests `api` does not make (downloads). */
const authHeaders = () => bearer(store.token);

/** The answers every admin call shares: 401 → sign in again, 403 → not an administrator. */
function handledAuthFailure(error) {
  if (!(error instanceof ApiFailure)) return false;
  if (error.status === 401 || error.code === 'unauthorized') {
    endSession('login.expired');
    return true;
  }
  if (error.status === 403 || error.code === 'forbidden') {
    showForbidden();
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Screens
// ---------------------------------------------------------------------------------------------

function showScreen(screen) {
  store.screen = screen;
  ui.boot.hidden = screen !== 'boot';
  ui.login.hidden = screen !== 'login';
  ui.forbidden.hidden = screen !== 'forbidden';
  ui.app.hidden = screen !== 'app';
  if (screen !== 'app') {
    // Every dialog, the sections' too (closing the secret's also forgets the secret).
    for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
    for (const menu of document.querySelectorAll('.row-menu:popover-open')) menu.hidePopover();
  }
  const slot = { login: ui.loginLangSlot, forbidden: ui.forbiddenLangSlot, app: ui.topbarLangSlot }[screen];
  if (slot) slot.appendChild(ui.lang);
  renderLanguageButton();
  renderTitle();
  if (screen === 'app') renderView();
  else for (const section of Object.values(SECTIONS)) section.instance?.hide();
}

function renderTitle() {
  if (store.screen !== 'app') document.title = t('title.base');
  else document.title = t(SECTIONS[currentView()]?.title ?? 'title.admin');
}

function showLogin(messageKey) {
  stopPolling();
  showScreen('login');
  loginForm.reset(messageKey);
}

function showForbidden() {
  stopPolling();
  showScreen('forbidden');
  renderForbidden();
}

function renderForbidden() {
  const name = store.agent?.name;
  ui.forbiddenBody.textContent = name ? t('admin.forbidden.bodyNamed', { name }) : t('admin.forbidden.body');
}

function showApp() {
  showScreen('app');
  renderAll();
}

function startSession(token, agent) {
  store.token = token;
  saveToken(token);
  if (agent) {
    // Stored exactly as the console stores it, so the console shows the name at once too.
    store.agent = { id: agent.id, name: agent.name };
    saveAgent(store.agent);
  }
  store.role = agent?.role ?? null;
  resetData();
  if (store.role && store.role !== 'admin') {
    // The token stays: this person is signed in to the console, just not allowed here.
    showForbidden();
    return;
  }
  showApp();
  startPolling();
}

function resetData() {
  store.overview = null;
  store.agents = null;
  store.agentsFailed = false;
  store.departments = [];
  store.updatedAt = null;
  store.live = 'connecting';
  rows.clear();
  ui.agentsBody.replaceChildren();
  ui.departments.replaceChildren();
  for (const section of Object.values(SECTIONS)) section.instance?.reset();
  security?.reset();
  // Nothing typed by one session is left for the next one.
  ui.announce.text.value = '';
  renderAnnounceDepartments();
  renderAnnounceCount();
  announceError.set(null);
  setAnnounceDone(null);
}

function endSession(messageKey) {
  const token = store.token;
  store.token = null;
  store.role = null;
  saveToken(null);
  stopPolling();
  resetData();
  showLogin(messageKey);
  return token;
}

function logout() {
  return revokeToken(endSession(null));
}

// Signing in or out in another tab (console or dashboard) applies here too.
window.addEventListener('storage', (event) => {
  if (event.key !== TOKEN_KEY) return;
  if (!event.newValue) {
    if (store.token) endSession(null);
  } else if (event.newValue !== store.token) {
    store.token = event.newValue;
    store.agent = storedAgent();
    store.role = null;
    resetData();
    boot();
  }
});

// ---------------------------------------------------------------------------------------------
// Sections: Overview (agents, departments, announcements), Webhooks, API tokens and Audit &
// privacy, chosen by the URL's hash
// ---------------------------------------------------------------------------------------------

const VIEWS = ['overview', 'webhooks', 'tokens', 'audit'];

/**
 * The sections with a module of their own, loaded the first time they open: `instance` is what
 * the module's factory returned (`{ show, hide, reset, retranslate }`), once loaded.
 */
const SECTIONS = {
  webhooks: {
    load: () => import('./admin-webhooks.js').then((module) => module.createWebhooks),
    unavailable: $('webhooks-unavailable'),
    failedKey: 'admin.webhooks.moduleFailed',
    title: 'title.adminWebhooks',
    instance: null,
    loading: null,
  },
  tokens: {
    load: () => import('./admin-tokens.js').then((module) => module.createTokens),
    unavailable: $('tokens-unavailable'),
    failedKey: 'admin.tokens.moduleFailed',
    title: 'title.adminTokens',
    instance: null,
    loading: null,
  },
  audit: {
    load: () => import('./admin-audit.js').then((module) => module.createAudit),
    unavailable: $('audit-unavailable'),
    failedKey: 'admin.audit.moduleFailed',
    title: 'title.adminAudit',
    instance: null,
    loading: null,
  },
};

const currentView = () => {
  const view = location.hash.slice(1);
  return VIEWS.includes(view) ? view : 'overview';
};

/** Shows the section the hash names; the overview's polling goes on either way (the live pill). */
function renderView() {
  const view = currentView();
  for (const [name, node] of Object.entries(ui.views)) node.hidden = name !== view;
  for (const link of ui.navLinks) {
    if (link.dataset.view === view) {
      link.setAttribute('aria-current', 'page');
      // On a narrow screen the bar scrolls sideways: the chosen section stays in sight.
      const bar = link.parentElement;
      if (bar.scrollWidth > bar.clientWidth) bar.scrollLeft = Math.max(0, link.offsetLeft - (bar.clientWidth - link.offsetWidth) / 2);
    } else {
      link.removeAttribute('aria-current');
    }
  }
  renderTitle();
  for (const [name, section] of Object.entries(SECTIONS)) {
    if (name !== view) {
      section.instance?.hide();
      continue;
    }
    loadSection(section).then((instance) => {
      // Still wanted once loaded: the admin may have moved on meanwhile.
      if (instance && currentView() === name && store.screen === 'app') instance.show();
    });
  }
}

/**
 * Loads a section's module on first use. Should it fail (e.g. a server that does not serve it),
 * the rest of the dashboard keeps working and the section says so.
 */
function loadSection(section) {
  section.loading ??= section
    .load()
    .then((create) => {
      section.instance = create({ api, authHeaders, ApiFailure, handledAuthFailure, showToast, formError, readFailure, setBusy, closeOnBackdrop, returnFocus });
      section.unavailable.hidden = true;
      return section.instance;
    })
    .catch(() => {
      section.loading = null; // a later visit tries again
      section.unavailable.textContent = t(section.failedKey);
      section.unavailable.hidden = false;
      return null;
    });
  return section.loading;
}

window.addEventListener('hashchange', () => {
  if (store.screen !== 'app') return;
  ui.dashboard.scrollTop = 0;
  renderView();
});

// ---------------------------------------------------------------------------------------------
// Polling
// ---------------------------------------------------------------------------------------------

let pollTimer = null;
let pollAbort = null;
let failures = 0;

function startPolling() {
  stopPolling();
  failures = 0;
  poll();
}

function stopPolling() {
  clearTimeout(pollTimer);
  pollTimer = null;
  pollAbort?.abort();
  pollAbort = null;
}

/** Fetches overview, agents and departments together; the next round starts 3 s after. */
async function poll() {
  if (!store.token) return;
  clearTimeout(pollTimer);
  pollTimer = null;
  pollAbort?.abort();
  const controller = new AbortController();
  pollAbort = controller;
  const results = await Promise.allSettled([
    api('GET', '/v1/admin/overview', undefined, controller.signal),
    api('GET', '/v1/admin/agents', undefined, controller.signal),
    api('GET', '/v1/admin/departments', undefined, controller.signal),
  ]);
  if (pollAbort !== controller || controller.signal.aborted) return;
  pollAbort = null;

  const [overview, agents, departments] = results;
  for (const result of results) {
    if (result.status === 'rejected' && handledAuthFailure(result.reason)) return;
  }
  // No 401/403: the role is proven (or the server is unreachable, which the live pill says).
  if (store.screen === 'boot') showApp();

  if (overview.status === 'fulfilled') store.overview = overview.value;
  if (agents.status === 'fulfilled') {
    store.agents = Array.isArray(agents.value?.agents) ? agents.value.agents : [];
    store.agentsFailed = false;
    refreshOwnName();
  } else {
    store.agentsFailed = true;
  }
  if (departments.status === 'fulfilled') setDepartments(departments.value?.departments);

  const ok = results.every((result) => result.status === 'fulfilled');
  if (ok) {
    failures = 0;
    store.updatedAt = new Date();
    store.live = 'connected';
  } else {
    failures += 1;
    store.live = navigator.onLine ? 'reconnecting' : 'offline';
  }
  renderAll();
  const delay = ok ? POLL_MS : Math.min(RETRY_MAX_MS, POLL_MS * 2 ** Math.min(failures - 1, 3));
  pollTimer = setTimeout(poll, delay);
}

function refreshOwnName() {
  if (!store.agent?.id) return;
  const me = store.agents.find((agent) => agent.id === store.agent.id);
  if (me && me.name && me.name !== store.agent.name) {
    store.agent = { id: store.agent.id, name: me.name };
    saveAgent(store.agent);
  }
}

function setDepartments(list) {
  const departments = (Array.isArray(list) ? list : [])
    .filter((department) => department && department.id)
    .map((department) => ({
      id: String(department.id),
      name: String(department.name ?? ''),
      strategy: STRATEGIES.includes(department.strategy) ? department.strategy : 'least_loaded',
      sticky_window_secs: toNumber(department.sticky_window_secs),
      required_skills: Array.isArray(department.required_skills) ? department.required_skills.map(String) : [],
      business_hours: normalizeHours(department.business_hours),
    }))
    .sort((a, b) => a.name.localeCompare(b.name, getLanguage()));
  const changed = JSON.stringify(departments) !== JSON.stringify(store.departments);
  store.departments = departments;
  if (changed) {
    renderAgentDepartments();
    renderAnnounceDepartments();
    if (ui.edit.dialog.open) renderDepartmentChecks(ui.edit.departments, ui.edit.departmentsHint, 'edit-department');
  }
}

window.addEventListener('offline', () => {
  if (store.screen !== 'app') return;
  store.live = 'offline';
  renderLive();
});
window.addEventListener('online', () => {
  if (store.screen !== 'app' || !store.token) return;
  store.live = 'reconnecting';
  renderLive();
  poll();
});

// A background tab does not need live numbers; catch up at once when it is shown again.
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && store.screen === 'app' && store.token && !pollAbort) poll();
});

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

function renderAll() {
  renderMe();
  renderLive();
  renderOverview();
  renderAgents();
  renderDepartments();
}

function renderMe() {
  renderPerson(ui.adminName, ui.adminAvatar, store.agent);
}

function renderLive() {
  ui.live.dataset.state = store.live;
  ui.live.querySelector('.connection-label').textContent = t(`admin.live.${store.live}`);
  const time = store.updatedAt ? clockTime(store.updatedAt) : '';
  ui.live.title = !time ? t(`admin.live.${store.live}`) : store.live === 'connected' ? t('admin.live.updated', { time }) : t('admin.live.stale', { time });
}

function setMetric(card, valueNode, text, tone) {
  if (valueNode.textContent !== text) valueNode.textContent = text;
  card.dataset.tone = tone;
}

function renderOverview() {
  const overview = store.overview;
  if (!overview) {
    for (const node of [ui.metricAgentsOnline, ui.metricQueueLength, ui.metricLongestWait, ui.metricOpenConversations]) node.textContent = '—';
    ui.metricAgentsTotal.textContent = '';
    ui.metricQueueHint.textContent = '';
    ui.metricAssigned.textContent = '';
    ui.metricMessages.textContent = '—';
    ui.gatewayList.replaceChildren();
    return;
  }
  const online = toNumber(overview.agents_online);
  const total = toNumber(overview.agents_total);
  const queue = toNumber(overview.queue_length);
  const wait = toNumber(overview.longest_wait_seconds);
  const open = toNumber(overview.open_conversations);
  const assigned = toNumber(overview.assigned_conversations);

  // Tones: nobody online while people wait is the one state that needs attention at once.
  setMetric(ui.cards.agentsOnline, ui.metricAgentsOnline, String(online), online > 0 ? 'ok' : queue > 0 ? 'danger' : 'neutral');
  ui.metricAgentsTotal.textContent = t('admin.metric.agentsTotal', { total });
  setMetric(ui.cards.queueLength, ui.metricQueueLength, String(queue), queue > 0 ? 'warn' : 'neutral');
  ui.metricQueueHint.textContent = queue > 0 ? t('admin.metric.queueWaiting') : t('admin.metric.queueEmpty');
  setMetric(ui.cards.longestWait, ui.metricLongestWait, formatDuration(wait * 1000), wait >= 180 ? 'danger' : wait >= 60 ? 'warn' : 'neutral');
  setMetric(ui.cards.openConversations, ui.metricOpenConversations, String(open), 'neutral');
  ui.metricAssigned.textContent = t('admin.metric.assigned', { count: assigned });
  setMetric(ui.cards.messages, ui.metricMessages, String(toNumber(overview.messages_last_minute)), 'neutral');
  renderGateways(Array.isArray(overview.gateways) ? overview.gateways : []);
}

const countText = (key, count) => (count === 1 ? t(`${key}One`) : t(key, { count }));

/** One line per gateway process: its connected visitors and agents (of this workspace). */
function renderGateways(gateways) {
  const items = gateways
    .filter((gateway) => gateway && gateway.id)
    .sort((a, b) => String(a.id).localeCompare(String(b.id)))
    .map((gateway) => {
      const li = el('li', { class: 'gateway', 'data-testid': 'gateway', 'data-gateway-id': String(gateway.id) });
      const name = el('span', { class: 'gateway-id' });
      name.textContent = String(gateway.id);
      const visitors = el('span', { class: 'gateway-count', 'data-testid': 'gateway-visitors', 'data-count': String(toNumber(gateway.visitors)) });
      visitors.textContent = countText('admin.gateways.visitors', toNumber(gateway.visitors));
      const agents = el('span', { class: 'gateway-count', 'data-testid': 'gateway-agents', 'data-count': String(toNumber(gateway.agents)) });
      agents.textContent = countText('admin.gateways.agents', toNumber(gateway.agents));
      // Text separators, so that the line also reads (and copies) as words.
      li.append(name, ' ', visitors, ' · ', agents);
      return li;
    });
  if (!items.length) {
    const li = el('li', { class: 'gateway gateway-empty' });
    li.textContent = t('admin.gateways.none');
    items.push(li);
  }
  // Same lines as before: leave the DOM alone (a screen reader user may be reading it).
  const signature = items.map((item) => item.textContent).join('\n');
  if (ui.gatewayList.dataset.signature === signature) return;
  ui.gatewayList.dataset.signature = signature;
  ui.gatewayList.replaceChildren(...items);
}

// Rows are kept per agent id and updated in place, so a poll never makes the table flicker.
const rows = new Map(); // agent id → { tr, parts }

function buildRow(agent) {
  const tr = el('tr', { class: 'agent-row', 'data-testid': 'agent-row' });
  const nameCell = el('td', { class: 'cell-name' });
  const person = el('span', { class: 'person' });
  const avatar = el('span', { class: 'avatar avatar-sm', 'aria-hidden': 'true' });
  const nameText = el('span', { class: 'person-name', 'data-testid': 'agent-row-name' });
  const you = el('span', { class: 'pill pill-small pill-you' });
  // Name and email share a cell: with skills and actions, seven columns must fit beside the
  // departments card.
  const identity = el('span', { class: 'person-text' });
  const nameLine = el('span', { class: 'person-line' });
  nameLine.append(nameText, you);
  const emailCell = el('span', { class: 'cell-email', 'data-testid': 'agent-row-email' });
  identity.append(nameLine, emailCell);
  person.append(avatar, identity);
  nameCell.appendChild(person);
  const roleCell = el('td');
  const role = el('span', { class: 'role-pill', 'data-testid': 'agent-row-role' });
  roleCell.appendChild(role);
  const statusCell = el('td');
  const status = el('span', { class: 'status', 'data-testid': 'agent-row-status' });
  const dot = el('span', { class: 'status-dot', 'aria-hidden': 'true' });
  const statusText = el('span');
  status.append(dot, statusText);
  statusCell.appendChild(status);
  const loadCell = el('td', { class: 'cell-load' });
  const load = el('span', { class: 'load' });
  const loadText = el('span', { class: 'load-text', 'data-testid': 'agent-load' });
  const bar = el('span', { class: 'load-bar', 'aria-hidden': 'true' });
  const fill = el('span', { class: 'load-fill' });
  bar.appendChild(fill);
  load.append(loadText, bar);
  loadCell.appendChild(load);
  const departmentsCell = el('td', { class: 'cell-departments', 'data-testid': 'agent-departments' });
  const skillsCell = el('td', { class: 'cell-skills', 'data-testid': 'agent-skills' });
  const actionsCell = el('td', { class: 'row-actions' });
  const edit = el('button', { type: 'button', class: 'btn btn-ghost btn-small', 'data-testid': 'agent-edit' });
  edit.addEventListener('click', () => openEditDialog(agent.id, edit));
  const menu = buildRowMenu(agent.id);
  actionsCell.append(edit, menu.button, menu.list);
  tr.append(nameCell, roleCell, statusCell, loadCell, departmentsCell, skillsCell, actionsCell);
  const row = { tr, parts: { avatar, nameText, you, emailCell, role, status, statusText, load, loadText, fill, departmentsCell, skillsCell, edit, menu } };
  rows.set(agent.id, row);
  return row;
}

function renderRow(row, agent) {
  const { tr, parts } = row;
  const name = String(agent.name ?? '');
  const email = String(agent.email ?? '');
  const status = ['online', 'away', 'offline'].includes(agent.status) ? agent.status : 'offline';
  const role = ROLES.includes(agent.role) ? agent.role : 'agent';
  const disabled = agent.disabled === true;
  const max = toNumber(agent.max_concurrent);
  const held = toNumber(agent.load);
  tr.dataset.email = email;
  tr.dataset.agentId = String(agent.id);
  tr.dataset.status = status;
  tr.dataset.disabled = String(disabled);
  tr.classList.toggle('is-offline', status === 'offline');
  tr.classList.toggle('is-disabled', disabled);
  parts.avatar.textContent = initials(name);
  parts.avatar.style.background = avatarColour(agent.id || name);
  parts.nameText.textContent = name;
  parts.nameText.title = name;
  const isMe = agent.id === store.agent?.id;
  parts.you.hidden = !isMe;
  parts.you.textContent = isMe ? t('admin.agents.you') : '';
  parts.emailCell.textContent = email;
  parts.emailCell.title = email;
  parts.role.dataset.role = role;
  parts.role.textContent = t(`role.${role}`);
  parts.status.dataset.status = disabled ? 'disabled' : status;
  parts.status.classList.toggle('pill', disabled);
  parts.status.classList.toggle('status-disabled', disabled);
  parts.statusText.textContent = disabled ? t('admin.agents.disabled') : t(`status.${status}`);
  parts.edit.textContent = t('admin.agents.edit');
  parts.edit.setAttribute('aria-label', t('admin.agents.editLabel', { name }));
  renderRowMenu(parts.menu, name);
  parts.loadText.textContent = `${held} / ${max}`;
  parts.load.title = t('admin.agents.load', { load: held, max });
  const ratio = max > 0 ? Math.min(1, held / max) : 0;
  parts.fill.style.width = `${Math.round(ratio * 100)}%`;
  parts.load.dataset.level = held >= max && max > 0 ? 'full' : ratio >= 0.67 ? 'high' : 'normal';

  const ids = Array.isArray(agent.department_ids) ? agent.department_ids.map(String) : [];
  const byId = new Map(store.departments.map((department) => [department.id, department.name]));
  const chips = ids.map((id) => el('span', { class: 'chip' }, byId.get(id) ?? shortId(id)));
  if (!chips.length) {
    const none = el('span', { class: 'chip chip-muted' }, t('admin.agents.none'));
    none.title = t('admin.agents.noneHint');
    chips.push(none);
  }
  const signature = chips.map((chip) => chip.textContent).join('\u0000');
  if (parts.departmentsCell.dataset.signature !== signature) {
    parts.departmentsCell.replaceChildren(...chips);
    parts.departmentsCell.dataset.signature = signature;
  }

  const skills = Array.isArray(agent.skills) ? agent.skills.map(String) : [];
  const skillSignature = skills.join('\u0000') || '\u0001';
  if (parts.skillsCell.dataset.signature !== skillSignature) {
    const skillChips = skills.map((skill) => el('span', { class: 'chip chip-skill' }, skill));
    if (!skillChips.length) skillChips.push(el('span', { class: 'chip chip-muted' }, '—'));
    parts.skillsCell.replaceChildren(...skillChips);
    parts.skillsCell.dataset.signature = skillSignature;
  }
}

// ---------------------------------------------------------------------------------------------
// Agents: more actions per row (sign out everywhere, reset two-factor), each confirmed first
// ---------------------------------------------------------------------------------------------

const MORE_ICON =
  '<svg viewBox="0 0 24 24" width="18" height="18" fill="currentColor" aria-hidden="true"><circle cx="5.5" cy="12" r="1.8"/><circle cx="12" cy="12" r="1.8"/><circle cx="18.5" cy="12" r="1.8"/></svg>';
let menuCount = 0;

/**
 * The "⋯" button of a row and its menu: a popover (top layer, so the table's scroll box does not
 * clip it; a click outside or Escape closes it and the focus goes back to the button). Arrow keys,
 * Home and End move between the items.
 */
function buildRowMenu(agentId) {
  const id = `agent-menu-${(menuCount += 1)}`;
  const button = el('button', { type: 'button', class: 'icon-button row-more', 'data-testid': 'agent-more', 'aria-haspopup': 'menu', popovertarget: id });
  button.innerHTML = MORE_ICON;
  const list = el('div', { id, class: 'row-menu', role: 'menu', popover: 'auto', 'data-testid': 'agent-menu' });
  const signOut = el('button', { type: 'button', role: 'menuitem', class: 'row-menu-item', tabindex: '-1', 'data-testid': 'agent-signout' });
  const resetTwoFactor = el('button', { type: 'button', role: 'menuitem', class: 'row-menu-item', tabindex: '-1', 'data-testid': 'agent-reset-2fa' });
  list.append(signOut, resetTwoFactor);
  const items = [signOut, resetTwoFactor];
  const choose = (kind) => {
    list.hidePopover();
    askAgentAction(kind, agentId, button);
  };
  signOut.addEventListener('click', () => choose('signout'));
  resetTwoFactor.addEventListener('click', () => choose('reset2fa'));
  list.addEventListener('beforetoggle', (event) => {
    if (event.newState !== 'open') return;
    // Under the button, right-aligned with it; above it when there is no room below.
    const rect = button.getBoundingClientRect();
    list.style.right = `${Math.max(8, document.documentElement.clientWidth - rect.right)}px`;
    list.style.top = `${rect.bottom + 4}px`;
    list.style.bottom = 'auto';
  });
  list.addEventListener('toggle', (event) => {
    button.setAttribute('aria-expanded', String(event.newState === 'open'));
    if (event.newState !== 'open') return;
    const rect = button.getBoundingClientRect();
    if (list.getBoundingClientRect().bottom > window.innerHeight - 8) {
      list.style.top = 'auto';
      list.style.bottom = `${window.innerHeight - rect.top + 4}px`;
    }
    items[0].focus();
  });
  list.addEventListener('keydown', (event) => {
    const index = items.indexOf(document.activeElement);
    const move = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: items.length - 1 }[event.key];
    if (move !== undefined) {
      event.preventDefault();
      items[(move + items.length) % items.length].focus();
    } else if (event.key === 'Tab') {
      list.hidePopover(); // the focus moves on from the button, as after any other control
    }
  });
  button.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    event.preventDefault();
    if (!list.matches(':popover-open')) list.showPopover();
    if (event.key === 'ArrowUp') items.at(-1).focus();
  });
  button.setAttribute('aria-expanded', 'false');
  return { button, list, signOut, resetTwoFactor };
}

function renderRowMenu(menu, name) {
  menu.button.setAttribute('aria-label', t('admin.agents.moreLabel', { name }));
  menu.button.title = t('admin.agents.more');
  menu.list.setAttribute('aria-label', t('admin.agents.moreLabel', { name }));
  menu.signOut.textContent = t('admin.agents.signOut');
  menu.resetTwoFactor.textContent = t('admin.agents.resetTwoFactor');
}

// A menu open while the dashboard scrolls would float away from its row.
ui.dashboard.addEventListener('scroll', () => {
  for (const menu of document.querySelectorAll('.row-menu:popover-open')) menu.hidePopover();
}, { passive: true });

let agentAction = null; // { kind: 'signout' | 'reset2fa', id, name, email, self, opener }
const agentActionError = formError(ui.agentAction.error, {});

function renderAgentAction() {
  if (!agentAction) return;
  const { kind, name, email, self } = agentAction;
  const signOut = kind === 'signout';
  ui.agentAction.dialog.dataset.kind = kind;
  ui.agentAction.title.textContent = t(signOut ? 'admin.agentAction.signOutTitle' : 'admin.agentAction.resetTitle', { name });
  ui.agentAction.target.textContent = email ? `${name} · ${email}` : name;
  ui.agentAction.text.textContent = signOut
    ? `${t('admin.agentAction.signOutText')}${self ? ` ${t('admin.agentAction.signOutSelf')}` : ''}`
    : t('admin.agentAction.resetText');
  if (!ui.agentAction.submit.disabled) ui.agentAction.submit.textContent = t(signOut ? 'admin.agentAction.signOut' : 'admin.agentAction.reset');
}

function askAgentAction(kind, id, opener) {
  const agent = store.agents?.find((known) => known.id === id);
  if (!agent) return;
  agentAction = { kind, id, name: String(agent.name ?? ''), email: String(agent.email ?? ''), self: id === store.agent?.id, opener };
  agentActionError.set(null);
  ui.agentAction.submit.disabled = false;
  ui.agentAction.cancel.disabled = false;
  renderAgentAction();
  if (!ui.agentAction.dialog.open) ui.agentAction.dialog.showModal();
  // The safe choice has the focus: Enter does not sign anyone out by accident.
  ui.agentAction.cancel.focus();
}

async function confirmAgentAction() {
  if (!agentAction || ui.agentAction.submit.disabled) return;
  const { kind, id, name, self } = agentAction;
  const signOut = kind === 'signout';
  agentActionError.set(null);
  ui.agentAction.cancel.disabled = true;
  setBusy(ui.agentAction.submit, true, signOut ? 'admin.agentAction.signOut' : 'admin.agentAction.reset', signOut ? 'admin.agentAction.signingOut' : 'admin.agentAction.resetting');
  try {
    if (signOut) {
      const answer = await api('POST', `/v1/admin/agents/${encodeURIComponent(id)}/sessions/revoke`);
      const count = toNumber(answer?.revoked);
      closeAgentAction();
      if (self) {
        // This dashboard's own session ended with the others.
        endSession('login.signedOut');
        return;
      }
      showToast(count === 1 ? t('admin.agentAction.signedOutOne', { name }) : t('admin.agentAction.signedOut', { name, count }));
    } else {
      await api('POST', `/v1/admin/agents/${encodeURIComponent(id)}/two-factor/reset`);
      closeAgentAction();
      showToast(t('admin.agentAction.resetDone', { name }));
    }
  } catch (error) {
    if (handledAuthFailure(error)) return;
    const failure = readFailure(error, {}, () => t('admin.edit.gone'));
    agentActionError.set(failure.text);
    if (error?.status === 404) poll(); // the list is out of date
  } finally {
    ui.agentAction.cancel.disabled = false;
    if (ui.agentAction.dialog.open) {
      ui.agentAction.submit.disabled = false;
      renderAgentAction();
    }
  }
}

function closeAgentAction() {
  if (ui.agentAction.dialog.open) ui.agentAction.dialog.close();
}

function sortedAgents() {
  const collator = new Intl.Collator(getLanguage());
  return [...(store.agents ?? [])].filter((agent) => agent && agent.id).sort((a, b) => collator.compare(String(a.name ?? ''), String(b.name ?? '')) || String(a.email).localeCompare(String(b.email)));
}

function renderAgents() {
  const agents = sortedAgents();
  const seen = new Set();
  const wanted = agents.map((agent) => {
    seen.add(agent.id);
    const row = rows.get(agent.id) ?? buildRow(agent);
    renderRow(row, agent);
    return row.tr;
  });
  for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
  syncChildren(ui.agentsBody, wanted);
  ui.agentsCount.textContent = String(agents.length);
  let empty = '';
  if (store.agentsFailed && store.agents == null) empty = t('admin.agents.unavailable');
  else if (store.agents && !agents.length) empty = t('admin.agents.empty');
  ui.agentsEmpty.textContent = empty;
  ui.agentsEmpty.hidden = !empty;
}

function renderDepartments() {
  const members = new Map();
  for (const agent of store.agents ?? []) {
    for (const id of agent.department_ids ?? []) members.set(String(id), (members.get(String(id)) ?? 0) + 1);
  }
  const items = store.departments.map((department) => {
    const li = el('li', { class: 'department-item', 'data-testid': 'department-item', 'data-department-id': department.id });
    const mark = el('span', { class: 'department-mark', 'aria-hidden': 'true' }, initials(department.name).slice(0, 1));
    mark.style.background = avatarColour(department.id);
    li.dataset.strategy = department.strategy;
    li.dataset.stickyWindowSecs = String(department.sticky_window_secs);
    li.dataset.requiredSkills = department.required_skills.join(',');
    li.dataset.businessHours = department.business_hours ? JSON.stringify(department.business_hours) : '';
    const body = el('span', { class: 'department-body' });
    const name = el('span', { class: 'department-name', 'data-testid': 'department-item-name' }, department.name);
    name.title = department.name;
    const count = members.get(department.id) ?? 0;
    const details = [count === 1 ? t('admin.departments.members.one') : t('admin.departments.members.other', { count }), t(`strategy.${department.strategy}`)];
    if (department.sticky_window_secs > 0) details.push(t('admin.dept.stickyShort', { duration: formatWindow(department.sticky_window_secs) }));
    if (department.required_skills.length) details.push(t('admin.dept.skillsShort', { skills: department.required_skills.join(', ') }));
    if (department.business_hours) details.push(hoursSummary(department.business_hours));
    const detailText = el('span', { class: 'department-details', 'data-testid': 'department-details' }, details.join(' · '));
    detailText.title = details.join(' · ');
    body.append(name, detailText);
    const edit = el('button', { type: 'button', class: 'btn btn-ghost btn-small', 'data-testid': 'department-edit' }, t('admin.agents.edit'));
    edit.setAttribute('aria-label', t('admin.dept.editLabel', { name: department.name }));
    edit.addEventListener('click', () => openDepartmentDialog(department.id, edit));
    li.append(mark, body, edit);
    return li;
  });
  const signature = items
    .map((item) => `${item.dataset.departmentId}\u0001${item.textContent}\u0001${item.dataset.requiredSkills}\u0001${item.dataset.businessHours}`)
    .join('\u0000');
  if (ui.departments.dataset.signature !== signature) {
    ui.departments.replaceChildren(...items);
    ui.departments.dataset.signature = signature;
  }
  ui.departmentsCount.textContent = String(items.length);
  const empty = items.length ? '' : t('admin.departments.empty');
  ui.departmentsEmpty.textContent = empty;
  ui.departmentsEmpty.hidden = !empty;
}

/** Department checkboxes of an agent form; ticks survive a refresh of the list. */
function renderDepartmentChecks(container, hint, testId, ticked) {
  const checked = ticked ?? new Set([...container.querySelectorAll('input:checked')].map((input) => input.value));
  const options = store.departments.map((department) => {
    const label = el('label', { class: 'check' });
    const input = el('input', { type: 'checkbox', name: 'department_ids', 'data-testid': testId });
    input.value = department.id;
    input.checked = checked.has(department.id);
    label.append(input, el('span', {}, department.name));
    return label;
  });
  container.replaceChildren(...options);
  container.hidden = !options.length;
  hint.textContent = options.length ? t('admin.form.departmentsHint') : t('admin.form.noDepartments');
}

function renderAgentDepartments() {
  renderDepartmentChecks(ui.agentDepartments, ui.agentDepartmentsHint, 'agent-department');
}

// ---------------------------------------------------------------------------------------------
// Departments: add
// ---------------------------------------------------------------------------------------------

let departmentErrorText = null; // a function, so the message follows a language switch
function setDepartmentError(text) {
  departmentErrorText = text;
  ui.departmentError.textContent = text ? text() : '';
  ui.departmentError.hidden = !text;
  if (text) ui.departmentName.setAttribute('aria-invalid', 'true');
  else ui.departmentName.removeAttribute('aria-invalid');
}

async function addDepartment(event) {
  event.preventDefault();
  if (ui.departmentSubmit.disabled) return;
  const name = ui.departmentName.value.trim();
  if (!name) {
    setDepartmentError(() => t('admin.departments.missing'));
    ui.departmentName.focus();
    return;
  }
  if (store.departments.some((department) => department.name === name)) {
    setDepartmentError(() => t('admin.departments.duplicate'));
    ui.departmentName.focus();
    return;
  }
  setDepartmentError(null);
  ui.departmentSubmit.disabled = true;
  ui.departmentSubmit.textContent = t('admin.departments.adding');
  try {
    const body = await api('POST', '/v1/admin/departments', { name });
    const department = body?.department;
    if (department?.id) setDepartments([...store.departments, department]);
    ui.departmentName.value = '';
    renderDepartments();
    renderAgents();
    showToast(t('admin.departments.added', { name: department?.name ?? name }));
  } catch (error) {
    if (handledAuthFailure(error)) return;
    setDepartmentError(departmentFailureText(error));
    ui.departmentName.focus();
  } finally {
    ui.departmentSubmit.disabled = false;
    ui.departmentSubmit.textContent = t('admin.departments.add');
  }
}

function departmentFailureText(error) {
  if (!(error instanceof ApiFailure)) return () => t('login.failed');
  const message = String(error.message || '');
  if (error.code === 'already_exists' || /exists/i.test(message)) return () => t('admin.departments.duplicate');
  if (/must not be empty/.test(message)) return () => t('admin.departments.missing');
  if (/too long/.test(message)) return () => t('admin.form.error.tooLong', { field: t('admin.departments.title') });
  if (error.code === 'invalid_argument' && message) return () => message;
  return () => t('error.generic');
}

// ---------------------------------------------------------------------------------------------
// Agents: the new-agent dialog
// ---------------------------------------------------------------------------------------------

const FIELD_INPUTS = {
  name: () => ui.agentName,
  email: () => ui.agentEmail,
  password: () => ui.agentPassword,
  role: () => ui.agentRole,
  max_concurrent: () => ui.agentMax,
  skills: () => ui.agentSkills,
  department_ids: () => ui.agentDepartments.querySelector('input') ?? ui.agentDepartments,
};
const FIELD_LABELS = {
  name: 'admin.form.name',
  email: 'admin.form.email',
  password: 'admin.form.password',
  role: 'admin.form.role',
  max_concurrent: 'admin.form.max',
  skills: 'admin.form.skills',
  department_ids: 'admin.form.departments',
};

let agentErrorText = null;
function setAgentError(text, field) {
  agentErrorText = text;
  ui.agentError.textContent = text ? text() : '';
  ui.agentError.hidden = !text;
  for (const input of ui.agentForm.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  const input = field ? FIELD_INPUTS[field]?.() : null;
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}

function openAgentDialog() {
  ui.agentForm.reset();
  ui.agentMax.value = '3';
  renderAgentDepartments();
  for (const input of ui.agentDepartments.querySelectorAll('input')) input.checked = false;
  setAgentError(null);
  ui.agentSubmit.disabled = false;
  ui.agentSubmit.textContent = t('admin.form.submit');
  if (!ui.dialog.open) ui.dialog.showModal();
  ui.agentName.focus();
}

function closeAgentDialog() {
  if (ui.dialog.open) ui.dialog.close();
}

/** Checks the form as the server would; returns the body, or shows why not and returns null. */
function readAgentForm() {
  const name = ui.agentName.value.trim();
  const email = ui.agentEmail.value.trim();
  const password = ui.agentPassword.value;
  const maxText = ui.agentMax.value.trim();
  const max = Number(maxText);
  if (!name) return void setAgentError(() => t('admin.form.error.name'), 'name');
  if ([...name].length > MAX_FIELD_LEN) return void setAgentError(() => t('admin.form.error.tooLong', { field: t('admin.form.name') }), 'name');
  if (!isEmail(email)) return void setAgentError(() => t('admin.form.error.email'), 'email');
  if ([...email].length > MAX_FIELD_LEN) return void setAgentError(() => t('admin.form.error.tooLong', { field: t('admin.form.email') }), 'email');
  if ([...password].length < MIN_PASSWORD_LEN) return void setAgentError(() => t('admin.form.error.password'), 'password');
  if (new TextEncoder().encode(password).length > MAX_FIELD_LEN) return void setAgentError(() => t('admin.form.error.tooLong', { field: t('admin.form.password') }), 'password');
  if (!maxText || !Number.isInteger(max) || max < 1 || max > MAX_CONCURRENT_LIMIT) return void setAgentError(() => t('admin.form.error.max'), 'max_concurrent');
  const parsed = parseSkills(ui.agentSkills.value);
  if (parsed.error) return void setAgentError(() => t(parsed.error), 'skills');
  const role = ROLES.includes(ui.agentRole.value) ? ui.agentRole.value : 'agent';
  const department_ids = [...ui.agentDepartments.querySelectorAll('input:checked')].map((input) => input.value);
  return { name, email, password, role, max_concurrent: max, skills: parsed.skills, department_ids };
}

async function createAgent(event) {
  event.preventDefault();
  if (ui.agentSubmit.disabled) return;
  const body = readAgentForm();
  if (!body) return;
  setAgentError(null);
  ui.agentSubmit.disabled = true;
  ui.agentSubmit.textContent = t('admin.form.submitting');
  try {
    const answer = await api('POST', '/v1/admin/agents', body);
    const agent = answer?.agent;
    if (agent?.id && store.agents && !store.agents.some((known) => known.id === agent.id)) {
      // Shown at once; the next poll brings its live status and load.
      store.agents = [...store.agents, { load: 0, status: 'offline', ...agent }];
    }
    closeAgentDialog();
    renderAgents();
    renderDepartments();
    showToast(t('admin.form.created', { name: agent?.name ?? body.name }));
    poll();
  } catch (error) {
    if (handledAuthFailure(error)) return;
    showAgentFailure(error);
  } finally {
    ui.agentSubmit.disabled = false;
    ui.agentSubmit.textContent = t('admin.form.submit');
  }
}

/** Server errors next to the form: `invalid_argument` messages start with the field name. */
function showAgentFailure(error) {
  if (!(error instanceof ApiFailure)) {
    setAgentError(() => t('login.failed'));
    return;
  }
  if (error.code === 'already_exists' || error.status === 409) {
    setAgentError(() => t('admin.form.error.exists'), 'email');
    return;
  }
  const message = String(error.message || '');
  const match = /^([a-z_]+):\s*(.*)$/s.exec(message);
  if (error.code === 'invalid_argument' && match) {
    const [, field, detail] = match;
    if (field === 'department_ids') {
      setAgentError(() => t('admin.form.error.department'), field);
      poll(); // the list is out of date
      return;
    }
    const label = FIELD_LABELS[field];
    setAgentError(() => (label ? t('admin.form.error.field', { field: t(label), message: detail }) : message), label ? field : null);
    return;
  }
  if (error.code === 'invalid_argument' && message) {
    setAgentError(() => message);
    return;
  }
  setAgentError(() => t('error.generic'));
}

// ---------------------------------------------------------------------------------------------
// Shared by the edit dialogs: errors next to a form, server failures read as field errors
// ---------------------------------------------------------------------------------------------

/**
 * An error line of a form: `set(text, field)` shows `text()` (a function, so that it follows a
 * language switch) and marks the field's input (from `inputs`) invalid and focused.
 */
function formError(node, inputs) {
  let text = null;
  let marked = null;
  function set(next, field) {
    text = next;
    node.textContent = next ? next() : '';
    node.hidden = !next;
    marked?.removeAttribute('aria-invalid');
    marked = field ? inputs[field]?.() ?? null : null;
    if (marked) {
      marked.setAttribute('aria-invalid', 'true');
      marked.focus();
    }
  }
  return {
    set,
    retranslate: () => {
      if (text) node.textContent = text();
    },
    get shown() {
      return Boolean(text);
    },
  };
}

/**
 * Reads a failed call as { text, field }: the server's `invalid_argument` messages start with
 * the field name ("max_concurrent: must be …"); `gone` is the text for a 404.
 */
function readFailure(error, labels, gone) {
  if (!(error instanceof ApiFailure)) return { text: () => t('login.failed') };
  if (error.status === 404) return { text: gone };
  const message = String(error.message || '');
  const match = /^([a-z_.]+):\s*(.*)$/s.exec(message);
  if (error.code === 'invalid_argument' && match && labels[match[1]]) {
    const [, field, detail] = match;
    return { text: () => t('admin.form.error.field', { field: t(labels[field]), message: detail }), field };
  }
  if (error.code === 'invalid_argument' && message) return { text: () => message };
  if (error.code === 'rate_limited') return { text: () => t('admin.error.rateLimited') };
  return { text: () => t('error.generic') };
}

/** Closing a dialog gives the focus back to the button that opened it (if it is still there). */
function returnFocus(button, fallback) {
  (button?.isConnected ? button : fallback).focus();
}

// ---------------------------------------------------------------------------------------------
// Agents: the edit dialog and password reset
// ---------------------------------------------------------------------------------------------

let editing = null; // { id, original, opener }

const editError = formError(ui.edit.error, {
  name: () => ui.edit.name,
  role: () => ui.edit.role,
  max_concurrent: () => ui.edit.max,
  skills: () => ui.edit.skills,
  department_ids: () => ui.edit.departments.querySelector('input') ?? ui.edit.departments,
  disabled: () => ui.edit.disabled,
});
const passwordError = formError(ui.edit.passwordError, { password: () => ui.edit.password });
let passwordDoneText = null;

const EDIT_LABELS = {
  name: 'admin.form.name',
  role: 'admin.form.role',
  max_concurrent: 'admin.form.max',
  skills: 'admin.form.skills',
  department_ids: 'admin.form.departments',
  password: 'admin.form.password',
  new_password: 'admin.form.password',
};

function agentSettings(agent) {
  return {
    name: String(agent.name ?? ''),
    role: ROLES.includes(agent.role) ? agent.role : 'agent',
    max_concurrent: toNumber(agent.max_concurrent),
    skills: Array.isArray(agent.skills) ? agent.skills.map(String) : [],
    department_ids: Array.isArray(agent.department_ids) ? agent.department_ids.map(String) : [],
    disabled: agent.disabled === true,
  };
}

function setPasswordDone(text) {
  passwordDoneText = text;
  ui.edit.passwordDone.textContent = text ? text() : '';
  ui.edit.passwordDone.hidden = !text;
}

function openEditDialog(id, opener) {
  const agent = store.agents?.find((known) => known.id === id);
  if (!agent) return;
  const original = agentSettings(agent);
  editing = { id, original, opener, email: String(agent.email ?? '') };
  ui.edit.form.reset();
  ui.edit.email.textContent = editing.email;
  ui.edit.name.value = original.name;
  ui.edit.role.value = original.role;
  ui.edit.max.value = String(original.max_concurrent);
  ui.edit.skills.value = original.skills.join(', ');
  ui.edit.disabled.checked = original.disabled;
  renderDepartmentChecks(ui.edit.departments, ui.edit.departmentsHint, 'edit-department', new Set(original.department_ids));
  // Signing yourself out of your own dashboard (or out of the admin role) is never what was meant.
  const self = id === store.agent?.id;
  ui.edit.role.disabled = self;
  ui.edit.disabled.disabled = self;
  ui.edit.selfHint.textContent = self ? t('admin.edit.selfHint') : '';
  ui.edit.selfHint.hidden = !self;
  editError.set(null);
  passwordError.set(null);
  setPasswordDone(null);
  ui.edit.password.value = '';
  setBusy(ui.edit.submit, false, 'admin.edit.submit');
  setBusy(ui.edit.passwordSubmit, false, 'admin.password.submit');
  if (!ui.edit.dialog.open) ui.edit.dialog.showModal();
  ui.edit.name.focus();
}

function setBusy(button, busy, idleKey, busyKey) {
  button.disabled = busy;
  button.textContent = busy ? t(busyKey) : t(idleKey);
}

/** Checks the edit form; returns the changed fields (possibly none), or null after showing why not. */
function readEditForm() {
  const name = ui.edit.name.value.trim();
  const maxText = ui.edit.max.value.trim();
  const max = Number(maxText);
  if (!name) return void editError.set(() => t('admin.form.error.name'), 'name');
  if ([...name].length > MAX_FIELD_LEN) return void editError.set(() => t('admin.form.error.tooLong', { field: t('admin.form.name') }), 'name');
  if (!maxText || !Number.isInteger(max) || max < 1 || max > MAX_CONCURRENT_LIMIT) return void editError.set(() => t('admin.form.error.max'), 'max_concurrent');
  const parsed = parseSkills(ui.edit.skills.value);
  if (parsed.error) return void editError.set(() => t(parsed.error), 'skills');
  const role = ROLES.includes(ui.edit.role.value) ? ui.edit.role.value : 'agent';
  const departmentIds = [...ui.edit.departments.querySelectorAll('input:checked')].map((input) => input.value);
  const { original } = editing;
  const changes = {};
  if (name !== original.name) changes.name = name;
  if (role !== original.role) changes.role = role;
  if (max !== original.max_concurrent) changes.max_concurrent = max;
  if (!sameList(parsed.skills, original.skills)) changes.skills = parsed.skills;
  if (!sameList(departmentIds, original.department_ids)) changes.department_ids = departmentIds;
  if (ui.edit.disabled.checked !== original.disabled) changes.disabled = ui.edit.disabled.checked;
  return changes;
}

async function saveAgentChanges(event) {
  event.preventDefault();
  if (!editing || ui.edit.submit.disabled) return;
  const changes = readEditForm();
  if (!changes) return;
  if (!Object.keys(changes).length) {
    closeEditDialog();
    return;
  }
  editError.set(null);
  setBusy(ui.edit.submit, true, 'admin.edit.submit', 'admin.edit.saving');
  const { id } = editing;
  try {
    const answer = await api('PATCH', `/v1/admin/agents/${encodeURIComponent(id)}`, changes);
    const updated = answer?.agent;
    if (updated?.id && store.agents) {
      // Shown at once; load and live status come with the next poll.
      store.agents = store.agents.map((agent) => (agent.id === updated.id ? { ...agent, ...updated } : agent));
    }
    const name = updated?.name ?? changes.name ?? editing.original.name;
    closeEditDialog();
    renderAgents();
    renderDepartments();
    if (changes.disabled === true) showToast(t('admin.edit.disabledDone', { name }));
    else if (changes.disabled === false) showToast(t('admin.edit.enabledDone', { name }));
    else showToast(t('admin.edit.saved', { name }));
    poll();
  } catch (error) {
    if (handledAuthFailure(error)) return;
    const failure = readFailure(error, EDIT_LABELS, () => t('admin.edit.gone'));
    editError.set(failure.text, failure.field);
    if (failure.field === 'department_ids' || error?.status === 404) poll(); // the lists are out of date
  } finally {
    if (ui.edit.dialog.open) setBusy(ui.edit.submit, false, 'admin.edit.submit');
  }
}

async function resetPassword() {
  if (!editing || ui.edit.passwordSubmit.disabled) return;
  const password = ui.edit.password.value;
  setPasswordDone(null);
  if ([...password].length < MIN_PASSWORD_LEN) return void passwordError.set(() => t('admin.form.error.password'), 'password');
  if (new TextEncoder().encode(password).length > MAX_FIELD_LEN) return void passwordError.set(() => t('admin.form.error.tooLong', { field: t('admin.form.password') }), 'password');
  passwordError.set(null);
  setBusy(ui.edit.passwordSubmit, true, 'admin.password.submit', 'admin.password.saving');
  const { id, original } = editing;
  try {
    await api('POST', `/v1/admin/agents/${encodeURIComponent(id)}/password`, { password });
    ui.edit.password.value = '';
    const name = original.name;
    setPasswordDone(() => t('admin.password.done', { name }));
  } catch (error) {
    if (handledAuthFailure(error)) return;
    const failure = readFailure(error, EDIT_LABELS, () => t('admin.edit.gone'));
    passwordError.set(failure.text, failure.field ? 'password' : null);
  } finally {
    if (ui.edit.dialog.open) setBusy(ui.edit.passwordSubmit, false, 'admin.password.submit');
  }
}

function closeEditDialog() {
  if (ui.edit.dialog.open) ui.edit.dialog.close();
}

// ---------------------------------------------------------------------------------------------
// Departments: the new/edit dialog with routing settings
// ---------------------------------------------------------------------------------------------

let editingDepartment = null; // { id (null: new), original, opener }
let hoursTouched = false; // the hours are sent only when something in them was changed
let hoursTarget = null; // the time input a business-hours error is about

/** The first opening time of an open day, else the "Set opening hours" choice. */
const firstOpenTime = () => dayRows.find((day) => day.open.checked)?.from ?? ui.dept.hoursSet;

const deptError = formError(ui.dept.error, {
  name: () => ui.dept.name,
  strategy: () => ui.dept.strategy,
  sticky_window_secs: () => ui.dept.sticky,
  required_skills: () => ui.dept.skills,
  business_hours: () => ui.dept.hoursSet,
  'business_hours.time_zone': () => ui.dept.tz,
  'business_hours.intervals': firstOpenTime,
  'hours.target': () => hoursTarget,
});

const DEPT_LABELS = {
  name: 'admin.dept.name',
  strategy: 'admin.dept.strategy',
  sticky_window_secs: 'admin.dept.sticky',
  required_skills: 'admin.dept.skills',
  business_hours: 'admin.hours.title',
  'business_hours.time_zone': 'admin.hours.timeZone',
  'business_hours.intervals': 'admin.hours.title',
};

/** One row per weekday: open or closed, and the opening and closing times (HH:MM). */
const dayRows = WEEKDAYS.map((weekday) => {
  const row = el('div', { class: 'hours-day', 'data-testid': 'dept-day', 'data-weekday': String(weekday) });
  const label = el('label', { class: 'check' });
  const open = el('input', { type: 'checkbox', 'data-testid': 'dept-day-open' });
  const name = el('span');
  label.append(open, name);
  const from = el('input', { type: 'time', step: '60', 'data-testid': 'dept-day-from' });
  const dash = el('span', { class: 'hours-dash', 'aria-hidden': 'true' }, '–');
  const to = el('input', { type: 'time', step: '60', 'data-testid': 'dept-day-to' });
  const closed = el('span', { class: 'field-hint hours-closed', 'data-testid': 'dept-day-closed' });
  row.append(label, from, dash, to, closed);
  const day = { weekday, row, open, name, from, dash, to, closed };
  open.addEventListener('change', () => syncDay(day));
  return day;
});
ui.dept.days.replaceChildren(...dayRows.map((day) => day.row));

function labelDays() {
  for (const day of dayRows) {
    const name = t(`weekday.long.${day.weekday}`);
    day.name.textContent = name;
    day.from.setAttribute('aria-label', t('admin.hours.opens', { day: name }));
    day.to.setAttribute('aria-label', t('admin.hours.closes', { day: name }));
    day.closed.textContent = t('admin.hours.closed');
  }
}

/** A closed day shows "Closed" in place of its times. */
function syncDay(day) {
  const open = day.open.checked;
  day.row.classList.toggle('is-closed', !open);
  for (const node of [day.from, day.dash, day.to]) node.hidden = !open;
  day.closed.hidden = open;
}

function syncHoursMode() {
  ui.dept.hoursEditor.hidden = !ui.dept.hoursSet.checked;
}

/** Fills the hours part of the dialog: the department's hours, or Mon–Fri 09:00–18:00 to start from. */
function fillHours(hours) {
  hoursTouched = false;
  hoursTarget = null;
  ui.dept.hoursAlways.checked = !hours;
  ui.dept.hoursSet.checked = Boolean(hours);
  ui.dept.tz.value = hours?.time_zone ?? browserZone();
  for (const day of dayRows) {
    const first = hours?.intervals.find((interval) => interval.weekday === day.weekday);
    day.open.checked = hours ? Boolean(first) : day.weekday <= 5;
    day.from.value = first?.open ?? DEFAULT_OPEN;
    day.to.value = first?.close ?? DEFAULT_CLOSE;
    syncDay(day);
  }
  const several = Boolean(hours) && WEEKDAYS.some((weekday) => hours.intervals.filter((interval) => interval.weekday === weekday).length > 1);
  ui.dept.hoursMulti.textContent = several ? t('admin.hours.multi') : '';
  ui.dept.hoursMulti.hidden = !several;
  syncHoursMode();
}

/** The hours in the form as { hours } (null: always open), or undefined after showing why not. */
function readHours() {
  if (!ui.dept.hoursSet.checked) return { hours: null };
  const typed = ui.dept.tz.value.trim();
  if (!typed) return void deptError.set(() => t('admin.hours.error.zoneMissing'), 'business_hours.time_zone');
  const zone = canonicalZone(typed);
  if (!zone) return void deptError.set(() => t('admin.hours.error.zone', { zone: typed }), 'business_hours.time_zone');
  const intervals = [];
  for (const day of dayRows) {
    if (!day.open.checked) continue;
    const dayName = () => t(`weekday.long.${day.weekday}`);
    // Chromium gives "HH:MM" (step 60); anything else (a half-typed time is "") is refused.
    const [open, close] = [day.from.value.slice(0, 5), day.to.value.slice(0, 5)];
    for (const [input, value] of [[day.from, open], [day.to, close]]) {
      if (!TIME_RE.test(value)) {
        hoursTarget = input;
        return void deptError.set(() => t('admin.hours.error.time', { day: dayName() }), 'hours.target');
      }
    }
    if (open >= close) {
      hoursTarget = day.to;
      return void deptError.set(() => t('admin.hours.error.order', { day: dayName() }), 'hours.target');
    }
    intervals.push({ weekday: day.weekday, open, close });
  }
  return { hours: { time_zone: zone, intervals } };
}

/** The server's refusals of business hours, in words of the current language. */
function hoursFailure(error) {
  if (!(error instanceof ApiFailure) || error.code !== 'invalid_argument') return null;
  const message = String(error.message || '');
  if (/^business_hours\.time_zone:/.test(message)) return { text: () => t('admin.hours.error.zoneServer'), field: 'business_hours.time_zone' };
  if (/^business_hours\.intervals:.*before close/.test(message)) return { text: () => t('admin.hours.error.orderServer'), field: 'business_hours.intervals' };
  return null;
}

/** Shows a window in seconds as amount + unit (the largest unit that divides it). */
function fillWindow(seconds) {
  const unit = seconds === 0 ? 60 : [86_400, 3_600, 60, 1].find((size) => seconds % size === 0);
  ui.dept.stickyUnit.value = String(unit);
  ui.dept.sticky.value = String(seconds / unit);
}

function renderDepartmentDialog() {
  const isNew = !editingDepartment?.id;
  ui.dept.title.textContent = isNew ? t('admin.dept.newTitle') : t('admin.dept.editTitle');
  if (!ui.dept.submit.disabled) ui.dept.submit.textContent = isNew ? t('admin.dept.create') : t('admin.edit.submit');
  ui.dept.strategyHint.textContent = t(`strategy.${ui.dept.strategy.value}.hint`);
}

function openDepartmentDialog(id, opener) {
  const department = id ? store.departments.find((known) => known.id === id) : null;
  if (id && !department) return;
  const original = department
    ? {
        name: department.name,
        strategy: department.strategy,
        sticky_window_secs: department.sticky_window_secs,
        required_skills: department.required_skills,
        business_hours: department.business_hours,
      }
    : { name: '', strategy: 'least_loaded', sticky_window_secs: 0, required_skills: [], business_hours: null };
  editingDepartment = { id: id ?? null, original, opener };
  ui.dept.form.reset();
  ui.dept.name.value = original.name;
  ui.dept.strategy.value = original.strategy;
  fillWindow(original.sticky_window_secs);
  ui.dept.skills.value = original.required_skills.join(', ');
  fillHours(original.business_hours);
  deptError.set(null);
  ui.dept.submit.disabled = false;
  renderDepartmentDialog();
  if (!ui.dept.dialog.open) ui.dept.dialog.showModal();
  ui.dept.name.focus();
}

function readDepartmentForm() {
  const name = ui.dept.name.value.trim();
  if (!name) return void deptError.set(() => t('admin.departments.missing'), 'name');
  if ([...name].length > MAX_FIELD_LEN) return void deptError.set(() => t('admin.form.error.tooLong', { field: t('admin.dept.name') }), 'name');
  if (store.departments.some((department) => department.name === name && department.id !== editingDepartment.id)) {
    return void deptError.set(() => t('admin.departments.duplicate'), 'name');
  }
  const strategy = STRATEGIES.includes(ui.dept.strategy.value) ? ui.dept.strategy.value : 'least_loaded';
  const amountText = ui.dept.sticky.value.trim();
  const amount = amountText === '' ? 0 : Number(amountText);
  const seconds = amount * Number(ui.dept.stickyUnit.value);
  if (!Number.isInteger(amount) || amount < 0 || !Number.isInteger(seconds) || seconds > MAX_STICKY_SECS) {
    return void deptError.set(() => t('admin.dept.error.sticky'), 'sticky_window_secs');
  }
  const parsed = parseSkills(ui.dept.skills.value);
  if (parsed.error) return void deptError.set(() => t(parsed.error), 'required_skills');
  // Untouched hours stay as they are (also several intervals a day, which the form cannot show).
  const hours = hoursTouched ? readHours() : { hours: editingDepartment.original.business_hours };
  if (!hours) return undefined;
  return { name, strategy, sticky_window_secs: seconds, required_skills: parsed.skills, business_hours: hours.hours };
}

async function saveDepartment(event) {
  event.preventDefault();
  if (!editingDepartment || ui.dept.submit.disabled) return;
  const settings = readDepartmentForm();
  if (!settings) return;
  const { id, original } = editingDepartment;
  let body = { ...settings };
  if (!body.business_hours) delete body.business_hours; // a new department is always open by default
  if (id) {
    body = {};
    if (settings.name !== original.name) body.name = settings.name;
    if (settings.strategy !== original.strategy) body.strategy = settings.strategy;
    if (settings.sticky_window_secs !== original.sticky_window_secs) body.sticky_window_secs = settings.sticky_window_secs;
    if (!sameList(settings.required_skills, original.required_skills)) body.required_skills = settings.required_skills;
    // null clears the hours (always open).
    if (JSON.stringify(normalizeHours(settings.business_hours)) !== JSON.stringify(original.business_hours)) body.business_hours = settings.business_hours;
    if (!Object.keys(body).length) {
      closeDepartmentDialog();
      return;
    }
  }
  deptError.set(null);
  setBusy(ui.dept.submit, true, id ? 'admin.edit.submit' : 'admin.dept.create', id ? 'admin.edit.saving' : 'admin.departments.adding');
  try {
    const answer = id
      ? await api('PATCH', `/v1/admin/departments/${encodeURIComponent(id)}`, body)
      : await api('POST', '/v1/admin/departments', body);
    const department = answer?.department;
    if (department?.id) setDepartments([...store.departments.filter((known) => known.id !== department.id), department]);
    closeDepartmentDialog();
    renderDepartments();
    renderAgents();
    const name = department?.name ?? settings.name;
    showToast(id ? t('admin.dept.saved', { name }) : t('admin.departments.added', { name }));
  } catch (error) {
    if (handledAuthFailure(error)) return;
    const message = String(error?.message || '');
    if (error instanceof ApiFailure && (error.code === 'already_exists' || /name exists|already exists/i.test(message))) {
      deptError.set(() => t('admin.departments.duplicate'), 'name');
      return;
    }
    const failure = hoursFailure(error) ?? readFailure(error, DEPT_LABELS, () => t('admin.dept.gone'));
    deptError.set(failure.text, failure.field);
    if (error?.status === 404) poll();
  } finally {
    if (ui.dept.dialog.open) {
      ui.dept.submit.disabled = false;
      renderDepartmentDialog();
    }
  }
}

function closeDepartmentDialog() {
  if (ui.dept.dialog.open) ui.dept.dialog.close();
}

// ---------------------------------------------------------------------------------------------
// Announcements: to every agent signed in now, or to one department's
// ---------------------------------------------------------------------------------------------

const announceError = formError(ui.announce.error, {
  text: () => ui.announce.text,
  department_id: () => ui.announce.department,
});
let announceDoneText = null;

function setAnnounceDone(text) {
  announceDoneText = text;
  ui.announce.done.textContent = text ? text() : '';
  ui.announce.done.hidden = !text;
}

/** "All agents" and the departments; the choice survives a refresh of the list. */
function renderAnnounceDepartments() {
  const select = ui.announce.department;
  const chosen = select.value;
  const options = store.departments.map((department) => {
    const option = el('option', {}, department.name);
    option.value = department.id;
    return option;
  });
  const everyone = el('option', {}, t('admin.announce.everyone'));
  everyone.value = '';
  select.replaceChildren(everyone, ...options);
  select.value = store.departments.some((department) => department.id === chosen) ? chosen : '';
}

/** Characters as the server counts them (Unicode scalar values of the trimmed text). */
const announcementLength = () => [...ui.announce.text.value.trim()].length;

function renderAnnounceCount() {
  const count = announcementLength();
  ui.announce.count.textContent = t('admin.announce.count', { count, max: MAX_ANNOUNCEMENT_CHARS });
  ui.announce.count.dataset.over = String(count > MAX_ANNOUNCEMENT_CHARS);
}

async function sendAnnouncement(event) {
  event.preventDefault();
  if (ui.announce.submit.disabled) return;
  setAnnounceDone(null);
  const text = ui.announce.text.value.trim();
  const count = [...text].length;
  if (!count) return void announceError.set(() => t('admin.announce.error.empty'), 'text');
  if (count > MAX_ANNOUNCEMENT_CHARS) {
    return void announceError.set(() => t('admin.announce.error.long', { max: MAX_ANNOUNCEMENT_CHARS, count }), 'text');
  }
  const departmentId = ui.announce.department.value;
  const name = store.departments.find((department) => department.id === departmentId)?.name;
  announceError.set(null);
  setBusy(ui.announce.submit, true, 'admin.announce.submit', 'admin.announce.sending');
  try {
    await api('POST', '/v1/announcements', departmentId ? { text, department_id: departmentId } : { text });
    ui.announce.text.value = '';
    renderAnnounceCount();
    setAnnounceDone(() => (name ? t('admin.announce.sentTo', { name }) : t('admin.announce.sent')));
  } catch (error) {
    if (handledAuthFailure(error)) return;
    if (error instanceof ApiFailure && error.status === 404) {
      announceError.set(() => t('admin.announce.error.department'), 'department_id');
      poll(); // the list is out of date
      return;
    }
    const failure = readFailure(error, { text: 'admin.announce.text' }, () => t('admin.announce.error.department'));
    announceError.set(failure.text, failure.field);
  } finally {
    setBusy(ui.announce.submit, false, 'admin.announce.submit');
  }
}

/** A click on the backdrop closes a dialog; a text selection that merely ends outside does not. */
function closeOnBackdrop(dialog, busy) {
  let pressed = false;
  dialog.addEventListener('pointerdown', (event) => {
    pressed = event.target === dialog;
  });
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog && pressed && !busy()) dialog.close();
    pressed = false;
  });
}

// ---------------------------------------------------------------------------------------------
// The administrator's own account security (security.js, shared with the console)
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
    if (instance && store.token && store.screen === 'app') instance.open(ui.securityOpen);
  });
}

// ---------------------------------------------------------------------------------------------
// Wiring
// ---------------------------------------------------------------------------------------------

ui.logout.addEventListener('click', logout);
ui.securityOpen.addEventListener('click', openSecurity);
ui.agentAction.submit.addEventListener('click', confirmAgentAction);
ui.agentAction.cancel.addEventListener('click', closeAgentAction);
ui.agentAction.dialog.addEventListener('cancel', (event) => {
  // Escape while the request runs would hide its outcome.
  if (ui.agentAction.submit.disabled) event.preventDefault();
});
ui.agentAction.dialog.addEventListener('close', () => {
  const opener = agentAction?.opener;
  agentAction = null;
  agentActionError.set(null);
  if (store.screen === 'app') returnFocus(opener, ui.newAgent);
});
closeOnBackdrop(ui.agentAction.dialog, () => ui.agentAction.submit.disabled);
ui.forbiddenSwitch.addEventListener('click', logout);
ui.newAgent.addEventListener('click', openAgentDialog);
ui.agentForm.addEventListener('submit', createAgent);
ui.agentCancel.addEventListener('click', closeAgentDialog);
ui.agentClose.addEventListener('click', closeAgentDialog);
ui.dialog.addEventListener('close', () => {
  ui.agentPassword.value = ''; // never keep a typed password around
  setAgentError(null);
  ui.newAgent.focus();
});
// A click on the backdrop (outside the form) closes the dialog too; a text selection that merely
// ends outside does not.
let pressedOnBackdrop = false;
ui.dialog.addEventListener('pointerdown', (event) => {
  pressedOnBackdrop = event.target === ui.dialog;
});
ui.dialog.addEventListener('click', (event) => {
  if (event.target === ui.dialog && pressedOnBackdrop && !ui.agentSubmit.disabled) closeAgentDialog();
  pressedOnBackdrop = false;
});
ui.departmentForm.addEventListener('submit', addDepartment);
ui.newDepartment.addEventListener('click', () => openDepartmentDialog(null, ui.newDepartment));

ui.edit.form.addEventListener('submit', saveAgentChanges);
// A changed value may be the fix: the old complaint goes until the next save says otherwise.
for (const input of [ui.edit.name, ui.edit.role, ui.edit.max, ui.edit.skills, ui.edit.disabled, ui.edit.departments]) {
  input.addEventListener(input === ui.edit.departments ? 'change' : 'input', () => {
    if (editError.shown) editError.set(null);
  });
}
ui.edit.cancel.addEventListener('click', closeEditDialog);
ui.edit.close.addEventListener('click', closeEditDialog);
ui.edit.passwordSubmit.addEventListener('click', resetPassword);
ui.edit.password.addEventListener('keydown', (event) => {
  // Enter in the password box sets the password; it must not save the other fields instead.
  if (event.key === 'Enter' && !event.isComposing) {
    event.preventDefault();
    resetPassword();
  }
});
ui.edit.password.addEventListener('input', () => {
  if (passwordError.shown) passwordError.set(null);
  if (passwordDoneText) setPasswordDone(null);
});
ui.edit.dialog.addEventListener('close', () => {
  ui.edit.password.value = ''; // never keep a typed password around
  const opener = editing?.opener;
  editing = null;
  editError.set(null);
  passwordError.set(null);
  setPasswordDone(null);
  returnFocus(opener, ui.newAgent);
});
closeOnBackdrop(ui.edit.dialog, () => ui.edit.submit.disabled || ui.edit.passwordSubmit.disabled);

ui.dept.form.addEventListener('submit', saveDepartment);
for (const input of [ui.dept.name, ui.dept.strategy, ui.dept.sticky, ui.dept.stickyUnit, ui.dept.skills]) {
  input.addEventListener('input', () => {
    if (deptError.shown) deptError.set(null);
  });
}
ui.dept.cancel.addEventListener('click', closeDepartmentDialog);
ui.dept.close.addEventListener('click', closeDepartmentDialog);
ui.dept.strategy.addEventListener('change', renderDepartmentDialog);
// Any change inside the business hours (mode, zone, a day, a time) means they are to be saved.
for (const type of ['input', 'change']) {
  ui.dept.hoursField.addEventListener(type, () => {
    hoursTouched = true;
    if (deptError.shown) deptError.set(null);
  });
}
ui.dept.hoursAlways.addEventListener('change', syncHoursMode);
ui.dept.hoursSet.addEventListener('change', syncHoursMode);
ui.dept.dialog.addEventListener('close', () => {
  const opener = editingDepartment?.opener;
  editingDepartment = null;
  deptError.set(null);
  returnFocus(opener, ui.newDepartment);
});
closeOnBackdrop(ui.dept.dialog, () => ui.dept.submit.disabled);
ui.departmentName.addEventListener('input', () => {
  if (departmentErrorText) setDepartmentError(null);
});

ui.announce.form.addEventListener('submit', sendAnnouncement);
ui.announce.text.addEventListener('input', () => {
  renderAnnounceCount();
  if (announceError.shown) announceError.set(null);
  if (announceDoneText) setAnnounceDone(null);
});
ui.announce.text.addEventListener('keydown', (event) => {
  // Enter makes a new line; Ctrl+Enter (⌘+Enter) sends.
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && !event.isComposing) {
    event.preventDefault();
    ui.announce.form.requestSubmit();
  }
});
ui.announce.department.addEventListener('change', () => {
  if (announceError.shown) announceError.set(null);
});

onLanguageChange(() => {
  applyTranslations(document);
  renderLanguageButton();
  renderTitle();
  loginForm.retranslate();
  if (store.screen === 'forbidden') renderForbidden();
  if (agentErrorText) ui.agentError.textContent = agentErrorText();
  if (departmentErrorText) ui.departmentError.textContent = departmentErrorText();
  if (!ui.agentSubmit.disabled) ui.agentSubmit.textContent = t('admin.form.submit');
  if (!ui.departmentSubmit.disabled) ui.departmentSubmit.textContent = t('admin.departments.add');
  renderAgentDepartments();
  if (ui.edit.dialog.open) {
    renderDepartmentChecks(ui.edit.departments, ui.edit.departmentsHint, 'edit-department');
    editError.retranslate();
    passwordError.retranslate();
    if (passwordDoneText) ui.edit.passwordDone.textContent = passwordDoneText();
    if (editing?.id === store.agent?.id) ui.edit.selfHint.textContent = t('admin.edit.selfHint');
    if (!ui.edit.submit.disabled) ui.edit.submit.textContent = t('admin.edit.submit');
    if (!ui.edit.passwordSubmit.disabled) ui.edit.passwordSubmit.textContent = t('admin.password.submit');
  }
  labelDays();
  if (ui.dept.dialog.open) {
    renderDepartmentDialog();
    deptError.retranslate();
    if (!ui.dept.hoursMulti.hidden) ui.dept.hoursMulti.textContent = t('admin.hours.multi');
  }
  renderAnnounceDepartments();
  renderAnnounceCount();
  renderAgentAction();
  agentActionError.retranslate();
  security?.retranslate();
  announceError.retranslate();
  if (announceDoneText) ui.announce.done.textContent = announceDoneText();
  if (!ui.announce.submit.disabled) ui.announce.submit.textContent = t('admin.announce.submit');
  for (const section of Object.values(SECTIONS)) {
    if (section.instance) section.instance.retranslate();
    else if (!section.unavailable.hidden) section.unavailable.textContent = t(section.failedKey);
  }
  renderAll();
});

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

/** With a stored session, the first poll decides: dashboard, "Administrators only", or sign-in. */
function boot() {
  if (!store.token) {
    showLogin(null);
    return;
  }
  showScreen('boot');
  startPolling();
}

applyTranslations(document);
document.documentElement.lang = getLanguage();
renderAgentDepartments();
labelDays();
renderAnnounceDepartments();
renderAnnounceCount();
boot();
