// Switchboard: the signed-in agent's own account security, one dialog shared by the agent
// console and the admin dashboard (each loads this module the first time it is opened).
//
// Two-factor authentication (`/v1/me/two-factor`): its state, turning it on (a new secret from
// `setup`, shown once as a key in groups of four and as an `otpauth://` link for an authenticator
// app on this device, then confirmed with a first code) and off (with a current code). Sessions
// (`/v1/me/sessions`): where this agent is signed in, with this browser's marked "This device";
// any other one can be signed out, or all of them at once. The server closes the console sockets
// of an ended session within a heartbeat.
//
// The dialog is built here rather than in each page's HTML, so both pages show the same one.
// Its fixed texts carry `data-i18n` (the pages re-apply translations on a language switch);
// everything from the server (addresses, user agents, the secret) is set with textContent. The
// secret lives only in the dialog while the setup is shown and is removed when it ends.

import { t, applyTranslations, formatDateTime } from './i18n.js';
import { el, bearer, ApiFailure, copyText, TOTP_RE, readTotp } from './common.js';

const COPIED_MS = 4_000;
const ICONS = {
  desktop: '<rect x="3" y="4" width="18" height="12" rx="2"/><path d="M8 20h8M12 16v4"/>',
  phone: '<rect x="7" y="2.5" width="10" height="19" rx="2.2"/><path d="M11 18.5h2"/>',
  close: '<path d="M6 6l12 12M18 6L6 18"/>',
  copy: '<rect x="8.5" y="8.5" width="11" height="11" rx="2"/><path d="M15.5 8.5V6a1.5 1.5 0 0 0-1.5-1.5H6A1.5 1.5 0 0 0 4.5 6v8A1.5 1.5 0 0 0 6 15.5h2.5"/>',
  link: '<path d="M14 4h6v6M20 4l-9 9"/><path d="M18 14v4.5A1.5 1.5 0 0 1 16.5 20h-11A1.5 1.5 0 0 1 4 18.5v-11A1.5 1.5 0 0 1 5.5 6H10"/>',
};

/** An inline icon from the constant set above (never from data). */
function icon(name, size = 16) {
  const span = el('span', { class: 'btn-icon', 'aria-hidden': 'true' });
  span.innerHTML = `<svg viewBox="0 0 24 24" width="${size}" height="${size}" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round">${ICONS[name]}</svg>`;
  return span;
}

/** An element whose text is `data-i18n` (translated now and on every language switch). */
const i18n = (tag, key, attributes = {}) => el(tag, { ...attributes, 'data-i18n': key }, t(key));

/** "ABCD EFGH IJKL …": a base32 secret in groups of four, for typing it into an app by hand. */
export const groupSecret = (secret) => (String(secret).replace(/[^A-Za-z2-7]/g, '').toUpperCase().match(/.{1,4}/g) ?? []).join(' ');

