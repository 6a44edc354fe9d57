// Helpers shared by the agent console (agent.js) and the admin dashboard (admin.js).
//
// Both pages are one session seen from two places: the same token under the same localStorage
// keys, the same avatar colours, the same sign-in form. Keeping that code here keeps the two
// pages from drifting apart. (The visitor widget is a self-contained classic script and does not
// use this module.)

import { t, otherLanguage, setLanguage, LANGUAGES } from './i18n.js';

/// Shared by both pages: signing in to one signs in to the other. Never rename these keys.
export const TOKEN_KEY = 'switchboard.console.token';
export const AGENT_KEY = 'switchboard.console.agent';

/// Short for getElementById.
export const $ = (id) => document.getElementById(id);

/// localStorage read that survives private mode or disabled storage (answers null).
export function storageGet(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/// localStorage write; `null` removes. Private mode or full storage: the page still works for its lifetime.
export function storageSet(key, value) {
  try {
    if (value == null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // Nothing to do: the value just does not outlive this page.
  }
}

/// Parses a stored JSON value; anything missing or malformed gives `fallback`.
export function readJson(key, fallback) {
  try {
    return JSON.parse(storageGet(key) ?? '') ?? fallback;
  } catch {
    return fallback;
  }
}

/// Creates an element; `text` is set with textContent, never parsed as HTML.
export function el(tag, attributes = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text != null) node.textContent = text;
  return node;
}

/// Puts `wanted` in `parent` in that order, moving nodes only if the order changed (focus and hover stay).
export function syncChildren(parent, wanted) {
  const current = [...parent.children];
  if (wanted.length !== current.length || wanted.some((node, index) => node !== current[index])) {
    parent.replaceChildren(...wanted);
  }
}

/// Ids are UUIDv7: the leading digits are a timestamp shared by everyone who arrived in the same
/// minute, so the short form uses the random tail.
export const shortId = (id) => String(id || '').replace(/-/g, '').slice(-8);

/// One palette and hash for both pages, so a person has the same colour everywhere.
const AVATAR_COLOURS = ['#4263eb', '#0c8599', '#2f9e44', '#e8590c', '#ae3ec9', '#1971c2', '#c2255c', '#5f3dc4'];
export function avatarColour(id) {
  let hash = 0;
  for (const char of String(id)) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return AVATAR_COLOURS[hash % AVATAR_COLOURS.length];
}

/// Two letters for an avatar: first and last word, or the start of a single word.
export function initials(name) {
  const words = String(name || '').trim().split(/\s+/).filter(Boolean);
  if (!words.length) return '?';
  // CJK names have no spaces: take the first character.
  if (words.length === 1) return [...words[0]].slice(0, words[0].match(/^[\x00-\x7f]+$/) ? 2 : 1).join('').toUpperCase();
  return (words[0][0] + words[words.length - 1][0]).toUpperCase();
}

/// Shows the signed-in person (name and avatar) in the top bar.
export function renderPerson(nameNode, avatarNode, agent) {
  const name = agent?.name || '';
  nameNode.textContent = name;
  avatarNode.textContent = initials(name);
  avatarNode.style.background = avatarColour(agent?.id || name);
}

/// The Authorization header for REST calls made with the session's token.
export const bearer = (token) => ({ Authorization: `Bearer ${token}` });

// ---------------------------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------------------------

/// Stores the token (`null` forgets it); other tabs of either page hear of it via `storage` events.
export function saveToken(token) {
  storageSet(TOKEN_KEY, token);
}

/// Stores `{ id, name }` so that either page shows the name at once after a reload.
export function saveAgent(agent) {
  storageSet(AGENT_KEY, JSON.stringify(agent));
}

/// The stored token, or null when signed out.
export const storedToken = () => storageGet(TOKEN_KEY);

/// The stored `{ id, name }`, or null.
export const storedAgent = () => readJson(AGENT_KEY, null);

/// Ends the session on the server too; best effort, the token is gone from this browser either way.
export async function revokeToken(token) {
  if (!token) return;
  try {
    await fetch('/v1/auth/logout', { method: 'POST', headers: bearer(token), keepalive: true });
  } catch {
    // The session expires on its own.
  }
}

/// The sign-in screen's elements (same ids on both pages), to spread into a page's `ui`.
export const loginElements = () => ({
  login: $('login-screen'),
  loginForm: $('login-form'),
  loginEmail: $('login-email'),
  loginPassword: $('login-password'),
  loginTotpField: $('login-totp-field'),
  loginTotp: $('login-totp'),
  loginError: $('login-error'),
  loginSubmit: $('login-submit'),
  loginLangSlot: $('login-lang-slot'),
});

/// Six digits; spaces (as authenticator apps show "123 456") are ignored.
export const TOTP_RE = /^\d{6}$/;
export const readTotp = (text) => String(text ?? '').replace(/\s+/g, '');

/**
 * The sign-in form (`loginElements()` in `ui`). `onSession(token, agent)` gets the server's answer;
 * `beforeSubmit` runs inside the user gesture (the console unlocks audio there).
 *
 * Accounts with two-factor on answer the first try with 401 `totp_required`: the form then shows
 * the code field and sends the same email and password again with `totp`. A wrong or reused code
 * (401 `invalid_totp`) empties the field and says so; too many failures (429 with Retry-After)
 * say when to try again, and the form sends nothing until then.
 */
export function createLoginForm(ui, { onSession, beforeSubmit }) {
  let errorText = null; // a function, so that the message follows a language switch
  let lockedUntil = 0; // Date.now() before which the server refuses sign-ins for this email
  let lockedEmail = '';
  let lockTimer = null;

  function setError(text, field) {
    errorText = text;
    ui.loginError.textContent = text ? text() : '';
    ui.loginError.hidden = !text;
    for (const input of [ui.loginEmail, ui.loginPassword, ui.loginTotp]) input.removeAttribute('aria-invalid');
    if (field) field.setAttribute('aria-invalid', 'true');
  }
  const setErrorKey = (key, field) => setError(key ? () => t(key) : null, field);

  /// Shows or hides the code field (hidden: forgotten too).
  function askForCode(shown) {
    ui.loginTotpField.hidden = !shown;
    ui.loginTotp.disabled = !shown;
    if (!shown) ui.loginTotp.value = '';
  }

  /// "Try again in 4 min", counting down while the form is shown; the form sends nothing until then.
  function lockFor(seconds, email) {
    lockedUntil = Date.now() + seconds * 1000;
    lockedEmail = email;
    clearInterval(lockTimer);
    const render = () => {
      const left = lockedUntil - Date.now();
      if (left <= 0) {
        clearInterval(lockTimer);
        lockTimer = null;
        if (errorText === lockedText) setError(null);
        return;
      }
      if (errorText === lockedText) ui.loginError.textContent = lockedText();
    };
    setError(lockedText);
    lockTimer = setInterval(render, 1000);
  }
  // One function object, so that the countdown knows its message is still the one shown.
  const lockedText = () => t('login.locked', { time: formatWait(lockedUntil - Date.now()) });

  /// Back to a fresh form, with an optional message (e.g. `login.expired`).
  function reset(messageKey) {
    askForCode(false);
    setErrorKey(messageKey ?? null);
    ui.loginSubmit.disabled = false;
    ui.loginSubmit.textContent = t('login.submit');
    setTimeout(() => (ui.loginEmail.value ? ui.loginPassword : ui.loginEmail).focus(), 0);
  }

  async function submit(event) {
    event.preventDefault();
    if (ui.loginSubmit.disabled) return;
    const email = ui.loginEmail.value.trim();
    const password = ui.loginPassword.value;
    if (!email || !password) {
      setErrorKey('login.missing', !email ? ui.loginEmail : ui.loginPassword);
      (!email ? ui.loginEmail : ui.loginPassword).focus();
      return;
    }
    const body = { email, password };
    if (!ui.loginTotpField.hidden) {
      const code = readTotp(ui.loginTotp.value);
      if (!TOTP_RE.test(code)) {
        setErrorKey(code ? 'login.totpFormat' : 'login.totpMissing', ui.loginTotp);
        ui.loginTotp.focus();
        return;
      }
      body.totp = code;
    }
    if (Date.now() < lockedUntil && email.toLowerCase() === lockedEmail) {
      setError(lockedText);
      return;
    }
    beforeSubmit?.();
    ui.loginSubmit.disabled = true;
    ui.loginSubmit.textContent = t('login.submitting');
    let focus = null;
    try {
      const response = await fetch('/v1/auth/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => ({}));
      if (response.ok && answer.token) {
        ui.loginPassword.value = '';
        askForCode(false);
        setError(null);
        onSession(answer.token, answer.agent ?? null);
        return;
      }
      const code = answer?.error?.code;
      if (code === 'totp_required') {
        // The password was right: now the code from the authenticator app.
        askForCode(true);
        setError(null);
        focus = ui.loginTotp;
      } else if (code === 'invalid_totp') {
        askForCode(true);
        ui.loginTotp.value = '';
        setErrorKey('login.totpInvalid', ui.loginTotp);
        focus = ui.loginTotp;
      } else if (response.status === 429 || code === 'too_many_attempts') {
        const seconds = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
        lockFor(Number.isFinite(seconds) && seconds > 0 ? seconds : 60, email.toLowerCase());
      } else if (response.status === 403 || code === 'forbidden') {
        setErrorKey('login.disabled'); // right password, disabled account
      } else if (response.status === 401 || code === 'invalid_credentials' || response.status === 400) {
        // A wrong password starts over: the code (if any) is asked for again after the password.
        askForCode(false);
        setErrorKey('login.invalid', ui.loginPassword);
        focus = ui.loginPassword;
      } else {
        setErrorKey('login.failed');
      }
    } catch {
      setErrorKey('login.failed');
    } finally {
      ui.loginSubmit.disabled = false;
      ui.loginSubmit.textContent = t('login.submit');
    }
    focus?.focus();
  }

  /// Re-renders the texts after a language switch.
  function retranslate() {
    if (errorText) ui.loginError.textContent = errorText();
    if (!ui.login.hidden && !ui.loginSubmit.disabled) ui.loginSubmit.textContent = t('login.submit');
  }

  ui.loginForm.addEventListener('submit', submit);
  // Another account is another sign-in: its code is asked for when its password was checked.
  ui.loginEmail.addEventListener('input', () => {
    if (!ui.loginTotpField.hidden) askForCode(false);
  });
  ui.loginTotp.addEventListener('input', () => {
    if (ui.loginTotp.getAttribute('aria-invalid')) setError(null);
  });
  askForCode(false);
  return { reset, retranslate };
}

/// "45 s", "4 min": how long until something may be tried again (rounded up).
export function formatWait(ms) {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 60) return t('duration.seconds', { n: seconds });
  return t('duration.minutes', { n: Math.ceil(seconds / 60) });
}

/// A REST failure: HTTP status plus the server's `{"error":{"code","message"}}` if any.
export class ApiFailure extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
  }
}

