// Switchboard admin dashboard: the Audit & privacy section (`/admin#audit`).
//
// The audit log of the workspace (`GET /v1/admin/audit`): who did what, to what, with which
// outcome and from where, newest first, filtered by an action prefix and by who did it, paged
// with the server's cursor ("Load older") and exported as NDJSON with the same filters. Beside
// it, how long closed conversations are kept (`/v1/admin/retention`, 0 = forever) and one
// visitor's data, exported as JSON or erased after an in-page confirmation.
//
// The log is not polled: it is read when the section opens, on Refresh, when the filters change
// and after every action taken here (each of which the server records in it). Downloads are
// fetched with the session's token and handed to the browser as Blob URLs, so no token ever
// appears in an address.
//
// admin.js loads this module the first time the section opens and hands it its REST helpers
// (`ctx`), so both share one session and one way of showing errors. User and server data
// (names, ids, user agents, details, server messages) is only ever set with textContent.

import { t, getLanguage } from './i18n.js';
import { $, el, syncChildren, shortId } from './common.js';

const PAGE_SIZE = 50;
const MAX_RETENTION_DAYS = 3650;
const MAX_ACTION_LEN = 64;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OUTCOMES = ['succeeded', 'failed', 'denied', 'requested'];
const DOWNLOAD_URL_TTL_MS = 60_000;

/** Actions with a name in words (others are shown by their code alone). */
const KNOWN_ACTIONS = new Set([
  'agent.create',
  'agent.update',
  'agent.password_reset',
  'department.create',
  'department.update',
  'auth.login',
  'auth.login_failed',
  'auth.login_locked',
  'auth.login_disabled',
  'auth.logout',
  'auth.sessions_revoke',
  'auth.two_factor_enable',
  'auth.two_factor_disable',
  'auth.two_factor_reset',
  'identity_secret.read',
  'visitor.export',
  'visitor.erase',
  'retention.update',
  'audit.export',
  'webhook.create',
  'webhook.update',
  'webhook.delete',
  'webhook.rotate_secret',
  'webhook.replay',
  'integrations.settings_update',
  'api_token.create',
  'api_token.revoke',
]);
const KNOWN_TARGETS = new Set(['agent', 'department', 'visitor', 'workspace', 'webhook', 'delivery', 'api_token']);
/** Actions taken with an API token are recorded with this actor prefix before the token's id. */
const TOKEN_ACTOR = 'token:';

const RETENTION_LABELS = { days: 'admin.retention.field' };
const VISITOR_LABELS = { visitor_id: 'admin.visitorData.id' };

/** An audit entry as the API sends it, with every field of the right type. */
function normalizeEvent(raw) {
  const detail = raw.detail && typeof raw.detail === 'object' ? raw.detail : {};
  return {
    id: String(raw.id),
    occurred_at: raw.occurred_at ?? null,
    actor_id: raw.actor_id == null || raw.actor_id === '' ? null : String(raw.actor_id),
    action: String(raw.action ?? ''),
    target_kind: raw.target_kind == null ? '' : String(raw.target_kind),
    target_id: raw.target_id == null ? '' : String(raw.target_id),
    outcome: OUTCOMES.includes(raw.outcome) ? raw.outcome : String(raw.outcome ?? ''),
    client_ip: raw.client_ip == null ? '' : String(raw.client_ip),
    user_agent: raw.user_agent == null ? '' : String(raw.user_agent),
    detail: Object.entries(detail)
      .map(([key, value]) => [String(key), String(value ?? '')])
      .sort(([a], [b]) => a.localeCompare(b)),
  };
}

const toDate = (value) => {
  const date = value ? new Date(value) : null;
  return date && !Number.isNaN(date.getTime()) ? date : null;
};

/** "15:27:33" today, "28 Nov, 15:27:33" on another day of this year, with the year before. */
function shortTime(date) {
  const now = new Date();
  const options = { hour: 'numeric', minute: '2-digit', second: '2-digit' };
  if (date.toDateString() !== now.toDateString()) {
    Object.assign(options, { month: 'short', day: 'numeric' });
    if (date.getFullYear() !== now.getFullYear()) options.year = 'numeric';
  }
  return new Intl.DateTimeFormat(getLanguage(), options).format(date);
}

const longTime = (date) => new Intl.DateTimeFormat(getLanguage(), { dateStyle: 'medium', timeStyle: 'medium' }).format(date);

/** Today in the browser's calendar, as YYYY-MM-DD (for file names). */
function localDay(date = new Date()) {
  const pad = (value) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** A file name part made of safe characters only (ids come from what an admin typed). */
const safeName = (text) => String(text).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120);

