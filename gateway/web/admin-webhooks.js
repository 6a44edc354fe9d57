// Switchboard admin dashboard: the Webhooks section (`/admin#webhooks`).
//
// Endpoints (`/v1/admin/webhooks`) are listed with their URL, events and description, paused and
// resumed with a switch, created and edited in a dialog, given a new secret and deleted after a
// confirmation. A secret is only ever in an answer to creating or rotating: it is shown once, in
// a dialog that forgets it when it closes. Under the list, the delivery log of the chosen
// endpoint (newest first, filtered by status, paged with the server's cursor, read again every few
// seconds while the section is open) with each delivery's payload and a Replay button. The side
// column holds the workspace's "Allow private networks" switch (the SSRF guard) and how receivers
// verify a request.
//
// admin.js loads this module the first time the section opens and hands it its REST helpers
// (`ctx`), so both share one session and one way of showing errors. User data (URLs,
// descriptions, server messages, payloads) is only ever set with textContent.

import { t, getLanguage } from './i18n.js';
import { $, el, syncChildren, shortId } from './common.js';

/** Every event an endpoint can subscribe to, in the order the dialog offers them. */
export const EVENT_TYPES = [
  'conversation.opened',
  'conversation.assigned',
  'conversation.closed',
  'message.created',
  'offline_message.created',
  'conversation.rated',
];
const STATUSES = ['pending', 'delivered', 'dead'];
const PAGE_SIZE = 20;
const MAX_REFRESH = 200; // the server's largest page
const LOG_POLL_MS = 3_000;
const LOG_POLL_BUSY_MS = 1_000; // while a delivery on screen is pending
const RETRY_MS = 5_000;
const MAX_URL_BYTES = 2048;
const MAX_DESCRIPTION = 200;
const COPIED_MS = 4_000;

const WEBHOOK_LABELS = { url: 'admin.webhook.url', events: 'admin.webhook.events', description: 'admin.webhook.description' };

/** The endpoint as the API sends it, with every field of the right type. */
function normalizeWebhook(raw) {
  return {
    id: String(raw.id),
    url: String(raw.url ?? ''),
    events: Array.isArray(raw.events) ? raw.events.map(String) : [],
    enabled: raw.enabled !== false,
    description: String(raw.description ?? ''),
    created_at: raw.created_at ?? null,
    previous_secret_expires_at: raw.previous_secret_expires_at ?? null,
  };
}

/** A delivery as the API sends it; `payload` stays the exact text that was (or will be) sent. */
function normalizeDelivery(raw) {
  return {
    id: String(raw.id),
    webhook_id: String(raw.webhook_id ?? ''),
    message_id: String(raw.message_id ?? ''),
    event_type: String(raw.event_type ?? ''),
    conversation_id: String(raw.conversation_id ?? ''),
    status: STATUSES.includes(raw.status) ? raw.status : 'pending',
    attempts: Number(raw.attempts) || 0,
    last_status_code: Number(raw.last_status_code) || 0,
    last_error: String(raw.last_error ?? ''),
    created_at: raw.created_at ?? null,
    next_attempt_at: raw.next_attempt_at ?? null,
    delivered_at: raw.delivered_at ?? null,
    payload: String(raw.payload ?? ''),
  };
}

const toDate = (value) => {
  const date = value ? new Date(value) : null;
  return date && !Number.isNaN(date.getTime()) ? date : null;
};