/// Copies `text`; the Clipboard API where allowed, else a selected hidden text area.
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = el('textarea', { class: 'sr-only', 'aria-hidden': 'true' });
    area.value = text;
    document.body.appendChild(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand('copy');
    } catch {
      copied = false;
    }
    area.remove();
    return copied;
  }
}

// ---------------------------------------------------------------------------------------------
// Chrome: language switch and toast
// ---------------------------------------------------------------------------------------------

/// Wires the language switch; the returned render shows the language it switches to, in that
/// language ("中文" / "EN").
export function createLanguageButton(button) {
  button.addEventListener('click', () => setLanguage(otherLanguage()));
  return function render() {
    const next = LANGUAGES.find((language) => language.code === otherLanguage());
    button.textContent = next.short;
    button.lang = next.code;
    button.setAttribute('aria-label', `${t('lang.switch')}: ${next.label}`);
    button.title = `${t('lang.switch')}: ${next.label}`;
  };
}

/// The toast's elements (same ids on both pages), to spread into a page's `ui`.
export const toastElements = () => ({
  toast: $('toast'),
  toastText: $('toast-text'),
  toastClose: $('toast-close'),
});

/// A toast (`toastElements()` in `ui`) that hides itself after `ms`.
export function createToast(ui, ms) {
  let timer = null;
  function hide() {
    clearTimeout(timer);
    ui.toast.hidden = true;
  }
  function show(text) {
    clearTimeout(timer);
    ui.toastText.textContent = text;
    ui.toast.hidden = false;
    timer = setTimeout(hide, ms);
  }
  ui.toastClose.addEventListener('click', hide);
  return { show, hide };
}