/** A user agent in words: "Chrome on Linux"; null when it names no known browser. */
export function describeAgent(userAgent) {
  const ua = String(userAgent || '');
  const browser = [
    [/Edg(e|A|iOS)?\//, 'Edge'],
    [/OPR\/|Opera/, 'Opera'],
    [/Firefox\/|FxiOS\//, 'Firefox'],
    [/SamsungBrowser\//, 'Samsung Internet'],
    [/Chrome\/|CriOS\/|Chromium\//, 'Chrome'],
    [/Version\/[\d.]+.*Safari\//, 'Safari'],
  ].find(([pattern]) => pattern.test(ua))?.[1];
  if (!browser) return null;
  const os = [
    [/iPhone|iPad|iPod/, 'iOS'],
    [/Android/, 'Android'],
    [/CrOS/, 'ChromeOS'],
    [/Windows/, 'Windows'],
    [/Mac OS X|Macintosh/, 'macOS'],
    [/Linux|X11/, 'Linux'],
  ].find(([pattern]) => pattern.test(ua))?.[1];
  return { browser, os: os ?? null, mobile: /Mobile|iPhone|Android/.test(ua) };
}

const toDate = (value) => {
  const date = value ? new Date(value) : null;
  return date && !Number.isNaN(date.getTime()) ? date : null;
};

/** A session as the API sends it, with every field of the right type. */
function normalizeSession(raw) {
  return {
    id: String(raw.id),
    created_at: toDate(raw.created_at),
    expires_at: toDate(raw.expires_at),
    client_ip: String(raw.client_ip ?? ''),
    user_agent: String(raw.user_agent ?? ''),
    current: raw.current === true,
  };
}

/**
 * Builds the dialog. `ctx`: `token()` (the session's token, or null) and `onUnauthorized()` (the
 * session ended: the page returns to sign-in).
 * Returns `{ open(opener), reset(), retranslate() }`.
 */
export function createSecurity(ctx) {
  const { token, onUnauthorized } = ctx;

  // ---------------------------------------------------------------------------------------
  // The dialog
  // ---------------------------------------------------------------------------------------

  const dialog = el('dialog', { class: 'dialog dialog-wide security-dialog', id: 'security-dialog', 'data-testid': 'security-dialog', 'aria-labelledby': 'security-title', 'aria-describedby': 'security-subtitle' });
  const form = el('div', { class: 'dialog-form' });
  const head = el('header', { class: 'dialog-head' });
  const heading = el('div', { class: 'dialog-heading' });
  heading.append(
    i18n('h2', 'security.title', { class: 'dialog-title', id: 'security-title' }),
    i18n('p', 'security.subtitle', { class: 'muted dialog-subtitle', id: 'security-subtitle' }),
  );
  const closeButton = el('button', { type: 'button', class: 'icon-button', 'data-i18n-aria-label': 'dialog.close', 'data-i18n-title': 'dialog.close' });
  closeButton.appendChild(icon('close', 18));
  head.append(heading, closeButton);

  // Two-factor authentication
  const tf = {};
  tf.section = el('section', { class: 'security-section', 'data-testid': 'security-2fa', 'aria-labelledby': 'security-2fa-title' });
  const tfHead = el('div', { class: 'security-section-head' });
  tf.title = i18n('h3', 'security.2fa.title', { class: 'security-section-title', id: 'security-2fa-title', tabindex: '-1' });
  tf.badge = el('span', { class: 'security-badge', 'data-testid': 'security-2fa-state', 'data-state': 'loading' });
  tfHead.append(tf.title, tf.badge);
  tf.text = el('p', { class: 'security-text', 'data-testid': 'security-2fa-text' });
  tf.start = el('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'security-2fa-start' });
  tf.stop = i18n('button', 'security.2fa.stop', { type: 'button', class: 'btn btn-outline', 'data-testid': 'security-2fa-stop' });
  tf.actions = el('div', { class: 'security-actions' });
  tf.actions.append(tf.start, tf.stop);

  // Setting up: the key (and the link for an app on this device), then a first code.
  tf.setup = el('ol', { class: 'security-steps', 'data-testid': 'security-2fa-setup' });
  const stepKey = el('li', { class: 'security-step' });
  const stepKeyText = i18n('p', 'security.2fa.stepKey', { class: 'security-step-title', id: 'security-2fa-key-label' });
  tf.link = el('a', { class: 'btn btn-outline btn-small security-link', 'data-testid': 'security-2fa-link' });
  const linkText = i18n('span', 'security.2fa.link');
  tf.link.append(icon('link', 14), linkText);
  const keyLabel = i18n('p', 'security.2fa.keyLabel', { class: 'security-key-label' });
  const keyBox = el('div', { class: 'secret-box security-key-box' });
  tf.secret = el('code', { class: 'totp-secret', id: 'security-2fa-secret', 'data-testid': 'security-2fa-secret' });
  tf.copy = el('button', { type: 'button', class: 'btn btn-outline', 'data-testid': 'security-2fa-copy' });
  tf.copy.append(icon('copy', 15), i18n('span', 'security.2fa.copy'));
  keyBox.append(tf.secret, tf.copy);
  tf.copied = el('p', { class: 'form-ok security-copied', role: 'status', 'data-testid': 'security-2fa-copied', hidden: '' });
  const keyHint = i18n('p', 'security.2fa.keyHint', { class: 'field-hint' });
  stepKey.append(stepKeyText, tf.link, keyLabel, keyBox, keyHint, tf.copied);
  const stepCode = el('li', { class: 'security-step' });
  tf.enableForm = el('form', { class: 'security-code-form', novalidate: '' });
  const enableLabel = i18n('label', 'security.2fa.stepCode', { for: 'security-2fa-code', class: 'security-step-title' });
  const enableRow = el('div', { class: 'inline-form security-code-row' });
  tf.code = el('input', { id: 'security-2fa-code', class: 'totp-input', 'data-testid': 'security-2fa-code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '7', autocapitalize: 'off', spellcheck: 'false', 'aria-describedby': 'security-2fa-key-label security-2fa-secret' });
  tf.enable = el('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'security-2fa-enable' });
  tf.cancelSetup = i18n('button', 'dialog.cancel', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'security-2fa-cancel' });
  enableRow.append(tf.code, tf.enable, tf.cancelSetup);
  tf.enableForm.append(enableLabel, enableRow);
  stepCode.appendChild(tf.enableForm);
  tf.setup.append(stepKey, stepCode);

  // Turning it off: a current code.
  tf.disableForm = el('form', { class: 'security-code-form', 'data-testid': 'security-2fa-off-form', novalidate: '' });
  const disableLabel = i18n('label', 'security.2fa.offCode', { for: 'security-2fa-off-code', class: 'security-step-title' });
  const disableRow = el('div', { class: 'inline-form security-code-row' });
  tf.offCode = el('input', { id: 'security-2fa-off-code', class: 'totp-input', 'data-testid': 'security-2fa-off-code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '7', autocapitalize: 'off', spellcheck: 'false' });
  tf.disable = el('button', { type: 'submit', class: 'btn btn-danger', 'data-testid': 'security-2fa-disable' });
  tf.cancelOff = i18n('button', 'dialog.cancel', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'security-2fa-off-cancel' });
  disableRow.append(tf.offCode, tf.disable, tf.cancelOff);
  tf.disableForm.append(disableLabel, disableRow);

  tf.error = el('p', { class: 'form-error', role: 'alert', 'data-testid': 'security-2fa-error', hidden: '' });
  tf.done = el('p', { class: 'form-ok', role: 'status', 'data-testid': 'security-2fa-done', hidden: '' });
  tf.section.append(tfHead, tf.text, tf.actions, tf.setup, tf.disableForm, tf.error, tf.done);

  // Sessions
  const ss = {};
  ss.section = el('section', { class: 'security-section', 'data-testid': 'security-sessions-card', 'aria-labelledby': 'security-sessions-title' });
  const ssHead = el('div', { class: 'security-section-head' });
  const ssTitle = el('h3', { class: 'security-section-title', id: 'security-sessions-title', tabindex: '-1' });
  const ssTitleText = i18n('span', 'security.sessions.title');
  ss.count = el('span', { class: 'count', 'data-testid': 'security-sessions-count' }, '0');
  ssTitle.append(ssTitleText, ss.count);
  ss.others = el('button', { type: 'button', class: 'btn btn-outline btn-small', 'data-testid': 'security-revoke-others' });
  ssHead.append(ssTitle, ss.others);
  ss.hint = i18n('p', 'security.sessions.hint', { class: 'security-text' });
  ss.list = el('ul', { class: 'session-list', 'data-testid': 'security-sessions', 'aria-labelledby': 'security-sessions-title' });
  ss.empty = el('p', { class: 'field-hint', 'data-testid': 'security-sessions-empty', hidden: '' });
  ss.error = el('p', { class: 'form-error', role: 'alert', 'data-testid': 'security-sessions-error', hidden: '' });
  ss.done = el('p', { class: 'form-ok', role: 'status', 'data-testid': 'security-sessions-done', hidden: '' });
  ss.section.append(ssHead, ss.hint, ss.list, ss.empty, ss.error, ss.done);

  const body = el('div', { class: 'dialog-body security-body' });
  body.append(tf.section, ss.section);
  const foot = el('footer', { class: 'dialog-foot' });
  const doneButton = i18n('button', 'dialog.done', { type: 'button', class: 'btn btn-outline', 'data-testid': 'security-done' });
  foot.appendChild(doneButton);
  form.append(head, body, foot);
  dialog.appendChild(form);
  document.body.appendChild(dialog);
  applyTranslations(dialog);

  // ---------------------------------------------------------------------------------------
  // REST
  // ---------------------------------------------------------------------------------------

  let generation = 0; // answers for an earlier opening or session are dropped

  /** Calls the API with the session's token; resolves to the JSON body, rejects with ApiFailure. */
  async function api(method, path, payload) {
    const session = token();
    if (!session) throw new ApiFailure(401, 'unauthorized');
    const headers = bearer(session);
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, { method, headers, body: payload === undefined ? undefined : JSON.stringify(payload), cache: 'no-store' });
    const json = response.status === 204 ? {} : await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiFailure(response.status, json?.error?.code, json?.error?.message);
    return json;
  }

  /** A 401 ends the session here and on the page; true when it did. */
  function ended(error) {
    if (error instanceof ApiFailure && error.status === 401) {
      close();
      onUnauthorized();
      return true;
    }
    return false;
  }

  // A message line: `text` is a function, so that it follows a language switch.
  function line(node) {
    let text = null;
    return {
      set(next) {
        text = next;
        node.textContent = next ? next() : '';
        node.hidden = !next;
      },
      retranslate() {
        if (text) node.textContent = text();
      },
    };
  }

  function failureText(error) {
    if (!(error instanceof ApiFailure)) return () => t('login.failed');
    if (error.code === 'rate_limited') return () => t('admin.error.rateLimited');
    return () => t('error.generic');
  }

  // ---------------------------------------------------------------------------------------
  // Two-factor authentication
  // ---------------------------------------------------------------------------------------

  const two = { state: 'loading', secret: '', uri: '', busy: false }; // loading | error | off | setup | on | disabling
  const tfError = line(tf.error);
  const tfDone = line(tf.done);
  let copiedTimer = null;

  function markInvalid(input, invalid) {
    if (invalid) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  function renderTwoFactor() {
    const { state } = two;
    const on = state === 'on' || state === 'disabling';
    tf.section.dataset.state = state;
    tf.badge.dataset.state = on ? 'on' : state === 'off' || state === 'setup' ? 'off' : state;
    tf.badge.textContent = on ? t('security.2fa.on') : state === 'off' || state === 'setup' ? t('security.2fa.off') : state === 'error' ? '—' : t('security.loading');
    tf.badge.hidden = state === 'error';
    const textKey = { loading: 'security.loading', error: 'security.2fa.unavailable', off: 'security.2fa.offText', setup: 'security.2fa.setupText', on: 'security.2fa.onText', disabling: 'security.2fa.onText' }[state];
    tf.text.textContent = t(textKey);
    tf.actions.hidden = !(state === 'off' || state === 'on');
    tf.start.hidden = state !== 'off';
    tf.stop.hidden = state !== 'on';
    tf.start.disabled = two.busy;
    if (!two.busy) tf.start.textContent = t('security.2fa.start');
    tf.setup.hidden = state !== 'setup';
    tf.disableForm.hidden = state !== 'disabling';
    if (state === 'setup') {
      tf.secret.textContent = groupSecret(two.secret);
      // Only an otpauth: address becomes a link (what the server sends is data like any other).
      if (/^otpauth:\/\//i.test(two.uri)) {
        tf.link.href = two.uri;
        tf.link.hidden = false;
      } else {
        tf.link.removeAttribute('href');
        tf.link.hidden = true;
      }
    }
    if (!two.busy) {
      tf.enable.textContent = t('security.2fa.enable');
      tf.disable.textContent = t('security.2fa.disable');
    }
    tf.enable.disabled = two.busy;
    tf.disable.disabled = two.busy;
  }

  /** Forgets the secret shown during a setup (the page holds it nowhere else). */
  function forgetSecret() {
    two.secret = '';
    two.uri = '';
    tf.secret.textContent = '';
    tf.link.removeAttribute('href');
    tf.code.value = '';
    tf.copied.hidden = true;
    clearTimeout(copiedTimer);
  }

  async function loadTwoFactor() {
    const current = generation;
    try {
      const answer = await api('GET', '/v1/me/two-factor');
      if (current !== generation) return;
      // A setup in progress stays on screen until it is finished or cancelled.
      if (two.state !== 'setup' && two.state !== 'disabling') two.state = answer?.enabled === true ? 'on' : 'off';
    } catch (error) {
      if (current !== generation || ended(error)) return;
      if (two.state === 'loading') two.state = 'error';
    }
    renderTwoFactor();
  }

  async function startSetup() {
    if (two.busy) return;
    two.busy = true;
    tfError.set(null);
    tfDone.set(null);
    tf.start.textContent = t('security.2fa.starting');
    renderTwoFactor();
    const current = generation;
    try {
      const answer = await api('POST', '/v1/me/two-factor/setup');
      if (current !== generation) return;
      two.secret = String(answer?.secret ?? '');
      two.uri = String(answer?.otpauth_uri ?? '');
      two.state = 'setup';
      two.busy = false;
      renderTwoFactor();
      tf.code.value = '';
      markInvalid(tf.code, false);
      tf.code.focus();
    } catch (error) {
      if (current !== generation || ended(error)) return;
      two.busy = false;
      if (error instanceof ApiFailure && error.code === 'invalid_argument') {
        // Turned on meanwhile (in another tab): show what the server has.
        tfError.set(() => t('security.2fa.changed'));
        loadTwoFactor();
      } else {
        tfError.set(failureText(error));
      }
      renderTwoFactor();
    }
  }

  function cancelSetup() {
    forgetSecret();
    tfError.set(null);
    two.state = 'off';
    renderTwoFactor();
    tf.start.focus();
  }

  /** The code typed in `input`, or null after saying what is wrong with it. */
  function readCode(input) {
    const code = readTotp(input.value);
    if (!TOTP_RE.test(code)) {
      tfError.set(() => t(code ? 'login.totpFormat' : 'login.totpMissing'));
      markInvalid(input, true);
      input.focus();
      return null;
    }
    return code;
  }

  /** Sends a code to `enable` or `disable`; the server answers 204, or 400 `invalid_totp`. */
  async function sendCode(action, input) {
    if (two.busy) return;
    tfDone.set(null);
    const code = readCode(input);
    if (!code) return;
    tfError.set(null);
    markInvalid(input, false);
    two.busy = true;
    const button = action === 'enable' ? tf.enable : tf.disable;
    button.textContent = t(action === 'enable' ? 'security.2fa.enabling' : 'security.2fa.disabling');
    renderTwoFactor();
    const current = generation;
    try {
      await api('POST', `/v1/me/two-factor/${action}`, { code });
      if (current !== generation) return;
      two.busy = false;
      input.value = '';
      if (action === 'enable') {
        forgetSecret();
        two.state = 'on';
        tfDone.set(() => t('security.2fa.enabled'));
      } else {
        two.state = 'off';
        tfDone.set(() => t('security.2fa.disabled'));
      }
      renderTwoFactor();
      tf.title.focus();
    } catch (error) {
      if (current !== generation || ended(error)) return;
      two.busy = false;
      if (error instanceof ApiFailure && error.code === 'invalid_totp') {
        input.value = '';
        tfError.set(() => t('security.2fa.invalidCode'));
        markInvalid(input, true);
      } else if (error instanceof ApiFailure && error.code === 'invalid_argument') {
        // The setup was replaced, or two-factor was switched elsewhere: start from what is true now.
        forgetSecret();
        tfError.set(() => t('security.2fa.changed'));
        two.state = 'loading';
        loadTwoFactor();
      } else {
        tfError.set(failureText(error));
      }
      renderTwoFactor();
      if (input.isConnected && !input.closest('[hidden]')) input.focus();
    }
  }

  function askDisable() {
    tfError.set(null);
    tfDone.set(null);
    two.state = 'disabling';
    tf.offCode.value = '';
    markInvalid(tf.offCode, false);
    renderTwoFactor();
    tf.offCode.focus();
  }

  function cancelDisable() {
    tfError.set(null);
    tf.offCode.value = '';
    two.state = 'on';
    renderTwoFactor();
    tf.stop.focus();
  }

  async function copySecret() {
    const copied = await copyText(tf.secret.textContent.replace(/\s+/g, ''));
    tf.copied.textContent = copied ? t('security.2fa.copied') : t('admin.secret.copyFailed');
    tf.copied.classList.toggle('is-failed', !copied);
    tf.copied.hidden = false;
    clearTimeout(copiedTimer);
    copiedTimer = setTimeout(() => (tf.copied.hidden = true), COPIED_MS);
  }

  // ---------------------------------------------------------------------------------------
  // Sessions
  // ---------------------------------------------------------------------------------------

  const sessions = { list: null, failed: false, busy: new Set(), othersBusy: false };
  const ssError = line(ss.error);
  const ssDone = line(ss.done);

  async function loadSessions() {
    const current = generation;
    try {
      const answer = await api('GET', '/v1/me/sessions');
      if (current !== generation) return;
      sessions.list = (Array.isArray(answer?.sessions) ? answer.sessions : [])
        .filter((session) => session && session.id)
        .map(normalizeSession)
        // This device first, then the newest.
        .sort((a, b) => Number(b.current) - Number(a.current) || (b.created_at?.getTime() ?? 0) - (a.created_at?.getTime() ?? 0));
      sessions.failed = false;
    } catch (error) {
      if (current !== generation || ended(error)) return;
      sessions.failed = true;
    }
    renderSessions();
  }

  /** "Chrome on Linux", "Safari on iOS"; else the user agent as sent (or "Unknown device"). */
  function deviceName(session) {
    const known = describeAgent(session.user_agent);
    if (known) return known.os ? t('security.sessions.device', { browser: known.browser, os: known.os }) : known.browser;
    return session.user_agent || t('security.sessions.unknown');
  }

  const items = new Map(); // session id → { li, parts }

  function buildItem(id) {
    const li = el('li', { class: 'session-item', 'data-testid': 'security-session', 'data-session-id': id });
    const mark = el('span', { class: 'session-mark', 'aria-hidden': 'true' });
    const main = el('div', { class: 'session-main' });
    const top = el('div', { class: 'session-top' });
    const name = el('span', { class: 'session-device', 'data-testid': 'security-session-device' });
    const current = el('span', { class: 'pill pill-small session-current', 'data-testid': 'security-session-current' });
    top.append(name, current);
    const meta = el('span', { class: 'session-meta', 'data-testid': 'security-session-meta' });
    main.append(top, meta);
    const revoke = el('button', { type: 'button', class: 'btn btn-ghost btn-small session-revoke', 'data-testid': 'security-session-revoke' });
    revoke.addEventListener('click', () => revokeOne(id));
    li.append(mark, main, revoke);
    const item = { li, parts: { mark, name, current, meta, revoke } };
    items.set(id, item);
    return item;
  }

  function renderItem(item, session) {
    const { li, parts } = item;
    li.dataset.current = String(session.current);
    li.classList.toggle('is-current', session.current);
    const device = deviceName(session);
    const mobile = describeAgent(session.user_agent)?.mobile === true;
    if (parts.mark.dataset.kind !== (mobile ? 'phone' : 'desktop')) {
      parts.mark.dataset.kind = mobile ? 'phone' : 'desktop';
      parts.mark.replaceChildren(icon(mobile ? 'phone' : 'desktop', 18));
    }
    parts.name.textContent = device;
    parts.name.title = session.user_agent;
    parts.current.hidden = !session.current;
    parts.current.textContent = t('security.sessions.current');
    const bits = [];
    if (session.client_ip) bits.push(session.client_ip);
    if (session.created_at) bits.push(t('security.sessions.since', { time: formatDateTime(session.created_at) }));
    if (session.expires_at) bits.push(t('security.sessions.until', { time: formatDateTime(session.expires_at) }));
    parts.meta.textContent = bits.join(' · ');
    // This browser signs out with Log out; the others from here.
    parts.revoke.hidden = session.current;
    const busy = sessions.busy.has(session.id);
    parts.revoke.disabled = busy || sessions.othersBusy;
    parts.revoke.textContent = busy ? t('security.sessions.revoking') : t('security.sessions.revoke');
    parts.revoke.setAttribute('aria-label', t('security.sessions.revokeLabel', { device }));
  }

  function renderSessions() {
    const list = sessions.list ?? [];
    const seen = new Set();
    const wanted = list.map((session) => {
      seen.add(session.id);
      const item = items.get(session.id) ?? buildItem(session.id);
      renderItem(item, session);
      return item.li;
    });
    for (const id of [...items.keys()]) if (!seen.has(id)) items.delete(id);
    const current = [...ss.list.children];
    if (wanted.length !== current.length || wanted.some((node, index) => node !== current[index])) ss.list.replaceChildren(...wanted);
    ss.count.textContent = String(list.length);
    const others = list.filter((session) => !session.current).length;
    ss.others.hidden = others === 0;
    ss.others.disabled = sessions.othersBusy;
    ss.others.textContent = sessions.othersBusy ? t('security.sessions.othersBusy') : t('security.sessions.others');
    let empty = '';
    if (sessions.list == null) empty = sessions.failed ? t('security.sessions.unavailable') : t('security.loading');
    else if (!others) empty = t('security.sessions.onlyThis');
    ss.empty.textContent = empty;
    ss.empty.hidden = !empty;
  }

  async function revokeOne(id) {
    const session = sessions.list?.find((known) => known.id === id);
    if (!session || sessions.busy.has(id)) return;
    const device = deviceName(session);
    sessions.busy.add(id);
    ssError.set(null);
    ssDone.set(null);
    renderSessions();
    const current = generation;
    try {
      await api('DELETE', `/v1/me/sessions/${encodeURIComponent(id)}`);
      if (current !== generation) return;
      sessions.list = sessions.list.filter((known) => known.id !== id);
      ssDone.set(() => t('security.sessions.revoked', { device }));
    } catch (error) {
      if (current !== generation || ended(error)) return;
      if (error instanceof ApiFailure && error.status === 404) {
        // Ended already (expired, or signed out elsewhere): the list is out of date.
        sessions.list = sessions.list.filter((known) => known.id !== id);
        ssDone.set(() => t('security.sessions.gone', { device }));
      } else {
        ssError.set(failureText(error));
      }
    } finally {
      sessions.busy.delete(id);
    }
    if (current !== generation) return;
    renderSessions();
    // The focus goes to the next session's button, else to the list's heading.
    const next = [...ss.list.querySelectorAll('[data-testid="security-session-revoke"]')].find((button) => !button.hidden && !button.disabled);
    (next ?? ssTitle).focus();
    loadSessions();
  }

  async function revokeOthers() {
    if (sessions.othersBusy) return;
    sessions.othersBusy = true;
    ssError.set(null);
    ssDone.set(null);
    renderSessions();
    const current = generation;
    try {
      const answer = await api('POST', '/v1/me/sessions/revoke-others');
      if (current !== generation) return;
      const count = Number(answer?.revoked) || 0;
      sessions.list = (sessions.list ?? []).filter((session) => session.current);
      ssDone.set(() => (count === 1 ? t('security.sessions.othersDoneOne') : t('security.sessions.othersDone', { count })));
    } catch (error) {
      if (current !== generation || ended(error)) return;
      ssError.set(failureText(error));
    } finally {
      sessions.othersBusy = false;
    }
    if (current !== generation) return;
    renderSessions();
    ssTitle.focus();
    loadSessions();
  }

  // ---------------------------------------------------------------------------------------
  // Wiring
  // ---------------------------------------------------------------------------------------

  let opener = null;

  tf.start.addEventListener('click', startSetup);
  tf.cancelSetup.addEventListener('click', cancelSetup);
  tf.enableForm.addEventListener('submit', (event) => {
    event.preventDefault();
    sendCode('enable', tf.code);
  });
  tf.stop.addEventListener('click', askDisable);
  tf.cancelOff.addEventListener('click', cancelDisable);
  tf.disableForm.addEventListener('submit', (event) => {
    event.preventDefault();
    sendCode('disable', tf.offCode);
  });
  for (const input of [tf.code, tf.offCode]) {
    input.addEventListener('input', () => {
      if (input.getAttribute('aria-invalid')) {
        markInvalid(input, false);
        tfError.set(null);
      }
    });
  }
  tf.copy.addEventListener('click', copySecret);
  ss.others.addEventListener('click', revokeOthers);
  closeButton.addEventListener('click', close);
  doneButton.addEventListener('click', close);
  // A click on the backdrop closes it too; a text selection that merely ends outside does not.
  let pressed = false;
  dialog.addEventListener('pointerdown', (event) => {
    pressed = event.target === dialog;
  });
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog && pressed) close();
    pressed = false;
  });
  dialog.addEventListener('close', () => {
    generation += 1;
    // The secret of an unfinished setup is not kept once the dialog is gone.
    forgetSecret();
    two.busy = false;
    sessions.busy.clear();
    sessions.othersBusy = false;
    const back = opener;
    opener = null;
    if (back?.isConnected && !back.closest('[hidden]')) back.focus();
  });

  function close() {
    if (dialog.open) dialog.close();
  }

  // ---------------------------------------------------------------------------------------
  // What the pages call
  // ---------------------------------------------------------------------------------------

  /** Opens the dialog and reads the two-factor state and the sessions afresh. */
  function open(button) {
    if (!token()) return;
    opener = button ?? null;
    generation += 1;
    two.state = 'loading';
    two.busy = false;
    forgetSecret();
    sessions.list = null;
    sessions.failed = false;
    tfError.set(null);
    tfDone.set(null);
    ssError.set(null);
    ssDone.set(null);
    renderTwoFactor();
    renderSessions();
    if (!dialog.open) dialog.showModal();
    doneButton.focus();
    loadTwoFactor();
    loadSessions();
  }

  /** Another session (or none): close and forget everything shown. */
  function reset() {
    close();
    generation += 1;
    sessions.list = null;
    items.clear();
    ss.list.replaceChildren();
    two.state = 'loading';
    forgetSecret();
  }

  function retranslate() {
    renderTwoFactor();
    renderSessions();
    tfError.retranslate();
    tfDone.retranslate();
    ssError.retranslate();
    ssDone.retranslate();
    if (!tf.copied.hidden) tf.copied.textContent = t('security.2fa.copied');
  }

  return { open, reset, retranslate };
}