/** Hands `blob` to the browser as a download called `filename`. */
function saveFile(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = el('a', { href: url, download: filename, hidden: '' });
  document.body.appendChild(link);
  link.click();
  link.remove();
  // Revoked later, not at once: the browser reads the Blob after the click returns.
  setTimeout(() => URL.revokeObjectURL(url), DOWNLOAD_URL_TTL_MS);
}

/**
 * Builds the section. `ctx` comes from admin.js: `api(method, path, body, signal)`,
 * `authHeaders()`, `ApiFailure`, `handledAuthFailure(error)`, `showToast(text)`,
 * `formError(node, inputs)`, `readFailure(error, labels, gone)`,
 * `setBusy(button, busy, idleKey, busyKey)`, `closeOnBackdrop(dialog, busy)` and
 * `returnFocus(button, fallback)`. Returns `{ show, hide, reset, retranslate }`.
 */
export function createAudit(ctx) {
  const { api, authHeaders, ApiFailure, handledAuthFailure, showToast, formError, readFailure, setBusy, closeOnBackdrop, returnFocus } = ctx;

  const ui = {
    log: {
      filters: $('audit-filters'),
      action: $('audit-action'),
      actor: $('audit-actor'),
      clear: $('audit-clear'),
      refresh: $('audit-refresh'),
      exportButton: $('audit-export'),
      body: $('audit-body'),
      table: $('audit-table'),
      empty: $('audit-empty'),
      error: $('audit-error'),
      summary: $('audit-summary'),
      foot: $('audit-foot'),
      more: $('audit-more'),
    },
    retention: {
      form: $('retention-form'),
      days: $('retention-days'),
      current: $('retention-current'),
      error: $('retention-error'),
      done: $('retention-done'),
      submit: $('retention-submit'),
    },
    visitor: {
      form: $('visitor-form'),
      id: $('visitor-id'),
      error: $('visitor-error'),
      done: $('visitor-done'),
      exportButton: $('visitor-export'),
      erase: $('visitor-erase'),
    },
    erase: {
      dialog: $('erase-dialog'),
      target: $('erase-target'),
      error: $('erase-error'),
      cancel: $('erase-cancel'),
      submit: $('erase-submit'),
    },
  };

  const state = {
    visible: false,
    events: [],
    nextBefore: null, // the cursor of the next (older) page, or null at the end
    loaded: false, // the first page of the current filters has been read
    loadingMore: false,
    exporting: false,
    filters: { action: '', actor: '' }, // as applied (the inputs may differ until Apply)
    directoryRead: false, // agents and departments were asked for once (names, not ids, from the start)
    agents: new Map(), // id → { name, email }
    departments: new Map(), // id → name
    retention: null, // { days, updated_at } once read
    retentionDirty: false, // the admin typed in the box: a fresh read does not overwrite it
  };

  // ---------------------------------------------------------------------------------------
  // Who is who: agents (actors and targets) and departments (targets)
  // ---------------------------------------------------------------------------------------

  let directoryGeneration = 0;

  async function loadDirectory() {
    const generation = ++directoryGeneration;
    const [agents, departments] = await Promise.allSettled([api('GET', '/v1/admin/agents'), api('GET', '/v1/admin/departments')]);
    if (generation !== directoryGeneration) return;
    for (const result of [agents, departments]) {
      if (result.status === 'rejected' && handledAuthFailure(result.reason)) return;
    }
    // Failed or not: the log is shown now, with ids where names are missing.
    state.directoryRead = true;
    if (agents.status === 'fulfilled') {
      state.agents = new Map(
        (Array.isArray(agents.value?.agents) ? agents.value.agents : [])
          .filter((agent) => agent && agent.id)
          .map((agent) => [String(agent.id), { name: String(agent.name ?? ''), email: String(agent.email ?? '') }]),
      );
    }
    if (departments.status === 'fulfilled') {
      state.departments = new Map(
        (Array.isArray(departments.value?.departments) ? departments.value.departments : [])
          .filter((department) => department && department.id)
          .map((department) => [String(department.id), String(department.name ?? '')]),
      );
    }
    renderActorOptions();
    renderLog();
  }

  /** "Anyone", then every agent by name (with the email where two share a name). */
  function renderActorOptions() {
    const collator = new Intl.Collator(getLanguage());
    const agents = [...state.agents.entries()].sort(([, a], [, b]) => collator.compare(a.name, b.name) || a.email.localeCompare(b.email));
    const names = agents.map(([, agent]) => agent.name);
    const options = [['', t('admin.audit.anyone')]];
    for (const [id, agent] of agents) {
      const shared = names.filter((name) => name === agent.name).length > 1;
      options.push([id, shared && agent.email ? `${agent.name} (${agent.email})` : agent.name || id]);
    }
    // A filter on someone no longer listed stays visible as what it is.
    const selected = ui.log.actor.value || state.filters.actor;
    if (selected && !state.agents.has(selected)) options.push([selected, selected]);
    const signature = JSON.stringify(options);
    if (ui.log.actor.dataset.signature === signature) return;
    ui.log.actor.dataset.signature = signature;
    ui.log.actor.replaceChildren(...options.map(([value, label]) => {
      const option = el('option', {}, label);
      option.value = value;
      return option;
    }));
    ui.log.actor.value = selected;
  }

  // ---------------------------------------------------------------------------------------
  // The log
  // ---------------------------------------------------------------------------------------

  let logGeneration = 0; // answers for other filters (or an older refresh) are dropped
  let logAbort = null;
  const logError = formError(ui.log.error, { action: () => ui.log.action });

  const filterParams = () => {
    const params = new URLSearchParams();
    if (state.filters.action) params.set('action', state.filters.action);
    if (state.filters.actor) params.set('actor_id', state.filters.actor);
    return params;
  };

  /** Reads the first page of the applied filters and shows it in place of what was shown. */
  async function refreshLog() {
    if (!state.visible) return;
    const generation = ++logGeneration;
    logAbort?.abort();
    const controller = new AbortController();
    logAbort = controller;
    state.loadingMore = false;
    const params = filterParams();
    params.set('limit', String(PAGE_SIZE));
    try {
      const answer = await api('GET', `/v1/admin/audit?${params}`, undefined, controller.signal);
      if (generation !== logGeneration) return;
      state.events = (Array.isArray(answer?.events) ? answer.events : []).filter((event) => event && event.id != null).map(normalizeEvent);
      state.nextBefore = answer?.next_before ?? null;
      state.loaded = true;
      logError.set(null);
    } catch (error) {
      if (generation !== logGeneration || error?.name === 'AbortError') return;
      if (handledAuthFailure(error)) return;
      logError.set(...logFailure(error));
    } finally {
      if (logAbort === controller) logAbort = null;
    }
    renderLog();
  }

  async function loadOlder() {
    if (state.nextBefore == null || state.loadingMore) return;
    const generation = logGeneration;
    state.loadingMore = true;
    renderLog();
    const params = filterParams();
    params.set('limit', String(PAGE_SIZE));
    params.set('before', String(state.nextBefore));
    try {
      const answer = await api('GET', `/v1/admin/audit?${params}`);
      if (generation !== logGeneration) return;
      const known = new Set(state.events.map((event) => event.id));
      const page = (Array.isArray(answer?.events) ? answer.events : [])
        .filter((event) => event && event.id != null)
        .map(normalizeEvent)
        .filter((event) => !known.has(event.id));
      state.events = [...state.events, ...page];
      state.nextBefore = answer?.next_before ?? null;
      logError.set(null);
    } catch (error) {
      if (generation !== logGeneration) return;
      if (handledAuthFailure(error)) return;
      logError.set(...logFailure(error));
    } finally {
      if (generation === logGeneration) {
        state.loadingMore = false;
        renderLog();
      }
    }
  }

  /** A failed read of the log as [text, field]: a refused filter names the filter. */
  function logFailure(error) {
    if (error instanceof ApiFailure && error.code === 'invalid_argument') {
      const message = String(error.message || '');
      return [() => t('admin.audit.error.filter', { message }), /action/.test(message) ? 'action' : undefined];
    }
    return [() => t('admin.audit.unavailable')];
  }

  /** Reads the filter inputs; returns the filters, or null after showing why not. */
  function readFilters() {
    const action = ui.log.action.value.trim();
    if ([...action].length > MAX_ACTION_LEN) {
      logError.set(() => t('admin.audit.error.actionLong', { max: MAX_ACTION_LEN }), 'action');
      return null;
    }
    if (/[\u0000-\u001f\u007f]/.test(action)) {
      logError.set(() => t('admin.audit.error.actionChars'), 'action');
      return null;
    }
    return { action, actor: ui.log.actor.value };
  }

  function applyFilters(event) {
    event?.preventDefault();
    const filters = readFilters();
    if (!filters) return;
    state.filters = filters;
    startOver();
  }

  function clearFilters() {
    ui.log.action.value = '';
    ui.log.actor.value = '';
    state.filters = { action: '', actor: '' };
    startOver();
    ui.log.action.focus();
  }

  /** Forgets the rows shown and reads the first page of the applied filters. */
  function startOver() {
    logGeneration += 1;
    logAbort?.abort();
    logAbort = null;
    state.events = [];
    state.nextBefore = null;
    state.loaded = false;
    state.loadingMore = false;
    logError.set(null);
    renderLog();
    refreshLog();
  }

  /** Every entry matching the applied filters, as NDJSON, saved as audit-YYYY-MM-DD.ndjson. */
  async function exportLog() {
    if (state.exporting) return;
    state.exporting = true;
    setBusy(ui.log.exportButton, true, 'admin.audit.export', 'admin.audit.exporting');
    logError.set(null);
    try {
      const blob = await download(`/v1/admin/audit/export?${filterParams()}`);
      const text = await blob.text();
      const lines = text.split('\n').filter((line) => line.trim()).length;
      saveFile(blob, `audit-${localDay()}.ndjson`);
      showToast(lines === 1 ? t('admin.audit.exportedOne') : t('admin.audit.exported', { count: lines }));
    } catch (error) {
      if (handledAuthFailure(error)) return;
      logError.set(exportFailure(error, () => t('admin.audit.unavailable')));
    } finally {
      state.exporting = false;
      setBusy(ui.log.exportButton, false, 'admin.audit.export');
    }
    // Exporting the log is itself recorded in it.
    refreshLog();
  }

  // Rows are kept per entry id and filled in again on every render (names may have arrived,
  // the language may have changed).
  const rows = new Map(); // id → { tr, parts }

  function buildRow(id) {
    const tr = el('tr', { class: 'audit-row', 'data-testid': 'audit-row', 'data-event-id': id });
    const timeCell = el('td', { class: 'cell-time' });
    const time = el('span', { class: 'time-main', 'data-testid': 'audit-time' });
    timeCell.appendChild(time);
    const actorCell = el('td', { class: 'audit-actor' });
    const actor = el('span', { class: 'audit-name', 'data-testid': 'audit-actor' });
    actorCell.appendChild(actor);
    const actionCell = el('td', { class: 'cell-event' });
    const action = el('code', { class: 'event-code', 'data-testid': 'audit-action' });
    const actionName = el('span', { class: 'cell-sub' });
    actionCell.append(action, actionName);
    const targetCell = el('td', { class: 'audit-target' });
    const target = el('span', { class: 'audit-name', 'data-testid': 'audit-target' });
    const targetKind = el('span', { class: 'cell-sub' });
    targetCell.append(target, targetKind);
    const outcomeCell = el('td');
    const outcome = el('span', { class: 'audit-outcome', 'data-testid': 'audit-outcome' });
    const dot = el('span', { class: 'status-dot', 'aria-hidden': 'true' });
    const outcomeText = el('span');
    outcome.append(dot, outcomeText);
    outcomeCell.appendChild(outcome);
    const clientCell = el('td', { class: 'audit-client' });
    const ip = el('span', { class: 'mono audit-ip', 'data-testid': 'audit-ip' });
    const agent = el('span', { class: 'cell-sub audit-ua' });
    clientCell.append(ip, agent);
    const detailCell = el('td', { class: 'audit-detail' });
    // One wrapper, so the chips flow as one value when a narrow screen lays cells out as label | value.
    const detail = el('span', { class: 'audit-chips', 'data-testid': 'audit-detail' });
    detailCell.appendChild(detail);
    const cells = [timeCell, actorCell, actionCell, targetCell, outcomeCell, clientCell, detailCell];
    tr.append(...cells);
    const row = { tr, cells, parts: { time, actor, action, actionName, target, targetKind, outcome, outcomeText, ip, agent, detail } };
    rows.set(id, row);
    return row;
  }

  const COLUMN_KEYS = ['admin.audit.col.time', 'admin.audit.col.actor', 'admin.audit.col.action', 'admin.audit.col.target', 'admin.audit.col.outcome', 'admin.audit.col.client', 'admin.audit.col.detail'];

  function actorName(id) {
    if (!id) return { text: '—', title: t('admin.audit.noActor'), known: false };
    const agent = state.agents.get(id);
    if (agent?.name) return { text: agent.name, title: `${agent.email} · ${id}`, known: true };
    if (id.startsWith(TOKEN_ACTOR)) return { text: t('admin.audit.apiToken', { id: id.slice(TOKEN_ACTOR.length) }), title: id, known: true };
    return { text: id, title: id, known: false };
  }

  function targetText(event) {
    const { target_kind: kind, target_id: id } = event;
    if (!kind && !id) return { text: '—', title: '' };
    if (kind === 'agent' && state.agents.get(id)?.name) return { text: state.agents.get(id).name, title: id };
    if (kind === 'department' && state.departments.get(id)) return { text: state.departments.get(id), title: id };
    if (kind === 'workspace') return { text: t('admin.audit.thisWorkspace'), title: id };
    return { text: id || '—', title: id };
  }

  function renderRow(row, event) {
    const { tr, cells, parts } = row;
    tr.dataset.action = event.action;
    tr.dataset.outcome = event.outcome;
    tr.dataset.actorId = event.actor_id ?? '';
    tr.dataset.targetId = event.target_id;
    cells.forEach((cell, index) => cell.setAttribute('data-label', t(COLUMN_KEYS[index])));

    const date = toDate(event.occurred_at);
    parts.time.textContent = date ? shortTime(date) : '—';
    if (date) parts.time.title = longTime(date);
    else parts.time.removeAttribute('title');

    const actor = actorName(event.actor_id);
    parts.actor.textContent = actor.text;
    parts.actor.title = actor.title;
    parts.actor.classList.toggle('mono', Boolean(event.actor_id) && !actor.known);
    parts.actor.classList.toggle('is-empty', !event.actor_id);

    parts.action.textContent = event.action;
    const known = KNOWN_ACTIONS.has(event.action);
    parts.actionName.textContent = known ? t(`audit.action.${event.action}`) : '';
    parts.actionName.hidden = !known;

    const target = targetText(event);
    parts.target.textContent = target.text;
    parts.target.title = target.title;
    parts.target.classList.toggle('mono', target.text === event.target_id && Boolean(event.target_id));
    parts.target.classList.toggle('is-empty', target.text === '—');
    parts.targetKind.textContent = event.target_kind ? (KNOWN_TARGETS.has(event.target_kind) ? t(`audit.target.${event.target_kind}`) : event.target_kind) : '';
    parts.targetKind.hidden = !event.target_kind;

    parts.outcome.dataset.outcome = event.outcome;
    parts.outcomeText.textContent = OUTCOMES.includes(event.outcome) ? t(`audit.outcome.${event.outcome}`) : event.outcome || '—';

    parts.ip.textContent = event.client_ip || '—';
    parts.ip.classList.toggle('is-empty', !event.client_ip);
    parts.agent.textContent = event.user_agent;
    parts.agent.title = event.user_agent;
    parts.agent.hidden = !event.user_agent;

    // Details as compact "key value" chips; the signature keeps the DOM as it is when unchanged.
    const signature = JSON.stringify(event.detail);
    if (parts.detail.dataset.signature !== signature) {
      const chips = event.detail.map(([key, value]) => {
        const chip = el('span', { class: 'chip audit-chip', title: `${key}: ${value}` });
        chip.append(el('span', { class: 'audit-chip-key' }, key), ' ', el('span', { class: 'audit-chip-value' }, value));
        return chip;
      });
      if (!chips.length) chips.push(el('span', { class: 'is-empty' }, '—'));
      parts.detail.replaceChildren(...chips);
      parts.detail.dataset.signature = signature;
    }
  }

  function renderLog() {
    const seen = new Set();
    const shown = state.directoryRead ? state.events : [];
    const wanted = shown.map((event) => {
      seen.add(event.id);
      const row = rows.get(event.id) ?? buildRow(event.id);
      renderRow(row, event);
      return row.tr;
    });
    for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
    syncChildren(ui.log.body, wanted);
    const filtered = Boolean(state.filters.action || state.filters.actor);
    let empty = '';
    if (!state.loaded || !state.directoryRead) empty = ui.log.error.hidden ? t('admin.audit.loading') : '';
    else if (!state.events.length) empty = filtered ? t('admin.audit.emptyFiltered') : t('admin.audit.empty');
    ui.log.empty.textContent = empty;
    ui.log.empty.hidden = !empty;
    ui.log.table.hidden = !shown.length;
    ui.log.summary.textContent = shown.length
      ? (state.nextBefore != null ? t('admin.audit.shownMore', { count: state.events.length }) : t(state.events.length === 1 ? 'admin.audit.shownOne' : 'admin.audit.shown', { count: state.events.length }))
      : '';
    ui.log.foot.hidden = state.nextBefore == null || !shown.length;
    setBusy(ui.log.more, state.loadingMore, 'admin.audit.older', 'admin.audit.loadingOlder');
    ui.log.clear.hidden = !filtered && !ui.log.action.value && !ui.log.actor.value;
  }

  // ---------------------------------------------------------------------------------------
  // Downloads
  // ---------------------------------------------------------------------------------------

  /** GETs `path` with the session's token; resolves to the body as a Blob, rejects with ApiFailure. */
  async function download(path) {
    const response = await fetch(path, { headers: authHeaders(), cache: 'no-store' });
    if (!response.ok) {
      const json = await response.json().catch(() => ({}));
      throw new ApiFailure(response.status, json?.error?.code, json?.error?.message);
    }
    return response.blob();
  }

  /** A failed download or erase in words; `gone` is the text for a 404. */
  function exportFailure(error, gone) {
    if (error instanceof ApiFailure && error.code === 'audit_unavailable') return () => t('admin.audit.error.auditDown');
    if (error instanceof ApiFailure && error.status === 404) return gone;
    if (!(error instanceof ApiFailure)) return () => t('admin.audit.error.cutShort');
    return readFailure(error, VISITOR_LABELS, gone).text;
  }

  // ---------------------------------------------------------------------------------------
  // Retention
  // ---------------------------------------------------------------------------------------

  const retentionError = formError(ui.retention.error, { days: () => ui.retention.days });
  let retentionDone = null; // a text function, so it follows a language switch

  function setRetentionDone(text) {
    retentionDone = text;
    ui.retention.done.textContent = text ? text() : '';
    ui.retention.done.hidden = !text;
  }

  async function loadRetention() {
    const wasMissing = !state.retention;
    try {
      const answer = await api('GET', '/v1/admin/retention');
      state.retention = { days: Number(answer?.days) || 0, updated_at: answer?.updated_at ?? null };
      if (!state.retentionDirty) ui.retention.days.value = String(state.retention.days);
      if (wasMissing) retentionError.set(null); // "can't be loaded" from an earlier try
    } catch (error) {
      if (handledAuthFailure(error)) return;
      if (!state.retention) retentionError.set(() => t('admin.retention.unavailable'));
    }
    renderRetention();
  }

  function renderRetention() {
    const policy = state.retention;
    ui.retention.submit.disabled = !policy || savingRetention;
    if (!savingRetention) ui.retention.submit.textContent = t('admin.retention.save');
    if (!policy) {
      ui.retention.current.textContent = t('admin.retention.loading');
      return;
    }
    const kept = policy.days === 0 ? t('admin.retention.currentForever') : t(policy.days === 1 ? 'admin.retention.currentOne' : 'admin.retention.current', { days: policy.days });
    const changed = toDate(policy.updated_at);
    ui.retention.current.textContent = changed ? `${kept} ${t('admin.retention.changed', { time: longTime(changed) })}` : kept;
    ui.retention.current.dataset.days = String(policy.days);
  }

  /** The number typed, if it is a whole number of days the server takes; else null after saying why. */
  function readRetention() {
    const text = ui.retention.days.value.trim();
    // A number input answers '' for anything it cannot read (e.g. "3.5e"), so that is checked too.
    const days = Number(text);
    if (!text || !/^\d+$/.test(text) || !Number.isInteger(days) || days < 0 || days > MAX_RETENTION_DAYS) {
      retentionError.set(() => t('admin.retention.error.range', { max: MAX_RETENTION_DAYS }), 'days');
      return null;
    }
    return days;
  }

  let savingRetention = false;

  /** A refused save as [text, field]: the range in this page's words, else the server's. */
  function retentionFailure(error) {
    if (error instanceof ApiFailure && error.code === 'audit_unavailable') return [() => t('admin.audit.error.auditDown')];
    if (error instanceof ApiFailure && error.code === 'invalid_argument' && /^days:/.test(String(error.message))) {
      return [() => t('admin.retention.error.range', { max: MAX_RETENTION_DAYS }), 'days'];
    }
    const failure = readFailure(error, RETENTION_LABELS, () => t('error.generic'));
    return [failure.text, failure.field];
  }

  async function saveRetention(event) {
    event.preventDefault();
    if (savingRetention || !state.retention) return;
    setRetentionDone(null);
    const days = readRetention();
    if (days == null) return;
    retentionError.set(null);
    savingRetention = true;
    setBusy(ui.retention.submit, true, 'admin.retention.save', 'admin.retention.saving');
    try {
      const answer = await api('PUT', '/v1/admin/retention', { days });
      state.retention = { days: Number(answer?.days ?? days) || 0, updated_at: answer?.updated_at ?? null };
      state.retentionDirty = false;
      ui.retention.days.value = String(state.retention.days);
      const saved = state.retention.days;
      setRetentionDone(() => (saved === 0 ? t('admin.retention.savedForever') : t(saved === 1 ? 'admin.retention.savedOne' : 'admin.retention.saved', { days: saved })));
    } catch (error) {
      if (handledAuthFailure(error)) return;
      retentionError.set(...retentionFailure(error));
    } finally {
      savingRetention = false;
      renderRetention();
    }
    refreshLog();
  }

  // ---------------------------------------------------------------------------------------
  // One visitor's data: export, erase
  // ---------------------------------------------------------------------------------------

  const visitorError = formError(ui.visitor.error, { visitor_id: () => ui.visitor.id });
  let visitorDone = null;
  let visitorBusy = false;

  function setVisitorDone(text) {
    visitorDone = text;
    ui.visitor.done.textContent = text ? text() : '';
    ui.visitor.done.hidden = !text;
  }

  /** The id typed, or null after saying what is wrong with it. */
  function readVisitorId() {
    const id = ui.visitor.id.value.trim();
    if (!id) {
      visitorError.set(() => t('admin.visitorData.error.missing'), 'visitor_id');
      return null;
    }
    // The server takes UUIDs only: anything else is refused here, without a request.
    if (!UUID_RE.test(id)) {
      visitorError.set(() => t('admin.visitorData.error.invalid'), 'visitor_id');
      return null;
    }
    return id;
  }

  const visitorGone = (id) => () => t('admin.visitorData.notFound', { id });

  function setVisitorBusy(busy, which) {
    visitorBusy = busy;
    setBusy(ui.visitor.exportButton, busy && which === 'export', 'admin.visitorData.export', 'admin.visitorData.exporting');
    ui.visitor.exportButton.disabled = busy;
    ui.visitor.erase.disabled = busy;
  }

  async function exportVisitor(event) {
    event?.preventDefault();
    if (visitorBusy) return;
    setVisitorDone(null);
    const id = readVisitorId();
    if (!id) return;
    visitorError.set(null);
    setVisitorBusy(true, 'export');
    try {
      const blob = await download(`/v1/admin/visitors/${encodeURIComponent(id)}/export`);
      const text = await blob.text();
      let conversations = null;
      let complete = true;
      try {
        const exported = JSON.parse(text);
        conversations = Array.isArray(exported?.conversations) ? exported.conversations.length : null;
        complete = exported?.complete !== false;
      } catch {
        conversations = null;
      }
      const filename = `visitor-${safeName(id)}.json`;
      saveFile(blob, filename);
      setVisitorDone(() => {
        const what = conversations == null ? t('admin.visitorData.exportedPlain', { file: filename }) : t(conversations === 1 ? 'admin.visitorData.exportedOne' : 'admin.visitorData.exported', { file: filename, count: conversations });
        return complete ? what : `${what} ${t('admin.visitorData.partial')}`;
      });
    } catch (error) {
      if (handledAuthFailure(error)) return;
      visitorError.set(exportFailure(error, visitorGone(id)), error?.status === 404 ? 'visitor_id' : undefined);
    } finally {
      setVisitorBusy(false);
    }
    refreshLog();
  }

  // Erasing asks first, in a dialog of this page (so it can be tested and read by screen readers).
  let erasing = null; // { id, opener }
  const eraseError = formError(ui.erase.error, {});

  function renderEraseDialog() {
    if (!ui.erase.submit.disabled) ui.erase.submit.textContent = t('admin.erase.submit');
  }

  function askErase() {
    if (visitorBusy) return;
    setVisitorDone(null);
    const id = readVisitorId();
    if (!id) return;
    visitorError.set(null);
    erasing = { id, opener: ui.visitor.erase };
    ui.erase.target.textContent = id;
    eraseError.set(null);
    ui.erase.submit.disabled = false;
    renderEraseDialog();
    if (!ui.erase.dialog.open) ui.erase.dialog.showModal();
    // The safe choice has the focus: Enter does not erase by accident.
    ui.erase.cancel.focus();
  }

  async function confirmErase() {
    if (!erasing || ui.erase.submit.disabled) return;
    const { id } = erasing;
    eraseError.set(null);
    ui.erase.cancel.disabled = true;
    setBusy(ui.erase.submit, true, 'admin.erase.submit', 'admin.erase.erasing');
    setVisitorBusy(true, 'erase');
    try {
      const answer = await api('DELETE', `/v1/admin/visitors/${encodeURIComponent(id)}`);
      const erased = {
        conversations: Number(answer?.erased?.conversations) || 0,
        messages: Number(answer?.erased?.messages) || 0,
        notes: Number(answer?.erased?.notes) || 0,
      };
      // The Erase button takes the focus back when the dialog closes: it must be enabled first.
      setVisitorBusy(false);
      closeErase();
      setVisitorDone(() => t('admin.visitorData.erased', {
        id,
        conversations: countText('admin.visitorData.conversations', erased.conversations),
        messages: countText('admin.visitorData.messages', erased.messages),
        notes: countText('admin.visitorData.notes', erased.notes),
      }));
      ui.visitor.done.dataset.erased = JSON.stringify(erased);
    } catch (error) {
      if (handledAuthFailure(error)) return;
      if (error instanceof ApiFailure && error.status === 404) {
        // Nothing to erase: said next to the ID (which is what is wrong), not in a dialog.
        setVisitorBusy(false);
        closeErase();
        visitorError.set(visitorGone(id), 'visitor_id');
      } else {
        eraseError.set(exportFailure(error, visitorGone(id)));
      }
    } finally {
      ui.erase.cancel.disabled = false;
      if (ui.erase.dialog.open) {
        ui.erase.submit.disabled = false;
        renderEraseDialog();
      }
      setVisitorBusy(false);
    }
    refreshLog();
  }

  function closeErase() {
    if (ui.erase.dialog.open) ui.erase.dialog.close();
  }

  const countText = (key, count) => (count === 1 ? t(`${key}One`, { count }) : t(key, { count }));

  // ---------------------------------------------------------------------------------------
  // Wiring
  // ---------------------------------------------------------------------------------------

  ui.log.filters.addEventListener('submit', applyFilters);
  // Choosing who is a complete choice: it applies at once (with what is typed as the action).
  ui.log.actor.addEventListener('change', () => applyFilters());
  ui.log.action.addEventListener('input', () => {
    if (logError.shown) logError.set(null);
    ui.log.clear.hidden = !state.filters.action && !state.filters.actor && !ui.log.action.value && !ui.log.actor.value;
  });
  ui.log.clear.addEventListener('click', clearFilters);
  ui.log.refresh.addEventListener('click', () => {
    loadDirectory();
    refreshLog();
    if (!state.retention) loadRetention();
  });
  ui.log.exportButton.addEventListener('click', exportLog);
  ui.log.more.addEventListener('click', loadOlder);

  ui.retention.form.addEventListener('submit', saveRetention);
  ui.retention.days.addEventListener('input', () => {
    state.retentionDirty = true;
    if (retentionError.shown) retentionError.set(null);
    if (retentionDone) setRetentionDone(null);
  });

  ui.visitor.form.addEventListener('submit', exportVisitor);
  ui.visitor.erase.addEventListener('click', askErase);
  ui.visitor.id.addEventListener('input', () => {
    if (visitorError.shown) visitorError.set(null);
    if (visitorDone) setVisitorDone(null);
  });

  ui.erase.submit.addEventListener('click', confirmErase);
  ui.erase.cancel.addEventListener('click', closeErase);
  ui.erase.dialog.addEventListener('cancel', (event) => {
    // Escape while the erasure runs would hide its outcome.
    if (ui.erase.submit.disabled) event.preventDefault();
  });
  ui.erase.dialog.addEventListener('close', () => {
    const opener = erasing?.opener;
    erasing = null;
    eraseError.set(null);
    returnFocus(opener, ui.visitor.id);
  });
  closeOnBackdrop(ui.erase.dialog, () => ui.erase.submit.disabled);

  // ---------------------------------------------------------------------------------------
  // What admin.js calls
  // ---------------------------------------------------------------------------------------

  /** The section is on screen: read the log, who is who and the retention again. */
  function show() {
    if (state.visible) return;
    state.visible = true;
    renderActorOptions();
    renderLog();
    renderRetention();
    loadDirectory();
    refreshLog();
    loadRetention();
  }

  /** Another section is on screen: stop reading. */
  function hide() {
    state.visible = false;
    logGeneration += 1;
    logAbort?.abort();
    logAbort = null;
    state.loadingMore = false;
  }

  /** Another session: forget everything shown and typed. */
  function reset() {
    hide();
    directoryGeneration += 1;
    state.directoryRead = false;
    state.events = [];
    state.nextBefore = null;
    state.loaded = false;
    state.filters = { action: '', actor: '' };
    state.agents = new Map();
    state.departments = new Map();
    state.retention = null;
    state.retentionDirty = false;
    rows.clear();
    ui.log.body.replaceChildren();
    ui.log.action.value = '';
    ui.log.actor.value = '';
    ui.retention.days.value = '';
    ui.visitor.id.value = '';
    closeErase();
    logError.set(null);
    retentionError.set(null);
    setRetentionDone(null);
    visitorError.set(null);
    setVisitorDone(null);
    renderActorOptions();
    renderLog();
    renderRetention();
  }

  function retranslate() {
    ui.log.actor.dataset.signature = '';
    renderActorOptions();
    renderLog();
    renderRetention();
    logError.retranslate();
    retentionError.retranslate();
    if (retentionDone) ui.retention.done.textContent = retentionDone();
    visitorError.retranslate();
    if (visitorDone) ui.visitor.done.textContent = visitorDone();
    if (!visitorBusy) setBusy(ui.visitor.exportButton, false, 'admin.visitorData.export');
    if (!state.exporting) setBusy(ui.log.exportButton, false, 'admin.audit.export');
    renderEraseDialog();
    eraseError.retranslate();
  }

  return { show, hide, reset, retranslate };
}
