// Switchboard admin dashboard: the API tokens section (`/admin#tokens`).
//
// The workspace's tokens (`GET /v1/admin/api-tokens`, newest first): name, the first characters
// Switchboard keeps of each (`prefix`), scopes, requests per minute, who created it and when,
// when it was last used, and whether it is active, expired or revoked (with its expiry). A new
// token is created in a dialog that checks what the server checks (a name of 1–100 characters,
// at least one scope, 1–60000 requests a minute, 0–3650 days); the answer holds the token
// itself, which is shown once in a dialog with Copy and forgotten when that closes. Revoking asks
// first, in the page. The list is read when the section opens and after every change here; it
// is not polled (`last_used_at` moves at most once a minute anyway).
//
// admin.js loads this module the first time the section opens and hands it its REST helpers
// (`ctx`), so all sections share one session and one way of showing errors. Names, prefixes and
// server messages are only ever set with textContent.

import { t, getLanguage } from './i18n.js';
import { $, el, syncChildren, copyText } from './common.js';

export const SCOPES = ['read', 'write', 'admin'];
const MAX_NAME = 100;
const MAX_RATE = 60_000;
const MAX_EXPIRY_DAYS = 3650;
const DEFAULT_RATE = 600;
const COPIED_MS = 4_000;

const TOKEN_LABELS = {
  name: 'admin.token.name',
  scopes: 'admin.token.scopes',
  rate_per_minute: 'admin.token.rate',
  expires_in_days: 'admin.token.expiry',
};

const toDate = (value) => {
  const date = value ? new Date(value) : null;
  return date && !Number.isNaN(date.getTime()) ? date : null;
};

/** A token as the API sends it, with every field of the right type (never its secret). */
function normalizeToken(raw) {
  return {
    id: String(raw.id),
    name: String(raw.name ?? ''),
    scopes: (Array.isArray(raw.scopes) ? raw.scopes.map(String) : []).sort((a, b) => SCOPES.indexOf(a) - SCOPES.indexOf(b)),
    prefix: String(raw.prefix ?? ''),
    rate_per_minute: Number(raw.rate_per_minute) || 0,
    created_by: raw.created_by == null ? '' : String(raw.created_by),
    created_at: toDate(raw.created_at),
    last_used_at: toDate(raw.last_used_at),
    expires_at: toDate(raw.expires_at),
    revoked_at: toDate(raw.revoked_at),
  };
}

/** active | expired | revoked, as the server decides on the next request. */
function tokenState(token, now = new Date()) {
  if (token.revoked_at) return 'revoked';
  if (token.expires_at && token.expires_at <= now) return 'expired';
  return 'active';
}

/** "15:27" today, "28 Nov, 15:27" on another day of this year, with the year before. */
function shortTime(date) {
  const now = new Date();
  const options = { hour: 'numeric', minute: '2-digit' };
  if (date.toDateString() !== now.toDateString()) {
    Object.assign(options, { month: 'short', day: 'numeric' });
    if (date.getFullYear() !== now.getFullYear()) options.year = 'numeric';
  }
  return new Intl.DateTimeFormat(getLanguage(), options).format(date);
}

const longTime = (date) => new Intl.DateTimeFormat(getLanguage(), { dateStyle: 'medium', timeStyle: 'medium' }).format(date);
const dayOf = (date) => new Intl.DateTimeFormat(getLanguage(), { dateStyle: 'medium' }).format(date);

/** Sets `node` to a short time with the full one as its tooltip, or to `fallback`. */
function setTime(node, date, fallback) {
  node.textContent = date ? shortTime(date) : fallback;
  if (date) node.title = longTime(date);
  else node.removeAttribute('title');
}

/** A whole number typed in a number box: null when empty, NaN when not a whole number. */
function wholeNumber(input) {
  const text = input.value.trim();
  if (!text) {
    // A number box answers '' for what it cannot read ("1e", "2.5.1"); that is not "empty".
    return input.validity?.badInput ? Number.NaN : null;
  }
  return /^\d+$/.test(text) ? Number(text) : Number.NaN;
}