/** "15:27:33" today, "28 Nov, 15:27:33" on another day. */
function shortTime(date) {
  const sameDay = date.toDateString() === new Date().toDateString();
  const options = sameDay
    ? { hour: 'numeric', minute: '2-digit', second: '2-digit' }
    : { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', second: '2-digit' };
  return new Intl.DateTimeFormat(getLanguage(), options).format(date);
}

const longTime = (date) => new Intl.DateTimeFormat(getLanguage(), { dateStyle: 'medium', timeStyle: 'medium' }).format(date);
const dayOf = (date) => new Intl.DateTimeFormat(getLanguage(), { dateStyle: 'medium' }).format(date);

/** Sets a cell to a short time with the full one as its tooltip (or to `fallback`). */
function setTime(node, value, fallback = '—') {
  const date = toDate(value);
  node.textContent = date ? shortTime(date) : fallback;
  if (date) node.title = longTime(date);
  else node.removeAttribute('title');
}

/** The payload as indented JSON; text that is not JSON is shown as it is. */
function prettyPayload(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Copies `text`; the Clipboard API where allowed, else a selected hidden text area. */
async function copyText(text) {
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

const ICONS = {
  webhook: '<path d="M9.5 14.5l5-5"/><path d="M11 6.5l1.7-1.7a4 4 0 0 1 5.6 5.6L16.6 12"/><path d="M13 17.5l-1.7 1.7a4 4 0 0 1-5.6-5.6L7.4 12"/>',
  trash: '<path d="M4 7h16M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4.5A1.5 1.5 0 0 1 10.5 3h3A1.5 1.5 0 0 1 15 4.5V7"/>',
  key: '<circle cx="8" cy="15" r="4"/><path d="M11 12l9-9M17 6l2.5 2.5M14.5 8.5l2 2"/>',
  replay: '<path d="M3.5 12a8.5 8.5 0 1 0 2.6-6.1"/><path d="M3.5 4v4.5H8"/>',
  code: '<path d="M8.5 8L4.5 12l4 4M15.5 8l4 4-4 4"/>',
};

/** An inline icon from the constant set above (never from data). */
function icon(name, size = 15) {
  const span = el('span', { class: 'btn-icon', 'aria-hidden': 'true' });
  span.innerHTML = `<svg viewBox="0 0 24 24" width="${size}" height="${size}" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round">${ICONS[name]}</svg>`;
  return span;
}

/**
 * Builds the section. `ctx` comes from admin.js: `api(method, path, body, signal)`,
 * `ApiFailure`, `handledAuthFailure(error)`, `showToast(text)`, `formError(node, inputs)`,
 * `readFailure(error, labels, gone)`, `setBusy(button, busy, idleKey, busyKey)`,
 * `closeOnBackdrop(dialog, busy)` and `returnFocus(button, fallback)`.
 * Returns `{ show, hide, reset, retranslate }`.
 */
export function createWebhooks(ctx) {
  const { api, ApiFailure, handledAuthFailure, showToast, formError, readFailure, setBusy, closeOnBackdrop, returnFocus } = ctx;

  const ui = {
    newButton: $('webhook-new'),
    list: $('webhook-list'),
    count: $('webhooks-count'),
    empty: $('webhooks-empty'),
    unavailable: $('webhooks-unavailable'),
    allowPrivate: $('webhooks-allow-private'),
    settingsError: $('webhooks-settings-error'),
    log: {
      card: $('deliveries-card'),
      endpoint: $('deliveries-endpoint'),
      filter: $('deliveries-filter'),
      body: $('deliveries-body'),
      empty: $('deliveries-empty'),
      error: $('deliveries-error'),
      foot: $('deliveries-foot'),
      more: $('deliveries-more'),
    },
    form: {
      dialog: $('webhook-dialog'),
      form: $('webhook-form'),
      title: $('webhook-dialog-title'),
      url: $('webhook-url'),
      events: $('webhook-events'),
      description: $('webhook-description'),
      error: $('webhook-error'),
      submit: $('webhook-submit'),
      cancel: $('webhook-cancel'),
      close: $('webhook-close'),
    },
    secret: {
      dialog: $('secret-dialog'),
      title: $('secret-dialog-title'),
      url: $('secret-dialog-url'),
      value: $('secret-value'),
      hint: $('secret-hint'),
      copy: $('secret-copy'),
      copied: $('secret-copied'),
      done: $('secret-done'),
    },
    confirm: {
      dialog: $('confirm-dialog'),
      title: $('confirm-title'),
      target: $('confirm-target'),
      text: $('confirm-text'),
      error: $('confirm-error'),
      cancel: $('confirm-cancel'),
      submit: $('confirm-submit'),
    },
    payload: {
      dialog: $('payload-dialog'),
      meta: $('payload-meta'),
      body: $('payload-body'),
      copy: $('payload-copy'),
      copied: $('payload-copied'),
      done: $('payload-done'),
      close: $('payload-close'),
    },
  };

  const state = {
    visible: false,
    webhooks: null, // array once loaded
    failed: false, // the last read of the endpoints failed
    settings: null, // { allow_private_network } once loaded
    selectedId: null,
    filter: '', // '' (all) or a status
    deliveries: [],
    cursor: null, // next_cursor of the last page read
    logLoaded: false,
    loadingMore: false,
    replaying: new Set(), // delivery ids with a replay in flight
  };

  // ---------------------------------------------------------------------------------------
  // Endpoints and settings
  // ---------------------------------------------------------------------------------------

  let listTimer = null;
  let listGeneration = 0; // answers to an older generation (before a reset) are dropped

  async function loadEndpoints() {
    clearTimeout(listTimer);
    const generation = listGeneration;
    const [webhooks, settings] = await Promise.allSettled([api('GET', '/v1/admin/webhooks'), api('GET', '/v1/admin/integrations/settings')]);
    if (generation !== listGeneration) return;
    for (const result of [webhooks, settings]) {
      if (result.status === 'rejected' && handledAuthFailure(result.reason)) return;
    }
    if (webhooks.status === 'fulfilled') {
      setWebhooks(webhooks.value?.webhooks);
      state.failed = false;
    } else {
      state.failed = true;
    }
    if (settings.status === 'fulfilled') state.settings = { allow_private_network: settings.value?.allow_private_network === true };
    renderEndpoints();
    renderSettings();
    // Nothing to show is no state to leave the page in: try again while the section is open.
    if ((webhooks.status === 'rejected' || settings.status === 'rejected') && state.visible) listTimer = setTimeout(loadEndpoints, RETRY_MS);
  }

  function setWebhooks(list) {
    state.webhooks = (Array.isArray(list) ? list : []).filter((webhook) => webhook && webhook.id).map(normalizeWebhook);
    state.webhooks.sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)) || a.id.localeCompare(b.id));
    if (!state.webhooks.some((webhook) => webhook.id === state.selectedId)) select(state.webhooks[0]?.id ?? null);
  }

  function upsertWebhook(raw) {
    const webhook = normalizeWebhook(raw);
    const others = (state.webhooks ?? []).filter((known) => known.id !== webhook.id);
    setWebhooks([...others, webhook]);
    renderEndpoints();
    return webhook;
  }

  // Items are kept per endpoint id and updated in place: the focus stays on a switch or button.
  const items = new Map(); // id → { li, parts }

  function buildItem(id) {
    const li = el('li', { class: 'webhook-item', 'data-testid': 'webhook-item', 'data-webhook-id': id });
    const main = el('button', { type: 'button', class: 'webhook-main', 'data-testid': 'webhook-select' });
    const mark = el('span', { class: 'webhook-mark', 'aria-hidden': 'true' });
    mark.appendChild(icon('webhook', 17));
    const body = el('span', { class: 'webhook-body' });
    const url = el('span', { class: 'webhook-url mono', 'data-testid': 'webhook-url-text' });
    const meta = el('span', { class: 'webhook-meta' });
    const description = el('span', { class: 'webhook-description', 'data-testid': 'webhook-description-text' });
    const created = el('span', { class: 'webhook-created' });
    meta.append(description, created);
    const events = el('span', { class: 'webhook-events', 'data-testid': 'webhook-events' });
    const rotation = el('span', { class: 'webhook-rotation', 'data-testid': 'webhook-rotation' });
    body.append(url, meta, events, rotation);
    main.append(mark, body);
    main.addEventListener('click', () => select(id));

    const actions = el('div', { class: 'webhook-actions' });
    const toggle = el('label', { class: 'toggle' });
    const enabled = el('input', { type: 'checkbox', role: 'switch', 'data-testid': 'webhook-enabled' });
    const track = el('span', { class: 'toggle-track', 'aria-hidden': 'true' });
    const toggleText = el('span', { class: 'toggle-text' });
    toggle.append(enabled, track, toggleText);
    enabled.addEventListener('change', () => setEnabled(id, enabled));
    const edit = el('button', { type: 'button', class: 'btn btn-ghost btn-small', 'data-testid': 'webhook-edit' });
    edit.addEventListener('click', () => openWebhookDialog(id, edit));
    const rotate = el('button', { type: 'button', class: 'btn btn-ghost btn-small', 'data-testid': 'webhook-rotate' });
    const rotateText = el('span');
    rotate.append(icon('key', 14), rotateText);
    rotate.addEventListener('click', () => askRotate(id, rotate));
    const remove = el('button', { type: 'button', class: 'icon-button icon-danger', 'data-testid': 'webhook-delete' });
    remove.appendChild(icon('trash', 16));
    remove.addEventListener('click', () => askDelete(id, remove));
    actions.append(toggle, edit, rotate, remove);
    li.append(main, actions);
    const item = { li, parts: { main, url, description, created, events, rotation, enabled, toggleText, edit, rotate, rotateText, remove } };
    items.set(id, item);
    return item;
  }

  function renderItem(item, webhook) {
    const { li, parts } = item;
    const selected = webhook.id === state.selectedId;
    li.dataset.enabled = String(webhook.enabled);
    li.classList.toggle('is-selected', selected);
    li.classList.toggle('is-paused', !webhook.enabled);
    if (selected) parts.main.setAttribute('aria-current', 'true');
    else parts.main.removeAttribute('aria-current');
    parts.main.title = t('admin.webhooks.showLog', { url: webhook.url });
    parts.url.textContent = webhook.url;
    parts.url.title = webhook.url;
    parts.description.textContent = webhook.description || t('admin.webhooks.noDescription');
    parts.description.classList.toggle('is-empty', !webhook.description);
    const created = toDate(webhook.created_at);
    parts.created.textContent = created ? t('admin.webhooks.created', { date: dayOf(created) }) : '';
    const eventsSignature = webhook.events.join(',') || '*';
    if (parts.events.dataset.signature !== eventsSignature) {
      const chips = webhook.events.length
        ? webhook.events.map((event) => el('span', { class: 'chip chip-code', title: t(`event.${event}`) }, event))
        : [el('span', { class: 'chip chip-all', 'data-all': 'true' }, t('admin.webhooks.allEvents'))];
      parts.events.replaceChildren(...chips);
      parts.events.dataset.signature = eventsSignature;
    } else if (!webhook.events.length) {
      parts.events.firstElementChild.textContent = t('admin.webhooks.allEvents');
    }
    const until = toDate(webhook.previous_secret_expires_at);
    parts.rotation.textContent = until && until > new Date() ? t('admin.webhooks.previousSecret', { time: longTime(until) }) : '';
    parts.rotation.hidden = !parts.rotation.textContent;
    if (!parts.enabled.disabled) parts.enabled.checked = webhook.enabled; // not while its change is saved
    parts.toggleText.textContent = webhook.enabled ? t('admin.webhooks.enabled') : t('admin.webhooks.paused');
    parts.enabled.setAttribute('aria-label', t('admin.webhooks.enabledLabel', { url: webhook.url }));
    parts.edit.textContent = t('admin.agents.edit');
    parts.edit.setAttribute('aria-label', t('admin.webhooks.editLabel', { url: webhook.url }));
    parts.rotateText.textContent = t('admin.webhooks.rotate');
    parts.rotate.setAttribute('aria-label', t('admin.webhooks.rotateLabel', { url: webhook.url }));
    parts.remove.setAttribute('aria-label', t('admin.webhooks.deleteLabel', { url: webhook.url }));
    parts.remove.title = t('admin.webhooks.delete');
  }

  function renderEndpoints() {
    const webhooks = state.webhooks ?? [];
    const seen = new Set();
    const wanted = webhooks.map((webhook) => {
      seen.add(webhook.id);
      const item = items.get(webhook.id) ?? buildItem(webhook.id);
      renderItem(item, webhook);
      return item.li;
    });
    for (const id of [...items.keys()]) if (!seen.has(id)) items.delete(id);
    syncChildren(ui.list, wanted);
    ui.count.textContent = String(webhooks.length);
    ui.empty.hidden = !(state.webhooks && !webhooks.length);
    const unavailable = state.failed && state.webhooks == null;
    ui.unavailable.textContent = unavailable ? t('admin.webhooks.unavailable') : '';
    ui.unavailable.hidden = !unavailable;
    renderLogHead();
  }

  function renderSettings() {
    const known = state.settings != null;
    ui.allowPrivate.disabled = !known || settingsBusy;
    if (known && !settingsBusy) ui.allowPrivate.checked = state.settings.allow_private_network;
  }

  // ---------------------------------------------------------------------------------------
  // Endpoint switches: enabled, and the workspace's private networks
  // ---------------------------------------------------------------------------------------

  async function setEnabled(id, input) {
    const enabled = input.checked;
    input.disabled = true;
    try {
      const answer = await api('PATCH', `/v1/admin/webhooks/${encodeURIComponent(id)}`, { enabled });
      const webhook = upsertWebhook(answer?.webhook ?? { ...findWebhook(id), enabled });
      showToast(t(enabled ? 'admin.webhooks.resumedDone' : 'admin.webhooks.pausedDone', { url: webhook.url }));
    } catch (error) {
      if (handledAuthFailure(error)) return;
      input.checked = !enabled;
      showToast(failureText(error, () => t('admin.webhooks.gone'))());
      if (error?.status === 404) loadEndpoints();
    } finally {
      input.disabled = false;
    }
  }

  const settingsError = formError(ui.settingsError, {});
  let settingsBusy = false;

  async function setAllowPrivate() {
    const allow = ui.allowPrivate.checked;
    settingsBusy = true;
    ui.allowPrivate.disabled = true;
    settingsError.set(null);
    try {
      const answer = await api('PUT', '/v1/admin/integrations/settings', { allow_private_network: allow });
      state.settings = { allow_private_network: answer?.allow_private_network === true };
      showToast(t(state.settings.allow_private_network ? 'admin.webhooks.privateOn' : 'admin.webhooks.privateOff'));
    } catch (error) {
      if (handledAuthFailure(error)) return;
      settingsError.set(failureText(error, () => t('error.generic')));
    } finally {
      settingsBusy = false;
      renderSettings();
    }
  }

  const findWebhook = (id) => state.webhooks?.find((webhook) => webhook.id === id) ?? null;

  /** A failed call as a text function: the server's words for `invalid_argument`, else ours. */
  function failureText(error, gone) {
    if (error instanceof ApiFailure && error.code === 'unavailable') return () => t('admin.webhooks.serviceDown');
    return readFailure(error, WEBHOOK_LABELS, gone).text;
  }

  // ---------------------------------------------------------------------------------------
  // The new/edit dialog
  // ---------------------------------------------------------------------------------------

  let editing = null; // { id (null: new), original, opener }

  const webhookError = formError(ui.form.error, {
    url: () => ui.form.url,
    events: () => ui.form.events.querySelector('input'),
    description: () => ui.form.description,
  });

  /** One checkbox per event type: its name in words and its code. */
  const eventChecks = EVENT_TYPES.map((event) => {
    const label = el('label', { class: 'event-option' });
    const input = el('input', { type: 'checkbox', name: 'events', 'data-testid': 'webhook-event' });
    input.value = event;
    const text = el('span', { class: 'event-option-text' });
    const name = el('span', { class: 'event-option-name' });
    const code = el('code', { class: 'event-option-code' }, event);
    text.append(name, code);
    label.append(input, text);
    return { event, input, name };
  });
  ui.form.events.replaceChildren(...eventChecks.map((check) => check.input.parentElement));

  function labelEvents() {
    for (const check of eventChecks) check.name.textContent = t(`event.${check.event}`);
  }

  function renderWebhookDialog() {
    const isNew = !editing?.id;
    ui.form.title.textContent = isNew ? t('admin.webhook.newTitle') : t('admin.webhook.editTitle');
    if (!ui.form.submit.disabled) ui.form.submit.textContent = isNew ? t('admin.webhook.create') : t('admin.edit.submit');
  }

  function openWebhookDialog(id, opener) {
    const webhook = id ? findWebhook(id) : null;
    if (id && !webhook) return;
    const original = webhook ? { url: webhook.url, events: webhook.events, description: webhook.description } : { url: '', events: [], description: '' };
    editing = { id: id ?? null, original, opener };
    ui.form.form.reset();
    ui.form.url.value = original.url;
    for (const check of eventChecks) check.input.checked = original.events.includes(check.event);
    ui.form.description.value = original.description;
    webhookError.set(null);
    ui.form.submit.disabled = false;
    renderWebhookDialog();
    if (!ui.form.dialog.open) ui.form.dialog.showModal();
    ui.form.url.focus();
  }

  /** Checks the form as the server would; returns the settings, or undefined after showing why not. */
  function readWebhookForm() {
    const url = ui.form.url.value.trim();
    if (!url) return void webhookError.set(() => t('admin.webhook.error.urlMissing'), 'url');
    if (!/^https?:\/\//i.test(url)) return void webhookError.set(() => t('admin.webhook.error.urlScheme'), 'url');
    let parsed = null;
    try {
      parsed = new URL(url);
    } catch {
      parsed = null;
    }
    if (!parsed?.hostname) return void webhookError.set(() => t('admin.webhook.error.urlInvalid'), 'url');
    if (new TextEncoder().encode(url).length > MAX_URL_BYTES) return void webhookError.set(() => t('admin.webhook.error.urlLong'), 'url');
    const description = ui.form.description.value.trim();
    if ([...description].length > MAX_DESCRIPTION) {
      return void webhookError.set(() => t('admin.form.error.tooLong', { field: t('admin.webhook.description') }), 'description');
    }
    const events = eventChecks.filter((check) => check.input.checked).map((check) => check.event);
    return { url, events, description };
  }

  /** The server's refusals of a URL, in words of the current language; null for others. */
  function urlFailure(error) {
    if (!(error instanceof ApiFailure) || error.code !== 'invalid_argument') return null;
    const message = String(error.message || '');
    if (!message.startsWith('url:')) return null;
    if (/loopback|private|internal/i.test(message)) return { text: () => t('admin.webhook.error.private'), field: 'url' };
    if (/does not resolve/i.test(message)) return { text: () => t('admin.webhook.error.unresolved'), field: 'url' };
    if (/absolute http/i.test(message)) return { text: () => t('admin.webhook.error.urlScheme'), field: 'url' };
    return null;
  }

  async function saveWebhook(event) {
    event.preventDefault();
    if (!editing || ui.form.submit.disabled) return;
    const settings = readWebhookForm();
    if (!settings) return;
    const { id, original } = editing;
    let body = settings;
    if (id) {
      body = {};
      if (settings.url !== original.url) body.url = settings.url;
      if ([...settings.events].sort().join(',') !== [...original.events].sort().join(',')) body.events = settings.events;
      if (settings.description !== original.description) body.description = settings.description;
      if (!Object.keys(body).length) {
        closeWebhookDialog();
        return;
      }
    }
    webhookError.set(null);
    setBusy(ui.form.submit, true, id ? 'admin.edit.submit' : 'admin.webhook.create', id ? 'admin.edit.saving' : 'admin.webhook.creating');
    try {
      if (id) {
        const answer = await api('PATCH', `/v1/admin/webhooks/${encodeURIComponent(id)}`, body);
        const webhook = upsertWebhook(answer?.webhook ?? { ...findWebhook(id), ...body });
        closeWebhookDialog();
        showToast(t('admin.webhook.saved', { url: webhook.url }));
      } else {
        const answer = await api('POST', '/v1/admin/webhooks', body);
        const webhook = upsertWebhook(answer.webhook);
        select(webhook.id);
        closeWebhookDialog();
        showSecret(webhook, String(answer.secret ?? ''), 'created');
      }
    } catch (error) {
      if (handledAuthFailure(error)) return;
      if (error instanceof ApiFailure && error.code === 'failed_precondition') {
        webhookError.set(() => t('admin.webhook.error.limit'));
        return;
      }
      const failure = urlFailure(error) ?? { text: failureText(error, () => t('admin.webhooks.gone')), field: readFailure(error, WEBHOOK_LABELS).field };
      webhookError.set(failure.text, failure.field);
      if (error?.status === 404) loadEndpoints();
    } finally {
      if (ui.form.dialog.open) {
        ui.form.submit.disabled = false;
        renderWebhookDialog();
      }
    }
  }

  function closeWebhookDialog() {
    if (ui.form.dialog.open) ui.form.dialog.close();
  }

  // ---------------------------------------------------------------------------------------
  // The secret, shown once
  // ---------------------------------------------------------------------------------------

  let secretShown = null; // { kind: 'created' | 'rotated', opener }
  let copiedTimer = null;

  function renderSecretDialog() {
    if (!secretShown) return;
    const created = secretShown.kind === 'created';
    ui.secret.title.textContent = created ? t('admin.secret.createdTitle') : t('admin.secret.rotatedTitle');
    ui.secret.hint.textContent = created ? t('admin.secret.createdHint') : t('admin.secret.rotatedHint');
    if (!ui.secret.copied.hidden) ui.secret.copied.textContent = t('admin.secret.copied');
  }

  function showSecret(webhook, secret, kind, opener) {
    secretShown = { kind, opener: opener ?? ui.newButton };
    ui.secret.url.textContent = webhook.url;
    ui.secret.value.value = secret;
    ui.secret.copied.hidden = true;
    renderSecretDialog();
    if (!ui.secret.dialog.open) ui.secret.dialog.showModal();
    ui.secret.value.focus();
    ui.secret.value.select();
  }

  async function copySecret() {
    const copied = await copyText(ui.secret.value.value);
    ui.secret.copied.textContent = copied ? t('admin.secret.copied') : t('admin.secret.copyFailed');
    ui.secret.copied.classList.toggle('is-failed', !copied);
    ui.secret.copied.hidden = false;
    clearTimeout(copiedTimer);
    copiedTimer = setTimeout(() => (ui.secret.copied.hidden = true), COPIED_MS);
    if (!copied) ui.secret.value.select();
  }

  // ---------------------------------------------------------------------------------------
  // Confirmations: delete an endpoint, rotate its secret
  // ---------------------------------------------------------------------------------------

  let confirming = null; // { kind: 'delete' | 'rotate', id, opener }
  const confirmError = formError(ui.confirm.error, {});

  function renderConfirm() {
    if (!confirming) return;
    const remove = confirming.kind === 'delete';
    ui.confirm.dialog.dataset.kind = confirming.kind;
    ui.confirm.title.textContent = remove ? t('admin.webhooks.deleteTitle') : t('admin.webhooks.rotateTitle');
    ui.confirm.text.textContent = remove ? t('admin.webhooks.deleteText') : t('admin.webhooks.rotateText');
    ui.confirm.cancel.textContent = t('admin.webhooks.keep');
    ui.confirm.submit.className = `btn ${remove ? 'btn-danger' : 'btn-primary'}`;
    if (!ui.confirm.submit.disabled) ui.confirm.submit.textContent = remove ? t('admin.webhooks.delete') : t('admin.webhooks.rotate');
  }

  function openConfirm(kind, id, opener) {
    const webhook = findWebhook(id);
    if (!webhook) return;
    confirming = { kind, id, opener };
    ui.confirm.target.textContent = webhook.url;
    confirmError.set(null);
    ui.confirm.submit.disabled = false;
    renderConfirm();
    if (!ui.confirm.dialog.open) ui.confirm.dialog.showModal();
    // The safe choice has the focus: Enter does not delete by accident.
    ui.confirm.cancel.focus();
  }

  const askDelete = (id, opener) => openConfirm('delete', id, opener);
  const askRotate = (id, opener) => openConfirm('rotate', id, opener);

  async function confirmAction() {
    if (!confirming || ui.confirm.submit.disabled) return;
    const { kind, id, opener } = confirming;
    const webhook = findWebhook(id);
    const remove = kind === 'delete';
    confirmError.set(null);
    setBusy(ui.confirm.submit, true, remove ? 'admin.webhooks.delete' : 'admin.webhooks.rotate', remove ? 'admin.webhooks.deleting' : 'admin.webhooks.rotating');
    try {
      if (remove) {
        await api('DELETE', `/v1/admin/webhooks/${encodeURIComponent(id)}`);
        setWebhooks((state.webhooks ?? []).filter((known) => known.id !== id));
        renderEndpoints();
        closeConfirm(ui.newButton);
        showToast(t('admin.webhooks.deleted', { url: webhook?.url ?? '' }));
      } else {
        const answer = await api('POST', `/v1/admin/webhooks/${encodeURIComponent(id)}/rotate-secret`);
        const rotated = upsertWebhook(answer.webhook);
        closeConfirm(null);
        showSecret(rotated, String(answer.secret ?? ''), 'rotated', opener);
      }
    } catch (error) {
      if (handledAuthFailure(error)) return;
      confirmError.set(failureText(error, () => t('admin.webhooks.gone')));
      if (error?.status === 404) loadEndpoints();
    } finally {
      if (ui.confirm.dialog.open) {
        ui.confirm.submit.disabled = false;
        renderConfirm();
      }
    }
  }

  function closeConfirm(focus) {
    if (confirming && focus !== undefined) confirming.focusAfter = focus;
    if (ui.confirm.dialog.open) ui.confirm.dialog.close();
  }

  // ---------------------------------------------------------------------------------------
  // The delivery log of the chosen endpoint
  // ---------------------------------------------------------------------------------------

  let logTimer = null;
  let logGeneration = 0; // answers for another endpoint or filter are dropped
  let logAbort = null;
  const logError = formError(ui.log.error, {});

  function select(id) {
    if (id === state.selectedId) return;
    state.selectedId = id;
    resetLog();
    renderEndpoints();
    if (id && state.visible) refreshLog();
  }

  function resetLog() {
    logGeneration += 1;
    clearTimeout(logTimer);
    logAbort?.abort();
    logAbort = null;
    state.deliveries = [];
    state.cursor = null;
    state.logLoaded = false;
    state.loadingMore = false;
    rows.clear();
    ui.log.body.replaceChildren();
    logError.set(null);
    renderLog();
  }

  function scheduleLog() {
    clearTimeout(logTimer);
    if (!state.visible || !state.selectedId) return;
    const busy = state.deliveries.some((delivery) => delivery.status === 'pending');
    logTimer = setTimeout(refreshLog, busy ? LOG_POLL_BUSY_MS : LOG_POLL_MS);
  }

  const deliveriesPath = (query) => {
    const params = new URLSearchParams(query);
    if (state.filter) params.set('status', state.filter);
    return `/v1/admin/webhooks/${encodeURIComponent(state.selectedId)}/deliveries?${params}`;
  };

  /**
   * Reads again what is on screen (the first page, or as many rows as are shown, up to the
   * server's largest page) and puts the answer in place. New deliveries come in at the top;
   * older rows beyond that page stay as they are.
   */
  async function refreshLog() {
    clearTimeout(logTimer);
    if (!state.visible || !state.selectedId) return;
    if (document.hidden) return void scheduleLog(); // a background tab reads nothing
    const generation = logGeneration;
    logAbort?.abort();
    const controller = new AbortController();
    logAbort = controller;
    const limit = Math.min(MAX_REFRESH, Math.max(PAGE_SIZE, state.deliveries.length));
    try {
      const answer = await api('GET', deliveriesPath({ limit: String(limit) }), undefined, controller.signal);
      if (generation !== logGeneration) return;
      const fresh = (Array.isArray(answer?.deliveries) ? answer.deliveries : []).map(normalizeDelivery);
      const next = answer?.next_cursor ? String(answer.next_cursor) : null;
      // Rows shown before that are older than this page stay (with the cursor after them) only
      // when the page reaches into them; else newer rows may lie between the two: start over.
      const shown = new Set(state.deliveries.map((delivery) => delivery.id));
      const older = next != null && fresh.some((delivery) => shown.has(delivery.id))
        ? state.deliveries.filter((delivery) => Number(delivery.id) < Number(next))
        : [];
      state.deliveries = [...fresh, ...older];
      state.cursor = older.length ? state.cursor : next;
      state.logLoaded = true;
      logError.set(null);
    } catch (error) {
      if (generation !== logGeneration || error?.name === 'AbortError') return;
      if (handledAuthFailure(error)) return;
      if (error?.status === 404) {
        // The endpoint was deleted elsewhere: the list is out of date.
        loadEndpoints();
        return;
      }
      logError.set(() => t('admin.deliveries.unavailable'));
    } finally {
      if (logAbort === controller) logAbort = null;
    }
    if (generation !== logGeneration) return;
    renderLog();
    scheduleLog();
  }

  async function loadMore() {
    if (!state.cursor || state.loadingMore) return;
    const generation = logGeneration;
    state.loadingMore = true;
    renderLog();
    try {
      const answer = await api('GET', deliveriesPath({ limit: String(PAGE_SIZE), cursor: state.cursor }));
      if (generation !== logGeneration) return;
      const known = new Set(state.deliveries.map((delivery) => delivery.id));
      const page = (Array.isArray(answer?.deliveries) ? answer.deliveries : []).map(normalizeDelivery).filter((delivery) => !known.has(delivery.id));
      state.deliveries = [...state.deliveries, ...page];
      state.cursor = answer?.next_cursor ? String(answer.next_cursor) : null;
      logError.set(null);
    } catch (error) {
      if (generation !== logGeneration) return;
      if (handledAuthFailure(error)) return;
      logError.set(() => t('admin.deliveries.unavailable'));
    } finally {
      if (generation === logGeneration) {
        state.loadingMore = false;
        renderLog();
      }
    }
  }

  async function replay(id) {
    if (state.replaying.has(id)) return;
    const generation = logGeneration;
    state.replaying.add(id);
    renderLog();
    try {
      const answer = await api('POST', `/v1/admin/webhook-deliveries/${encodeURIComponent(id)}/replay`);
      if (generation === logGeneration && answer?.delivery) {
        const replayed = normalizeDelivery(answer.delivery);
        state.deliveries = state.deliveries.map((delivery) => (delivery.id === replayed.id ? replayed : delivery));
      }
      logError.set(null);
      showToast(t('admin.deliveries.replayed'));
    } catch (error) {
      if (handledAuthFailure(error)) return;
      logError.set(error?.status === 404 ? () => t('admin.deliveries.gone') : failureText(error, () => t('admin.deliveries.gone')));
    } finally {
      state.replaying.delete(id);
      if (generation === logGeneration) {
        renderLog();
        scheduleLog();
        // The row may have gone with the delivery (404): refresh at once rather than in 3 s.
        if (!state.deliveries.some((delivery) => delivery.id === id)) refreshLog();
      }
    }
  }

  // Rows are kept per delivery id and updated in place, like the agents table.
  const rows = new Map(); // id → { tr, parts }

  function buildRow(id) {
    const tr = el('tr', { class: 'delivery-row', 'data-testid': 'delivery-row', 'data-delivery-id': id });
    const eventCell = el('td', { class: 'cell-event' });
    const event = el('code', { class: 'event-code', 'data-testid': 'delivery-event' });
    const conversation = el('span', { class: 'cell-sub' });
    eventCell.append(event, conversation);
    const statusCell = el('td');
    const status = el('span', { class: 'delivery-status', 'data-testid': 'delivery-status' });
    const dot = el('span', { class: 'status-dot', 'aria-hidden': 'true' });
    const statusText = el('span');
    status.append(dot, statusText);
    statusCell.appendChild(status);
    const attempts = el('td', { class: 'cell-number', 'data-testid': 'delivery-attempts' });
    const responseCell = el('td', { class: 'cell-response', 'data-testid': 'delivery-response' });
    const code = el('span', { class: 'http-code' });
    const reason = el('span', { class: 'response-error' });
    responseCell.append(code, reason);
    // When it was created, and under it when it was delivered, will be tried next, or given up.
    const timeCell = el('td', { class: 'cell-time' });
    const created = el('span', { class: 'time-main', 'data-testid': 'delivery-created' });
    const when = el('span', { class: 'cell-sub', 'data-testid': 'delivery-when' });
    timeCell.append(created, when);
    const actions = el('td', { class: 'row-actions' });
    const show = el('button', { type: 'button', class: 'btn btn-ghost btn-small', 'data-testid': 'delivery-payload' });
    const showText = el('span');
    show.append(icon('code', 14), showText);
    show.addEventListener('click', () => openPayload(id, show));
    const again = el('button', { type: 'button', class: 'btn btn-outline btn-small', 'data-testid': 'delivery-replay' });
    const againText = el('span');
    again.append(icon('replay', 14), againText);
    again.addEventListener('click', () => replay(id));
    actions.append(show, again);
    tr.append(eventCell, statusCell, attempts, responseCell, timeCell, actions);
    const row = { tr, parts: { event, conversation, status, statusText, attempts, code, reason, created, when, show, showText, again, againText } };
    rows.set(id, row);
    return row;
  }

  /** The last answer in words: the HTTP status (green for 2xx) and why it failed, if it did. */
  function renderResponse(parts, delivery) {
    const status = delivery.last_status_code;
    parts.code.hidden = status <= 0;
    parts.code.textContent = status > 0 ? String(status) : '';
    parts.code.dataset.tone = status >= 200 && status < 300 ? 'ok' : 'error';
    const error = delivery.last_error;
    let reason = '';
    if (error && error !== `HTTP ${status}`) {
      const known = { 'connection failed': 'admin.deliveries.error.connection', timeout: 'admin.deliveries.error.timeout' }[error];
      reason = known ? t(known) : error;
    } else if (status <= 0 && delivery.attempts === 0) {
      reason = t('admin.deliveries.notYet');
    }
    parts.reason.textContent = reason;
    parts.reason.title = error;
    parts.reason.hidden = !reason;
  }

  function renderRow(row, delivery) {
    const { tr, parts } = row;
    tr.dataset.status = delivery.status;
    tr.dataset.eventType = delivery.event_type;
    tr.dataset.messageId = delivery.message_id;
    parts.event.textContent = delivery.event_type;
    parts.event.title = t(`event.${delivery.event_type}`);
    parts.conversation.textContent = t('admin.deliveries.conversation', { id: shortId(delivery.conversation_id) });
    parts.conversation.title = delivery.conversation_id;
    parts.status.dataset.status = delivery.status;
    parts.statusText.textContent = t(`delivery.${delivery.status}`);
    parts.attempts.textContent = String(delivery.attempts);
    renderResponse(parts, delivery);
    setTime(parts.created, delivery.created_at);
    if (delivery.status === 'delivered') {
      const at = toDate(delivery.delivered_at);
      parts.when.textContent = at ? t('admin.deliveries.deliveredAt', { time: shortTime(at) }) : '';
      if (at) parts.when.title = longTime(at);
    } else if (delivery.status === 'pending') {
      const next = toDate(delivery.next_attempt_at);
      parts.when.textContent = next && next > new Date() ? t('admin.deliveries.nextTry', { time: shortTime(next) }) : t('admin.deliveries.due');
      if (next) parts.when.title = longTime(next);
    } else {
      parts.when.textContent = t('admin.deliveries.gaveUp');
      parts.when.removeAttribute('title');
    }
    parts.showText.textContent = t('admin.deliveries.payload');
    parts.show.setAttribute('aria-label', t('admin.deliveries.payloadLabel', { event: delivery.event_type }));
    // Pending ones go out anyway: only dead and delivered deliveries can be sent again.
    const replaying = state.replaying.has(delivery.id);
    parts.again.hidden = delivery.status === 'pending' && !replaying;
    parts.again.disabled = replaying;
    parts.againText.textContent = replaying ? t('admin.deliveries.replaying') : t('admin.deliveries.replay');
    parts.again.setAttribute('aria-label', t('admin.deliveries.replayLabel', { event: delivery.event_type }));
  }

  function renderLogHead() {
    const webhook = findWebhook(state.selectedId);
    ui.log.card.hidden = !webhook;
    ui.log.endpoint.textContent = webhook?.url ?? '';
    ui.log.endpoint.title = webhook?.url ?? '';
  }

  function renderLog() {
    renderLogHead();
    const seen = new Set();
    const wanted = state.deliveries.map((delivery) => {
      seen.add(delivery.id);
      const row = rows.get(delivery.id) ?? buildRow(delivery.id);
      renderRow(row, delivery);
      return row.tr;
    });
    for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
    syncChildren(ui.log.body, wanted);
    let empty = '';
    if (!state.logLoaded) empty = t('admin.deliveries.loading');
    else if (!state.deliveries.length) empty = state.filter ? t('admin.deliveries.emptyFiltered', { status: t(`delivery.${state.filter}`) }) : t('admin.deliveries.empty');
    ui.log.empty.textContent = empty;
    ui.log.empty.hidden = !empty;
    ui.log.foot.hidden = !state.cursor;
    setBusy(ui.log.more, state.loadingMore, 'admin.deliveries.more', 'admin.deliveries.loadingMore');
  }

  // ---------------------------------------------------------------------------------------
  // A delivery's payload
  // ---------------------------------------------------------------------------------------

  let payloadOpener = null;

  function openPayload(id, opener) {
    const delivery = state.deliveries.find((known) => known.id === id);
    if (!delivery) return;
    payloadOpener = opener;
    ui.payload.meta.textContent = `${delivery.event_type} · webhook-id ${delivery.message_id}`;
    // textContent: whatever a visitor wrote is shown as text, never as markup.
    ui.payload.body.textContent = prettyPayload(delivery.payload);
    ui.payload.copied.textContent = '';
    if (!ui.payload.dialog.open) ui.payload.dialog.showModal();
    ui.payload.body.scrollTop = 0;
    ui.payload.done.focus();
  }

  async function copyPayload() {
    const copied = await copyText(ui.payload.body.textContent);
    ui.payload.copied.textContent = copied ? t('admin.payload.copied') : t('admin.secret.copyFailed');
  }

  // ---------------------------------------------------------------------------------------
  // Wiring
  // ---------------------------------------------------------------------------------------

  ui.newButton.addEventListener('click', () => openWebhookDialog(null, ui.newButton));
  ui.allowPrivate.addEventListener('change', setAllowPrivate);

  ui.form.form.addEventListener('submit', saveWebhook);
  ui.form.cancel.addEventListener('click', closeWebhookDialog);
  ui.form.close.addEventListener('click', closeWebhookDialog);
  // A changed value may be the fix: the old complaint goes until the next save says otherwise.
  for (const type of ['input', 'change']) {
    ui.form.form.addEventListener(type, () => {
      if (webhookError.shown) webhookError.set(null);
    });
  }
  ui.form.dialog.addEventListener('close', () => {
    const opener = editing?.opener;
    editing = null;
    webhookError.set(null);
    // After creating, the secret dialog has the focus and gives it back itself.
    if (!ui.secret.dialog.open) returnFocus(opener, ui.newButton);
  });
  closeOnBackdrop(ui.form.dialog, () => ui.form.submit.disabled);

  ui.secret.copy.addEventListener('click', copySecret);
  ui.secret.done.addEventListener('click', () => ui.secret.dialog.close());
  // No backdrop click here: the secret must not vanish by a stray click before it was copied.
  ui.secret.dialog.addEventListener('close', () => {
    // Forgotten as soon as it is closed: nothing in the page holds the secret afterwards.
    ui.secret.value.value = '';
    ui.secret.copied.hidden = true;
    clearTimeout(copiedTimer);
    const opener = secretShown?.opener;
    secretShown = null;
    returnFocus(opener, ui.newButton);
  });

  ui.confirm.submit.addEventListener('click', confirmAction);
  ui.confirm.cancel.addEventListener('click', () => closeConfirm());
  ui.confirm.dialog.addEventListener('close', () => {
    const after = confirming?.focusAfter;
    const opener = confirming?.opener;
    confirming = null;
    confirmError.set(null);
    if (after === null) return; // the secret dialog took the focus
    returnFocus(after ?? opener, ui.newButton);
  });
  closeOnBackdrop(ui.confirm.dialog, () => ui.confirm.submit.disabled);

  ui.payload.copy.addEventListener('click', copyPayload);
  ui.payload.done.addEventListener('click', () => ui.payload.dialog.close());
  ui.payload.close.addEventListener('click', () => ui.payload.dialog.close());
  ui.payload.dialog.addEventListener('close', () => {
    ui.payload.body.textContent = '';
    returnFocus(payloadOpener, ui.newButton);
    payloadOpener = null;
  });
  closeOnBackdrop(ui.payload.dialog, () => false);

  ui.log.filter.addEventListener('change', (event) => {
    const value = event.target.value;
    state.filter = STATUSES.includes(value) ? value : '';
    resetLog();
    refreshLog();
  });
  ui.log.more.addEventListener('click', loadMore);

  // Catch up at once when a background tab is shown again.
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && state.visible && state.selectedId) refreshLog();
  });

  labelEvents();

  // ---------------------------------------------------------------------------------------
  // What admin.js calls
  // ---------------------------------------------------------------------------------------

  /** The section is on screen: read everything again and keep the log fresh. */
  function show() {
    if (state.visible) return;
    state.visible = true;
    loadEndpoints().then(() => {
      // Choosing the first endpoint may have started the read already.
      if (state.visible && state.selectedId && !logAbort) refreshLog();
    });
    renderEndpoints();
    renderLog();
  }

  /** Another section is on screen: stop reading. */
  function hide() {
    state.visible = false;
    clearTimeout(listTimer);
    clearTimeout(logTimer);
    logAbort?.abort();
    logAbort = null;
  }

  /** Another session: forget everything shown. */
  function reset() {
    hide();
    listGeneration += 1;
    state.webhooks = null;
    state.failed = false;
    state.settings = null;
    state.selectedId = null;
    state.filter = '';
    state.replaying.clear();
    items.clear();
    ui.list.replaceChildren();
    for (const input of ui.log.filter.querySelectorAll('input')) input.checked = input.value === '';
    settingsError.set(null);
    resetLog();
    renderEndpoints();
    renderSettings();
  }

  function retranslate() {
    labelEvents();
    renderEndpoints();
    renderLog();
    if (ui.form.dialog.open) {
      renderWebhookDialog();
      webhookError.retranslate();
    }
    renderSecretDialog();
    renderConfirm();
    confirmError.retranslate();
    settingsError.retranslate();
    logError.retranslate();
  }

  return { show, hide, reset, retranslate };
}
