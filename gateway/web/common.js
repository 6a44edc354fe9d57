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
  loginError: $('login-error'),
  loginSubmit: $('login-submit'),
  loginLangSlot: $('login-lang-slot'),
});

/// The sign-in form (`loginElements()` in `ui`). `onSession(token, agent)` gets the server's answer;
/// `beforeSubmit` runs inside the user gesture (the console unlocks audio there).
export function createLoginForm(ui, { onSession, beforeSubmit }) {
  let errorKey = null;

  function setError(key) {
    errorKey = key;
    ui.loginError.textContent = key ? t(key) : '';
    ui.loginError.hidden = !key;
  }

  /// Back to a fresh form, with an optional message (e.g. `login.expired`).
  function reset(messageKey) {
    setError(messageKey ?? null);
    ui.loginSubmit.disabled = false;
    ui.loginSubmit.textContent = t('login.submit');
    setTimeout(() => (ui.loginEmail.value ? ui.loginPassword : ui.loginEmail).focus(), 0);
  }

  async function submit(event) {
    event.preventDefault();
    const email = ui.loginEmail.value.trim();
    const password = ui.loginPassword.value;
    if (!email || !password) {
      setError('login.missing');
      return;
    }
    beforeSubmit?.();
    ui.loginSubmit.disabled = true;
    ui.loginSubmit.textContent = t('login.submitting');
    try {
      const response = await fetch('/v1/auth/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok && body.token) {
        ui.loginPassword.value = '';
        setError(null);
        onSession(body.token, body.agent ?? null);
        return;
      }
      const code = body?.error?.code;
      if (response.status === 403 || code === 'forbidden') setError('login.disabled'); // right password, disabled account
      else setError(response.status === 401 || code === 'invalid_credentials' || response.status === 400 ? 'login.invalid' : 'login.failed');
    } catch {
      setError('login.failed');
    } finally {
      ui.loginSubmit.disabled = false;
      ui.loginSubmit.textContent = t('login.submit');
    }
  }

  /// Re-renders the texts after a language switch.
  function retranslate() {
    if (errorKey) setError(errorKey);
    if (!ui.login.hidden && !ui.loginSubmit.disabled) ui.loginSubmit.textContent = t('login.submit');
  }

  ui.loginForm.addEventListener('submit', submit);
  return { reset, retranslate };
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