/**
 * Builds the section. `ctx` comes from admin.js: `api(method, path, body, signal)`,
 * `ApiFailure`, `handledAuthFailure(error)`, `showToast(text)`, `formError(node, inputs)`,
 * `readFailure(error, labels, gone)`, `setBusy(button, busy, idleKey, busyKey)`,
 * `closeOnBackdrop(dialog, busy)` and `returnFocus(button, fallback)`.
 * Returns `{ show, hide, reset, retranslate }`.
 */
export function createTokens(ctx) {
  const { api, ApiFailure, handledAuthFailure, showToast, formError, readFailure, setBusy, closeOnBackdrop, returnFocus } = ctx;

  const ui = {
    newButton: $('token-new'),
    unavailable: $('tokens-unavailable'),
    table: $('tokens-table'),
    body: $('tokens-body'),
    count: $('tokens-count'),
    summary: $('tokens-summary'),
    showRevoked: $('tokens-show-revoked'),
    empty: $('tokens-empty'),
    loading: $('tokens-loading'),
    error: $('tokens-error'),
    form: {
      dialog: $('token-dialog'),
      form: $('token-form'),
      name: $('token-name'),
      scopes: $('token-scopes'),
      rate: $('token-rate'),
      expiry: $('token-expiry'),
      error: $('token-error'),
      submit: $('token-submit'),
      cancel: $('token-cancel'),
      close: $('token-close'),
    },
    secret: {
      dialog: $('token-secret-dialog'),
      name: $('token-secret-name'),
      value: $('token-secret-value'),
      copy: $('token-secret-copy'),
      copied: $('token-secret-copied'),
      done: $('token-secret-done'),
    },
    revoke: {
      dialog: $('token-revoke-dialog'),
      target: $('token-revoke-target'),
      error: $('token-revoke-error'),
      cancel: $('token-revoke-cancel'),
      submit: $('token-revoke-submit'),
    },
  };
  const scopeInputs = [...ui.form.scopes.querySelectorAll('input[name="scopes"]')];

  const state = {
    visible: false,
    tokens: null, // array once read
    failed: false,
    agents: new Map(), // id → name (who created a token)
  };

  // ---------------------------------------------------------------------------------------
  // The list
  // ---------------------------------------------------------------------------------------

  let generation = 0; // answers from before a reset are dropped
  const listError = formError(ui.error, {});

  async function loadTokens() {
    const current = generation;
    const [tokens, agents] = await Promise.allSettled([api('GET', '/v1/admin/api-tokens'), api('GET', '/v1/admin/agents')]);
    if (current !== generation) return;
    for (const result of [tokens, agents]) {
      if (result.status === 'rejected' && handledAuthFailure(result.reason)) return;
    }
    if (agents.status === 'fulfilled') {
      state.agents = new Map(
        (Array.isArray(agents.value?.agents) ? agents.value.agents : [])
          .filter((agent) => agent && agent.id)
          .map((agent) => [String(agent.id), String(agent.name ?? '')]),
      );
    }
    if (tokens.status === 'fulfilled') {
      setTokens(tokens.value?.api_tokens);
      state.failed = false;
      listError.set(null);
    } else {
      state.failed = true;
      // What was read before stays; the line says it may be out of date.
      if (state.tokens) listError.set(() => t('admin.tokens.unavailable'));
    }
    render();
  }

  /** Newest first, as the server sends them (by creation; ids are UUIDv7 and break ties). */
  const newestFirst = (tokens) => tokens.sort((a, b) => (b.created_at?.getTime() ?? 0) - (a.created_at?.getTime() ?? 0) || b.id.localeCompare(a.id));

  function setTokens(list) {
    state.tokens = newestFirst((Array.isArray(list) ? list : []).filter((token) => token && token.id).map(normalizeToken));
  }

  /** Puts one token (as normalised) in the list in place of its older copy. */
  function upsertToken(token) {
    state.tokens = newestFirst([...(state.tokens ?? []).filter((known) => known.id !== token.id), token]);
    render();
    return token;
  }

  const findToken = (id) => state.tokens?.find((token) => token.id === id) ?? null;

  function creatorName(id) {
    if (!id) return '';
    if (state.agents.get(id)) return state.agents.get(id);
    if (id.startsWith('token:')) return t('admin.audit.apiToken', { id: id.slice('token:'.length) });
    return id;
  }

  // Rows are kept per token id and updated in place: the focus stays on a button.
  const rows = new Map(); // id → { tr, cells, parts }
  const COLUMN_KEYS = ['admin.tokens.col.name', 'admin.tokens.col.scopes', 'admin.tokens.col.rate', 'admin.tokens.col.created', 'admin.tokens.col.lastUsed', 'admin.tokens.col.status', 'admin.col.actions'];

  function buildRow(id) {
    const tr = el('tr', { class: 'token-row', 'data-testid': 'token-row', 'data-token-id': id });
    const nameCell = el('td', { class: 'token-name-cell' });
    const name = el('span', { class: 'token-name', 'data-testid': 'token-row-name' });
    const prefix = el('code', { class: 'cell-sub token-prefix', 'data-testid': 'token-row-prefix' });
    nameCell.append(name, prefix);
    const scopesCell = el('td');
    const scopes = el('span', { class: 'token-scopes', 'data-testid': 'token-row-scopes' });
    scopesCell.appendChild(scopes);
    const rateCell = el('td', { class: 'cell-number' });
    const rate = el('span', { class: 'token-rate', 'data-testid': 'token-row-rate' });
    rateCell.appendChild(rate);
    const createdCell = el('td', { class: 'cell-time' });
    const created = el('span', { class: 'time-main', 'data-testid': 'token-row-created' });
    const creator = el('span', { class: 'cell-sub token-creator', 'data-testid': 'token-row-creator' });
    createdCell.append(created, creator);
    const usedCell = el('td', { class: 'cell-time' });
    const used = el('span', { class: 'time-main', 'data-testid': 'token-row-used' });
    usedCell.appendChild(used);
    const statusCell = el('td', { class: 'cell-time' });
    const status = el('span', { class: 'token-status', 'data-testid': 'token-row-status' });
    const dot = el('span', { class: 'status-dot', 'aria-hidden': 'true' });
    const statusText = el('span');
    status.append(dot, statusText);
    const expiry = el('span', { class: 'cell-sub', 'data-testid': 'token-row-expiry' });
    statusCell.append(status, expiry);
    const actionsCell = el('td', { class: 'row-actions' });
    const revoke = el('button', { type: 'button', class: 'btn btn-ghost btn-small btn-danger-ghost', 'data-testid': 'token-revoke' });
    revoke.addEventListener('click', () => askRevoke(id, revoke));
    actionsCell.appendChild(revoke);
    const cells = [nameCell, scopesCell, rateCell, createdCell, usedCell, statusCell, actionsCell];
    tr.append(...cells);
    const row = { tr, cells, parts: { name, prefix, scopes, rate, created, creator, used, status, statusText, expiry, revoke } };
    rows.set(id, row);
    return row;
  }

  function renderRow(row, token) {
    const { tr, cells, parts } = row;
    const now = new Date();
    const current = tokenState(token, now);
    tr.dataset.state = current;
    tr.classList.toggle('is-revoked', current !== 'active');
    cells.forEach((cell, index) => cell.setAttribute('data-label', t(COLUMN_KEYS[index])));
    parts.name.textContent = token.name;
    parts.name.title = token.name;
    parts.prefix.textContent = token.prefix ? `${token.prefix}…` : '';
    parts.prefix.title = t('admin.tokens.prefixHint');
    const scopeSignature = token.scopes.join(',');
    if (parts.scopes.dataset.signature !== scopeSignature || parts.scopes.dataset.lang !== getLanguage()) {
      parts.scopes.replaceChildren(
        ...token.scopes.map((scope) => el('span', { class: 'chip chip-code token-scope', 'data-scope': scope, title: SCOPES.includes(scope) ? t(`admin.tokens.scope.${scope}.hint`) : scope }, scope)),
      );
      parts.scopes.dataset.signature = scopeSignature;
      parts.scopes.dataset.lang = getLanguage();
    }
    parts.rate.textContent = t('admin.tokens.rate', { rate: token.rate_per_minute.toLocaleString(getLanguage()) });
    setTime(parts.created, token.created_at, '—');
    const creator = creatorName(token.created_by);
    parts.creator.textContent = creator ? t('admin.tokens.by', { name: creator }) : '';
    parts.creator.hidden = !creator;
    setTime(parts.used, token.last_used_at, t('admin.tokens.never'));
    parts.used.classList.toggle('is-empty', !token.last_used_at);
    parts.status.dataset.state = current;
    parts.statusText.textContent = t(`admin.tokens.state.${current}`);
    if (current === 'revoked') {
      parts.expiry.textContent = t('admin.tokens.revokedAt', { time: shortTime(token.revoked_at) });
      parts.expiry.title = longTime(token.revoked_at);
    } else if (token.expires_at) {
      parts.expiry.textContent = t(current === 'expired' ? 'admin.tokens.expiredAt' : 'admin.tokens.expiresAt', { date: dayOf(token.expires_at) });
      parts.expiry.title = longTime(token.expires_at);
    } else {
      parts.expiry.textContent = t('admin.tokens.noExpiry');
      parts.expiry.removeAttribute('title');
    }
    // An expired token is refused anyway, but revoking it still makes that final.
    parts.revoke.hidden = current === 'revoked';
    parts.revoke.textContent = t('admin.tokens.revoke');
    parts.revoke.setAttribute('aria-label', t('admin.tokens.revokeLabel', { name: token.name }));
  }

  function render() {
    const all = state.tokens ?? [];
    const shown = ui.showRevoked.checked ? all : all.filter((token) => tokenState(token) !== 'revoked');
    const seen = new Set();
    const wanted = shown.map((token) => {
      seen.add(token.id);
      const row = rows.get(token.id) ?? buildRow(token.id);
      renderRow(row, token);
      return row.tr;
    });
    for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
    syncChildren(ui.body, wanted);
    const active = all.filter((token) => tokenState(token) === 'active').length;
    ui.count.textContent = String(active);
    ui.count.title = t('admin.tokens.activeCount', { count: active });
    ui.summary.textContent = state.tokens ? t('admin.tokens.summary', { active, total: all.length }) : '';
    ui.table.hidden = !shown.length;
    ui.empty.hidden = !(state.tokens && !all.length);
    let loading = '';
    if (!state.tokens) loading = state.failed ? '' : t('admin.tokens.loading');
    else if (all.length && !shown.length) loading = t('admin.tokens.allRevoked');
    ui.loading.textContent = loading;
    ui.loading.hidden = !loading;
    const unavailable = state.failed && !state.tokens;
    ui.unavailable.textContent = unavailable ? t('admin.tokens.unavailable') : '';
    ui.unavailable.hidden = !unavailable;
  }

  // ---------------------------------------------------------------------------------------
  // New token
  // ---------------------------------------------------------------------------------------

  const tokenError = formError(ui.form.error, {
    name: () => ui.form.name,
    scopes: () => scopeInputs[0],
    rate_per_minute: () => ui.form.rate,
    expires_in_days: () => ui.form.expiry,
  });

  function openTokenDialog() {
    ui.form.form.reset();
    for (const input of scopeInputs) input.checked = false;
    tokenError.set(null);
    setBusy(ui.form.submit, false, 'admin.token.create');
    if (!ui.form.dialog.open) ui.form.dialog.showModal();
    ui.form.name.focus();
  }

  function closeTokenDialog() {
    if (ui.form.dialog.open) ui.form.dialog.close();
  }

  /** Checks the form as the server would; returns the body, or undefined after showing why not. */
  function readTokenForm() {
    const name = ui.form.name.value.trim();
    if (!name) return void tokenError.set(() => t('admin.token.error.name', { max: MAX_NAME }), 'name');
    if ([...name].length > MAX_NAME) return void tokenError.set(() => t('admin.token.error.name', { max: MAX_NAME }), 'name');
    const scopes = scopeInputs.filter((input) => input.checked).map((input) => input.value);
    if (!scopes.length) return void tokenError.set(() => t('admin.token.error.scopes'), 'scopes');
    const body = { name, scopes };
    const rate = wholeNumber(ui.form.rate);
    if (rate != null) {
      if (!Number.isInteger(rate) || rate < 1 || rate > MAX_RATE) return void tokenError.set(() => t('admin.token.error.rate', { max: MAX_RATE }), 'rate_per_minute');
      body.rate_per_minute = rate;
    }
    const days = wholeNumber(ui.form.expiry);
    if (days != null) {
      if (!Number.isInteger(days) || days < 0 || days > MAX_EXPIRY_DAYS) return void tokenError.set(() => t('admin.token.error.expiry', { max: MAX_EXPIRY_DAYS }), 'expires_in_days');
      if (days > 0) body.expires_in_days = days;
    }
    return body;
  }

  /** A refused creation in words: the live-token limit, a field the server named, or ours. */
  function createFailure(error) {
    if (error instanceof ApiFailure && error.code === 'invalid_argument' && /at most \d+ live tokens/.test(String(error.message))) {
      return { text: () => t('admin.token.error.limit') };
    }
    return readFailure(error, TOKEN_LABELS, () => t('error.generic'));
  }

  async function createToken(event) {
    event.preventDefault();
    if (ui.form.submit.disabled) return;
    const body = readTokenForm();
    if (!body) return;
    tokenError.set(null);
    setBusy(ui.form.submit, true, 'admin.token.create', 'admin.token.creating');
    try {
      const answer = await api('POST', '/v1/admin/api-tokens', body);
      const token = answer?.api_token ? upsertToken(normalizeToken(answer.api_token)) : null;
      const secret = String(answer?.token ?? '');
      closeTokenDialog();
      showSecret(token?.name ?? body.name, secret);
    } catch (error) {
      if (handledAuthFailure(error)) return;
      const failure = createFailure(error);
      tokenError.set(failure.text, failure.field);
    } finally {
      if (ui.form.dialog.open) setBusy(ui.form.submit, false, 'admin.token.create');
    }
  }

  // ---------------------------------------------------------------------------------------
  // The token, shown once
  // ---------------------------------------------------------------------------------------

  let copiedTimer = null;

  function showSecret(name, secret) {
    ui.secret.name.textContent = name;
    ui.secret.value.value = secret;
    ui.secret.copied.hidden = true;
    if (!ui.secret.dialog.open) ui.secret.dialog.showModal();
    ui.secret.value.focus();
    ui.secret.value.select();
  }

  async function copySecret() {
    const copied = await copyText(ui.secret.value.value);
    ui.secret.copied.textContent = copied ? t('admin.tokenSecret.copied') : t('admin.secret.copyFailed');
    ui.secret.copied.classList.toggle('is-failed', !copied);
    ui.secret.copied.hidden = false;
    clearTimeout(copiedTimer);
    copiedTimer = setTimeout(() => (ui.secret.copied.hidden = true), COPIED_MS);
    if (!copied) ui.secret.value.select();
  }

  // ---------------------------------------------------------------------------------------
  // Revoking, after a confirmation in the page
  // ---------------------------------------------------------------------------------------

  let revoking = null; // { id, opener }
  const revokeError = formError(ui.revoke.error, {});

  function askRevoke(id, opener) {
    const token = findToken(id);
    if (!token) return;
    revoking = { id, opener };
    ui.revoke.target.textContent = token.prefix ? `${token.name} · ${token.prefix}…` : token.name;
    revokeError.set(null);
    setBusy(ui.revoke.submit, false, 'admin.tokens.revoke');
    ui.revoke.cancel.disabled = false;
    if (!ui.revoke.dialog.open) ui.revoke.dialog.showModal();
    // The safe choice has the focus: Enter does not revoke by accident.
    ui.revoke.cancel.focus();
  }

  async function confirmRevoke() {
    if (!revoking || ui.revoke.submit.disabled) return;
    const { id } = revoking;
    const name = findToken(id)?.name ?? '';
    revokeError.set(null);
    ui.revoke.cancel.disabled = true;
    setBusy(ui.revoke.submit, true, 'admin.tokens.revoke', 'admin.tokens.revoking');
    try {
      const answer = await api('DELETE', `/v1/admin/api-tokens/${encodeURIComponent(id)}`);
      const known = findToken(id);
      if (answer?.api_token) upsertToken(normalizeToken(answer.api_token));
      else if (known) upsertToken({ ...known, revoked_at: new Date() });
      closeRevoke();
      showToast(t('admin.tokens.revoked', { name }));
      loadTokens();
    } catch (error) {
      if (handledAuthFailure(error)) return;
      if (error instanceof ApiFailure && error.status === 404) {
        closeRevoke();
        showToast(t('admin.tokens.gone'));
        loadTokens();
        return;
      }
      revokeError.set(readFailure(error, {}, () => t('admin.tokens.gone')).text);
    } finally {
      ui.revoke.cancel.disabled = false;
      if (ui.revoke.dialog.open) setBusy(ui.revoke.submit, false, 'admin.tokens.revoke');
    }
  }

  function closeRevoke() {
    if (ui.revoke.dialog.open) ui.revoke.dialog.close();
  }

  /** The opener if it can still take the focus (a revoked row hides its button), else `fallback`. */
  const focusable = (button, fallback) => (button?.isConnected && !button.hidden ? button : fallback);

  // ---------------------------------------------------------------------------------------
  // Wiring
  // ---------------------------------------------------------------------------------------

  ui.newButton.addEventListener('click', openTokenDialog);
  ui.showRevoked.addEventListener('change', render);
  ui.form.form.addEventListener('submit', createToken);
  ui.form.cancel.addEventListener('click', closeTokenDialog);
  ui.form.close.addEventListener('click', closeTokenDialog);
  // A changed value may be the fix: the old complaint goes until the next try says otherwise.
  for (const type of ['input', 'change']) {
    ui.form.form.addEventListener(type, () => {
      if (tokenError.shown) tokenError.set(null);
    });
  }
  ui.form.dialog.addEventListener('close', () => {
    tokenError.set(null);
    // After creating, the token's dialog has the focus and gives it back itself.
    if (!ui.secret.dialog.open) returnFocus(ui.newButton, ui.newButton);
  });
  closeOnBackdrop(ui.form.dialog, () => ui.form.submit.disabled);

  ui.secret.copy.addEventListener('click', copySecret);
  ui.secret.done.addEventListener('click', () => ui.secret.dialog.close());
  // No backdrop click here: the token must not vanish by a stray click before it was copied.
  ui.secret.dialog.addEventListener('close', () => {
    // Forgotten as soon as it is closed: nothing in the page holds the token afterwards.
    ui.secret.value.value = '';
    ui.secret.copied.hidden = true;
    clearTimeout(copiedTimer);
    returnFocus(ui.newButton, ui.newButton);
  });

  ui.revoke.submit.addEventListener('click', confirmRevoke);
  ui.revoke.cancel.addEventListener('click', closeRevoke);
  ui.revoke.dialog.addEventListener('cancel', (event) => {
    // Escape while the revocation runs would hide its outcome.
    if (ui.revoke.submit.disabled) event.preventDefault();
  });
  ui.revoke.dialog.addEventListener('close', () => {
    const opener = revoking?.opener;
    revoking = null;
    revokeError.set(null);
    focusable(opener, ui.newButton).focus();
  });
  closeOnBackdrop(ui.revoke.dialog, () => ui.revoke.submit.disabled);

  // ---------------------------------------------------------------------------------------
  // What admin.js calls
  // ---------------------------------------------------------------------------------------

  /** The section is on screen: read the tokens (and who created them) again. */
  function show() {
    if (state.visible) return;
    state.visible = true;
    render();
    loadTokens();
  }

  /** Another section is on screen. */
  function hide() {
    state.visible = false;
  }

  /** Another session: forget everything shown. */
  function reset() {
    hide();
    generation += 1;
    state.tokens = null;
    state.failed = false;
    state.agents = new Map();
    rows.clear();
    ui.body.replaceChildren();
    ui.showRevoked.checked = true;
    listError.set(null);
    render();
  }

  function retranslate() {
    render();
    listError.retranslate();
    tokenError.retranslate();
    revokeError.retranslate();
    if (!ui.form.submit.disabled) setBusy(ui.form.submit, false, 'admin.token.create');
    if (!ui.revoke.submit.disabled) setBusy(ui.revoke.submit, false, 'admin.tokens.revoke');
    if (!ui.secret.copied.hidden) ui.secret.copied.textContent = t('admin.tokenSecret.copied');
  }

  // Default rate, as the hint and placeholder say.
  ui.form.rate.placeholder = String(DEFAULT_RATE);

  return { show, hide, reset, retranslate };
}
