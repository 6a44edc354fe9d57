/*
 * Switchboard visitor chat widget.
 *
 * Embed on any site with:
 *   <script src="https://HOST/widget.js" data-site-key="KEY" async></script>
 * Optional: data-color="#0b7285" (accent colour), data-lang="en|zh-CN" (initial language),
 * data-department="<uuid>" (route new conversations to that department; its business hours decide
 * whether the widget offers live chat or a message form with an email address).
 * Signed-in customers: data-user-id="<your id>" data-user-hash="<hex HMAC-SHA256(identity secret,
 * id)>" (computed on your server, never in the browser) and optionally data-user-name and
 * data-user-email. With a valid hash the customer is one visitor on every device and agents see
 * them verified with their past chats; without one the visitor stays anonymous.
 *
 * One classic script, no dependencies: everything lives in an open Shadow DOM so the host
 * page's CSS cannot break the widget and the widget's CSS cannot leak into the page. Visitor
 * text is only ever inserted with textContent.
 *
 * Protocol v1 (docs/protocol.md): welcome → resume → live frames; messages are deduplicated
 * by (conversation_id, seq) and shown in seq order; our own messages are matched by
 * client_msg_id and re-sent with the same id after a reconnect, so a retry never duplicates.
 * Messages not yet acknowledged are also kept in localStorage and re-sent (same id) after a
 * reload. Read marks go out while the panel is open and the page visible; the agent's mark
 * shows as "Seen" under the visitor's last message it covers.
 */
(function () {
  'use strict';

  if (window.SwitchboardWidget) return; // loaded twice: keep the first instance

  var script =
    document.currentScript ||
    document.querySelector('script[data-site-key][src*="widget.js"]') ||
    document.querySelector('script[data-site-key]');
  if (!script) return;
  var SITE_KEY = script.getAttribute('data-site-key') || '';
  var DEPARTMENT = script.getAttribute('data-department') || '';
  var IDENTITY = {
    user_id: script.getAttribute('data-user-id') || '',
    user_hash: script.getAttribute('data-user-hash') || '',
    user_name: script.getAttribute('data-user-name') || '',
    user_email: script.getAttribute('data-user-email') || '',
  };
  var ORIGIN;
  try {
    ORIGIN = new URL(script.getAttribute('src') || '', window.location.href).origin;
  } catch (error) {
    ORIGIN = window.location.origin;
  }
  var WS_ORIGIN = ORIGIN.replace(/^http/, 'ws');

  var MAX_TEXT_BYTES = 8192;
  var BACKOFF_START_MS = 500;
  var BACKOFF_MAX_MS = 10000;
  var PING_EVERY_MS = 25000;
  var SILENT_LIMIT_MS = 70000; // no frame at all for this long: the socket is dead
  var TYPING_THROTTLE_MS = 2000;
  var TYPING_IDLE_MS = 3000;
  var REMOTE_TYPING_TIMEOUT_MS = 8000; // hide a typing indicator whose "false" got lost
  // The server drops frames beyond 20/s (burst 40) per socket; stay below that so nothing we
  // send is ever dropped: frames wait in a small outbox instead.
  var SEND_RATE_PER_SEC = 15;
  var SEND_BURST = 30;
  var REFUSED_RETRY_MS = { too_many_connections: 30000, invalid_site_key: 60000, invalid_department: 60000 };
  var READ_DELAY_MS = 250; // batch read marks of a burst of messages into one frame

  var TOKEN_KEY = 'switchboard.visitor_token.' + SITE_KEY;
  var LANG_KEY = 'switchboard.widget.lang';
  // Typed but not acknowledged messages, so a reload re-sends them (same client_msg_id).
  var OUTBOX_KEY = 'switchboard.outbox.' + SITE_KEY;
  // { conversationId, email } of the message left while nobody could answer.
  var OFFLINE_KEY = 'switchboard.offline.' + SITE_KEY;

  // ---------------------------------------------------------------------------------------
  // Catalogue
  // ---------------------------------------------------------------------------------------

  var CATALOGUE = {
    en: {
      title: 'Chat with us',
      launcherOpen: 'Open chat',
      launcherClose: 'Close chat',
      minimize: 'Minimize chat',
      langSwitch: 'Switch language to {lang}',
      langOther: '中文',
      'connection.connecting': 'Connecting…',
      'connection.connected': 'Connected',
      'connection.reconnecting': 'Reconnecting…',
      'connection.offline': 'You are offline',
      'status.none': 'We typically reply in a few minutes.',
      'status.queued': 'Waiting for an agent…',
      'status.assigned': '{name} is here to help',
      'status.assignedAnon': 'An agent is here to help',
      'status.closed': 'This conversation has ended',
      'queue.place': 'You are #{position} in line',
      'queue.placeWait': 'You are #{position} in line · {wait}',
      'wait.underMinute': 'less than a minute',
      'wait.minutes': 'about {n} min',
      'wait.hours': 'about {n} h',
      greetingTitle: 'Hi there',
      greetingBody: 'Ask us anything — a real person will answer right here.',
      typing: '{name} is typing…',
      agent: 'Agent',
      you: 'You',
      messages: 'Conversation',
      inputLabel: 'Your message',
      placeholder: 'Write a message…',
      send: 'Send message',
      'state.sending': 'Sending…',
      'state.sent': 'Sent',
      'state.failed': 'Not sent',
      retry: 'Retry',
      ended: 'Conversation ended',
      endedHint: 'This conversation has ended. Write a message to start a new one.',
      'notice.empty': 'Please type a message first.',
      'notice.tooLong': 'Your message is too long ({bytes} of {max} bytes). Please shorten it.',
      'error.rate_limited': 'You’re sending messages too quickly. Please wait a moment.',
      'error.message_too_long': 'Your message is too long. Please shorten it.',
      'error.empty_message': 'Please type a message first.',
      'error.conversation_closed': 'This conversation has ended. Press Retry to send it in a new one.',
      'error.conversation_not_found': 'We couldn’t find this conversation. Write again to start a new one.',
      'error.unavailable': 'Chat is briefly unavailable. We’ll keep trying.',
      'error.too_many_connections': 'Chat is open in too many tabs. Close one and we’ll reconnect.',
      'error.invalid_site_key': 'Chat is not available on this site right now.',
      'error.internal': 'Something went wrong on our side. Please try again.',
      'error.generic': 'Something went wrong. Please try again.',
      'error.messageFailed': 'Your message couldn’t be sent. Press Retry to try again.',
      'status.outside_hours': 'We’re outside our opening hours right now.',
      'status.nobody_online': 'Nobody is available to chat right now.',
      'offline.title': 'Leave us a message',
      'offline.body': 'We’ll reply by email as soon as we can.',
      'offline.message': 'Your message',
      'offline.email': 'Your email',
      'offline.submit': 'Send message',
      'offline.sending': 'Sending…',
      'offline.emptyMessage': 'Please write your message.',
      'offline.invalidEmail': 'Please enter a valid email address, like name@example.com.',
      'offline.sent': 'Thanks! We’ll reply to you at {email}.',
      'offline.sentNoEmail': 'Thanks! We’ll reply to you by email.',
      'rating.title': 'How was your chat?',
      'rating.score': '{n} of 5',
      'rating.low': 'Poor',
      'rating.high': 'Great',
      'rating.comment': 'Anything you’d like to add? (optional)',
      'rating.submit': 'Send rating',
      'rating.sending': 'Sending…',
      'rating.pick': 'Please choose a rating from 1 to 5.',
      'rating.thanks': 'Thank you for your feedback!',
      'rating.already_rated': 'You have already rated this conversation. Thank you!',
      'rating.rating_not_requested': 'This conversation can no longer be rated.',
      'rating.message_too_long': 'Your comment is too long. Please shorten it.',
      'rating.failed': 'Your rating couldn’t be sent. Please try again.',
      'state.seen': 'Seen',
      'error.invalid_department': 'Chat is not available on this page right now.',
      'error.invalid_email': 'Please enter a valid email address.',
      poweredBy: 'Powered by Switchboard',
    },
    'zh-CN': {
      title: '在线客服',
      launcherOpen: '打开在线客服',
      launcherClose: '关闭在线客服',
      minimize: '收起聊天窗口',
      langSwitch: '切换语言为 {lang}',
      langOther: 'EN',
      'connection.connecting': '正在连接…',
      'connection.connected': '已连接',
      'connection.reconnecting': '正在重新连接…',
      'connection.offline': '网络已断开',
      'status.none': '我们通常会在几分钟内回复。',
      'status.queued': '正在为您接入客服…',
      'status.assigned': '{name} 正在为您服务',
      'status.assignedAnon': '客服正在为您服务',
      'status.closed': '本次对话已结束',
      'queue.place': '您当前排在第 {position} 位',
      'queue.placeWait': '您当前排在第 {position} 位 · 预计等待{wait}',
      'wait.underMinute': '不到 1 分钟',
      'wait.minutes': '约 {n} 分钟',
      'wait.hours': '约 {n} 小时',
      greetingTitle: '您好',
      greetingBody: '有任何问题都可以问我们，真人客服会在这里回复您。',
      typing: '{name} 正在输入…',
      agent: '客服',
      you: '我',
      messages: '对话内容',
      inputLabel: '您的消息',
      placeholder: '输入消息…',
      send: '发送消息',
      'state.sending': '发送中…',
      'state.sent': '已发送',
      'state.failed': '发送失败',
      retry: '重试',
      ended: '对话已结束',
      endedHint: '本次对话已结束。发送新消息即可开始新的对话。',
      'notice.empty': '请先输入消息内容。',
      'notice.tooLong': '消息过长（{bytes} / {max} 字节），请删减后再发送。',
      'error.rate_limited': '发送过于频繁，请稍候再试。',
      'error.message_too_long': '消息过长，请删减后再发送。',
      'error.empty_message': '请先输入消息内容。',
      'error.conversation_closed': '本次对话已结束。点击“重试”即可在新对话中发送。',
      'error.conversation_not_found': '找不到该对话。发送新消息即可开始新的对话。',
      'error.unavailable': '客服系统暂时不可用，我们会持续重试。',
      'error.too_many_connections': '打开的聊天窗口过多，请关闭一个标签页。',
      'error.invalid_site_key': '本网站暂未开通在线客服。',
      'error.internal': '系统出现问题，请重试。',
      'error.generic': '出现问题，请重试。',
      'error.messageFailed': '消息未能发送，请点击“重试”。',
      'status.outside_hours': '现在不在我们的服务时间内。',
      'status.nobody_online': '目前没有客服在线。',
      'offline.title': '给我们留言',
      'offline.body': '我们会尽快通过邮件回复您。',
      'offline.message': '留言内容',
      'offline.email': '您的邮箱',
      'offline.submit': '提交留言',
      'offline.sending': '正在提交…',
      'offline.emptyMessage': '请填写留言内容。',
      'offline.invalidEmail': '请输入有效的邮箱地址，例如 name@example.com。',
      'offline.sent': '谢谢！我们会回复到 {email}。',
      'offline.sentNoEmail': '谢谢！我们会通过邮件回复您。',
      'rating.title': '您对本次服务满意吗？',
      'rating.score': '{n} 分（满分 5 分）',
      'rating.low': '不满意',
      'rating.high': '非常满意',
      'rating.comment': '还有什么想告诉我们的吗？（可选）',
      'rating.submit': '提交评价',
      'rating.sending': '正在提交…',
      'rating.pick': '请选择 1 到 5 分。',
      'rating.thanks': '感谢您的评价！',
      'rating.already_rated': '您已经评价过本次对话，谢谢！',
      'rating.rating_not_requested': '本次对话已无法评价。',
      'rating.message_too_long': '补充说明过长，请删减。',
      'rating.failed': '评价未能提交，请重试。',
      'state.seen': '已读',
      'error.invalid_department': '本页面暂未开通在线客服。',
      'error.invalid_email': '请输入有效的邮箱地址。',
      poweredBy: '由 Switchboard 提供支持',
    },
  };

  // ---------------------------------------------------------------------------------------
  // Small helpers
  // ---------------------------------------------------------------------------------------

  function storageGet(key) {
    // localStorage throws in some privacy modes and sandboxed frames; the widget still works.
    try {
      return window.localStorage.getItem(key);
    } catch (error) {
      return null;
    }
  }

  function storageSet(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch (error) {
      /* not persisted */
    }
  }

  function storageRemove(key) {
    try {
      window.localStorage.removeItem(key);
    } catch (error) {
      /* nothing stored */
    }
  }

  function readJson(key) {
    try {
      return JSON.parse(storageGet(key) || 'null');
    } catch (error) {
      return null;
    }
  }

  /** Same rule as the server's: one '@', a dotted domain, no spaces, at most 254 bytes. */
  function isEmail(value) {
    if (utf8Length(value) > 254 || /[\s\u0000-\u001f\u007f]/.test(value)) return false;
    var at = value.indexOf('@');
    if (at < 1) return false;
    var domain = value.slice(at + 1);
    return domain.indexOf('@') === -1 && domain.indexOf('.') !== -1 && domain[0] !== '.' && domain[domain.length - 1] !== '.';
  }

  function normalizeLanguage(tag) {
    return String(tag || '').toLowerCase().indexOf('zh') === 0 ? 'zh-CN' : 'en';
  }

  var lang = (function () {
    var stored = storageGet(LANG_KEY);
    if (stored && CATALOGUE[stored]) return stored;
    var attribute = script.getAttribute('data-lang');
    if (attribute) return normalizeLanguage(attribute);
    return normalizeLanguage((navigator.languages && navigator.languages[0]) || navigator.language);
  })();

  function t(key, params) {
    var template = CATALOGUE[lang][key] || CATALOGUE.en[key] || key;
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return params && name in params ? String(params[name]) : whole;
    });
  }

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') {
      try {
        return window.crypto.randomUUID();
      } catch (error) {
        /* insecure context: fall through */
      }
    }
    // getRandomValues works outside secure contexts too; format as an RFC 4122 v4 UUID.
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join('');
    return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' + hex.slice(16, 20) + '-' + hex.slice(20);
  }

  var encoder = new TextEncoder();
  function utf8Length(text) {
    return encoder.encode(text).length;
  }

  function formatTime(date) {
    if (!(date instanceof Date) || isNaN(date.getTime())) return '';
    try {
      return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' }).format(date);
    } catch (error) {
      return '';
    }
  }

  /** Creates an element with attributes; text goes in with textContent, never as HTML. */
  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    if (attributes) {
      Object.keys(attributes).forEach(function (name) {
        node.setAttribute(name, attributes[name]);
      });
    }
    if (text != null) node.textContent = text;
    return node;
  }

  var SVG_NS = 'http://www.w3.org/2000/svg';
  /** Builds a small stroke icon from trusted, constant path data. */
  function icon(paths, size) {
    var svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', String(size || 24));
    svg.setAttribute('height', String(size || 24));
    svg.setAttribute('fill', 'none');
    svg.setAttribute('stroke', 'currentColor');
    svg.setAttribute('stroke-width', '2');
    svg.setAttribute('stroke-linecap', 'round');
    svg.setAttribute('stroke-linejoin', 'round');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG_NS, 'path');
      path.setAttribute('d', d);
      svg.appendChild(path);
    });
    return svg;
  }

  var ICON_CHAT = ['M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z', 'M8.5 11h.01M12 11h.01M15.5 11h.01'];
  var ICON_CLOSE = ['M6 6l12 12', 'M18 6L6 18'];
  var ICON_MINIMIZE = ['M6 9l6 6 6-6'];
  var ICON_SEND = ['M5 12h13', 'M12 5l7 7-7 7'];
  var ICON_AGENT = ['M4 14v-2a8 8 0 0 1 16 0v2', 'M4 14a2 2 0 0 0 2 2h1v-5H6a2 2 0 0 0-2 2z', 'M20 14a2 2 0 0 1-2 2h-1v-5h1a2 2 0 0 1 2 2z', 'M17 16v1a3 3 0 0 1-3 3h-2'];

  // ---------------------------------------------------------------------------------------
  // Styles (inside the shadow root, so nothing leaks either way)
  // ---------------------------------------------------------------------------------------

  var CSS = [
    ':host{all:initial}',
    '*,*::before,*::after{box-sizing:border-box}',
    '[hidden]{display:none!important}',
    '.root{--accent:#3b5bdb;--accent-ink:#fff;--bg:#fff;--surface:#f6f7fb;--line:#e4e8f0;--ink:#1e2433;--muted:#6a7386;--danger:#c92a2a;--ok:#2b8a3e;--warn:#e67700;',
    'font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:var(--ink);-webkit-font-smoothing:antialiased}',
    'button,textarea{font:inherit;color:inherit}',
    'button{cursor:pointer}',
    ':focus-visible{outline:3px solid #91a7ff;outline-offset:2px}',
    '.launcher{position:fixed;right:24px;bottom:24px;width:60px;height:60px;border:0;border-radius:50%;background:var(--accent);color:var(--accent-ink);display:grid;place-items:center;box-shadow:0 12px 28px rgba(20,28,48,.28),0 2px 6px rgba(20,28,48,.18);transition:transform .18s ease,box-shadow .18s ease;z-index:2147483000}',
    '.launcher:hover{transform:translateY(-2px);box-shadow:0 16px 32px rgba(20,28,48,.32),0 3px 8px rgba(20,28,48,.2)}',
    '.launcher .i-close{display:none}',
    '.root[data-open="true"] .launcher .i-chat{display:none}',
    '.root[data-open="true"] .launcher .i-close{display:block}',
    '.badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#e03131;color:#fff;font-size:12px;font-weight:600;line-height:20px;text-align:center;box-shadow:0 0 0 2px #fff}',
    '.panel{position:fixed;right:24px;bottom:100px;width:380px;height:min(640px,calc(100vh - 124px));min-height:360px;display:flex;flex-direction:column;background:var(--bg);border-radius:18px;overflow:hidden;box-shadow:0 24px 60px rgba(20,28,48,.24),0 4px 14px rgba(20,28,48,.12);z-index:2147483000;animation:sb-in .2s ease-out}',
    '@keyframes sb-in{from{opacity:0;transform:translateY(12px) scale(.98)}to{opacity:1;transform:none}}',
    '.header{display:flex;align-items:flex-start;gap:12px;padding:16px 14px 14px 18px;color:#fff;background:linear-gradient(135deg,rgba(255,255,255,.12),rgba(0,0,0,.16)),var(--accent)}',
    '.avatar{flex:none;width:40px;height:40px;border-radius:50%;display:grid;place-items:center;background:rgba(255,255,255,.18)}',
    '.heading{flex:1;min-width:0}',
    '.title-row{display:flex;align-items:center;gap:8px;flex-wrap:wrap}',
    '.title{margin:0;font-size:16px;font-weight:650;letter-spacing:.01em}',
    '.status{margin:2px 0 0;font-size:13px;opacity:.92;overflow-wrap:anywhere}',
    '.connection{display:inline-flex;align-items:center;gap:6px;font-size:12px;padding:2px 8px;border-radius:999px;background:rgba(255,255,255,.16)}',
    '.connection .dot{width:7px;height:7px;border-radius:50%;background:#ffd43b}',
    '.connection[data-state="connected"] .dot{background:#69db7c}',
    '.connection[data-state="offline"] .dot{background:#ff8787}',
    '.connection[data-state="reconnecting"] .dot,.connection[data-state="connecting"] .dot{animation:sb-pulse 1.2s ease-in-out infinite}',
    '@keyframes sb-pulse{50%{opacity:.3}}',
    '.actions{display:flex;gap:4px;flex:none}',
    '.icon-btn{border:0;background:transparent;color:#fff;height:32px;min-width:32px;padding:0 8px;border-radius:8px;display:inline-grid;place-items:center;font-size:13px;font-weight:600}',
    '.icon-btn:hover{background:rgba(255,255,255,.16)}',
    '.queue{margin:0;padding:8px 18px;display:flex;align-items:center;gap:8px;font-size:13px;font-weight:600;color:#364fc7;background:#edf2ff;border-bottom:1px solid #dbe4ff}',
    '.queue::before{content:"";flex:none;width:8px;height:8px;border-radius:50%;background:#f59f00;animation:sb-pulse 1.6s ease-in-out infinite}',
    // Empty = not waiting: no box at all, but the live region stays in the tree so that screen
    // readers announce the first place as well as every change.
    '.queue:empty{padding:0;border:0}',
    '.queue:empty::before{display:none}',
    '.messages{flex:1;overflow-y:auto;padding:18px 16px 8px;background:var(--surface);display:flex;flex-direction:column;gap:10px;overscroll-behavior:contain}',
    '.empty{margin:auto 8px;text-align:center;color:var(--muted)}',
    '.empty strong{display:block;color:var(--ink);font-size:16px;margin-bottom:4px}',
    '.msg{display:flex;flex-direction:column;max-width:82%;align-self:flex-start}',
    '.msg[data-sender="visitor"]{align-self:flex-end;align-items:flex-end}',
    '.msg[data-sender="system"]{align-self:center;align-items:center;max-width:90%}',
    '.bubble{padding:9px 13px;border-radius:16px 16px 16px 5px;background:#fff;border:1px solid var(--line);box-shadow:0 1px 2px rgba(20,28,48,.04)}',
    '.msg[data-sender="visitor"] .bubble{background:var(--accent);color:var(--accent-ink);border-color:transparent;border-radius:16px 16px 5px 16px}',
    '.msg[data-sender="system"] .bubble{background:transparent;border:0;box-shadow:none;color:var(--muted);font-size:13px;text-align:center;padding:2px 8px}',
    '.msg[data-state="failed"] .bubble{opacity:.75}',
    '.msg[data-state="sending"] .bubble{opacity:.85}',
    '.text{white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}',
    '.name{display:block;font-size:12px;font-weight:600;color:var(--muted);margin:0 0 3px 4px}',
    '.meta{display:flex;align-items:center;gap:6px;margin:3px 4px 0;font-size:11.5px;color:var(--muted)}',
    '.msg[data-state="failed"] .meta{color:var(--danger)}',
    '.retry{border:0;background:transparent;color:var(--danger);font-weight:600;font-size:12px;padding:0 2px;text-decoration:underline}',
    '.divider{display:flex;align-items:center;gap:10px;color:var(--muted);font-size:12px;margin:6px 0}',
    '.divider::before,.divider::after{content:"";flex:1;height:1px;background:var(--line)}',
    '.typing{display:flex;align-items:center;gap:8px;padding:6px 18px;font-size:12.5px;color:var(--muted);background:var(--surface)}',
    '.dots{display:inline-flex;gap:3px}',
    '.dots i{width:5px;height:5px;border-radius:50%;background:currentColor;animation:sb-bounce 1.2s infinite ease-in-out}',
    '.dots i:nth-child(2){animation-delay:.15s}.dots i:nth-child(3){animation-delay:.3s}',
    '@keyframes sb-bounce{0%,80%,100%{opacity:.3;transform:none}40%{opacity:1;transform:translateY(-3px)}}',
    '.notice{margin:0;padding:8px 16px;font-size:13px;background:#fff4e6;color:#8a4b08;border-top:1px solid #ffe8cc}',
    '.notice[data-kind="error"]{background:#fff5f5;color:#a61e1e;border-top-color:#ffe3e3}',
    '.notice[data-kind="info"]{background:#edf2ff;color:#364fc7;border-top-color:#dbe4ff}',
    '.composer{display:flex;align-items:flex-end;gap:8px;padding:10px 12px 12px;border-top:1px solid var(--line);background:var(--bg)}',
    '.input{flex:1;min-height:42px;max-height:140px;resize:none;border:1px solid var(--line);border-radius:12px;padding:10px 12px;background:#fff;line-height:1.4;outline:none;transition:border-color .15s,box-shadow .15s}',
    '.input:focus{border-color:var(--accent);box-shadow:0 0 0 3px rgba(59,91,219,.15)}',
    '.send{flex:none;width:42px;height:42px;border:0;border-radius:12px;background:var(--accent);color:var(--accent-ink);display:grid;place-items:center;transition:filter .15s}',
    '.send:hover{filter:brightness(1.08)}',
    '.footer{padding:0 12px 10px;text-align:center;font-size:11px;color:#98a1b3;background:var(--bg)}',
    // Offline message form (replaces the composer while nobody can answer).
    '.offline{display:flex;flex-direction:column;gap:6px;padding:12px 14px 14px;border-top:1px solid var(--line);background:var(--bg);overflow-y:auto;max-height:62%}',
    '.offline-title{margin:0;font-size:15px;font-weight:650}',
    '.offline-body{margin:0 0 4px;color:var(--muted);font-size:13px}',
    '.field-label{font-size:12.5px;font-weight:600;color:var(--ink)}',
    '.field{width:100%;border:1px solid var(--line);border-radius:10px;padding:8px 10px;background:#fff;font:inherit;color:inherit;outline:none}',
    'textarea.field{min-height:72px;resize:vertical}',
    '.field:focus{border-color:var(--accent);box-shadow:0 0 0 3px rgba(59,91,219,.15)}',
    '.field[aria-invalid="true"]{border-color:var(--danger)}',
    '.field-error{margin:0;font-size:12.5px;color:var(--danger)}',
    '.primary{margin-top:4px;border:0;border-radius:10px;padding:9px 14px;background:var(--accent);color:var(--accent-ink);font-weight:600}',
    '.primary[aria-disabled="true"]{opacity:.7;cursor:progress}',
    '.offline-sent{margin:0;padding:8px 18px;font-size:13px;color:#2b6a3a;background:#ebfbee;border-bottom:1px solid #d3f9d8;overflow-wrap:anywhere}',
    '.offline-sent:empty{padding:0;border:0}',
    // Rating card after a conversation closed with a rating request.
    '.rating{align-self:stretch;margin:4px 0;padding:12px 14px;border:1px solid var(--line);border-radius:14px;background:#fff}',
    '.rating fieldset{border:0;margin:0;padding:0;min-width:0}',
    '.rating legend{padding:0;margin-bottom:6px;font-weight:650}',
    '.stars{display:flex;gap:4px}',
    '.star{position:relative;display:grid;place-items:center;width:36px;height:36px;border-radius:8px;font-size:24px;line-height:1;color:#ced4da;cursor:pointer}',
    '.star input{position:absolute;inset:0;margin:0;opacity:0;cursor:pointer}',
    '.star[data-filled="true"]{color:#f59f00}',
    '.star:has(input:focus-visible){outline:3px solid #91a7ff;outline-offset:1px}',
    '.scale{display:flex;justify-content:space-between;width:196px;font-size:11.5px;color:var(--muted);margin:2px 0 8px}',
    '.rating form{display:flex;flex-direction:column;gap:6px}',
    '.rating-done{margin:0;color:#2b6a3a;font-weight:600}',
    '.meta .state[data-seen="true"]{color:var(--accent);font-weight:600}',
    '@media (max-width:480px){',
    '.panel{inset:0;right:0;bottom:0;width:100%;height:100%;height:100dvh;min-height:0;border-radius:0}',
    '.root[data-open="true"] .launcher{display:none}',
    '.launcher{right:16px;bottom:16px}',
    '}',
    '@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}',
  ].join('\n');

  // ---------------------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------------------

  var state = {
    open: false,
    connection: 'connecting',
    started: false, // the first connection is made lazily for new visitors
    visitorId: null,
    visitorToken: storageGet(TOKEN_KEY),
    conversationId: null, // the conversation new messages go to (null: start one)
    status: 'none',
    agentId: null,
    unread: 0,
    queue: null, // { conversationId, position, waitSecs } while the open conversation waits
    availability: null, // { open, reason } from the latest welcome (null before the first one)
    offline: readJson(OFFLINE_KEY), // { conversationId, email } of a message left while closed
    offlineSending: null, // our message with an email, until its ack or refusal
  };

  var items = []; // messages and dividers, sorted by sortKey
  var bySeqKey = new Map(); // "conversation:seq" → message (dedupe)
  var byClientId = new Map(); // client_msg_id → our own message
  var lastSeq = new Map(); // conversation → highest seq shown
  var conversationOrder = new Map(); // conversation → display order
  var replaying = new Set(); // conversations between `resume` and `resumed`
  var agentNames = new Map(); // agent id → name (from frames and messages)
  var closedDividers = new Set();
  var readSent = new Map(); // conversation → highest seq we marked read
  var agentRead = new Map(); // conversation → highest seq an agent has read
  var ratings = new Map(); // conversation → rating card item
  var ratingInFlight = null; // the card whose `rate` awaits `rated` or an error
  var localOrder = 0;

  // ---------------------------------------------------------------------------------------
  // DOM
  // ---------------------------------------------------------------------------------------

  var host = document.createElement('div');
  host.id = 'switchboard-widget';
  host.setAttribute('data-switchboard', 'widget');
  // Inline so page CSS cannot move or hide the host; children are position:fixed anyway.
  host.style.cssText = 'all:initial;position:fixed;right:0;bottom:0;width:0;height:0;z-index:2147483000;';
  var shadow = host.attachShadow({ mode: 'open' });
  var style = document.createElement('style');
  style.textContent = CSS;
  shadow.appendChild(style);

  var root = el('div', { class: 'root', 'data-open': 'false' });
  var accent = script.getAttribute('data-color');
  if (accent && /^#[0-9a-f]{3,8}$/i.test(accent)) root.style.setProperty('--accent', accent);
  shadow.appendChild(root);

  var launcher = el('button', {
    type: 'button',
    class: 'launcher',
    'data-testid': 'sb-launcher',
    'aria-expanded': 'false',
    'aria-controls': 'sb-panel',
  });
  var chatIcon = icon(ICON_CHAT, 28);
  chatIcon.setAttribute('class', 'i-chat');
  var closeIcon = icon(ICON_CLOSE, 26);
  closeIcon.setAttribute('class', 'i-close');
  var badge = el('span', { class: 'badge', 'aria-hidden': 'true' });
  badge.hidden = true;
  launcher.appendChild(chatIcon);
  launcher.appendChild(closeIcon);
  launcher.appendChild(badge);

  var panel = el('section', { class: 'panel', id: 'sb-panel', 'data-testid': 'sb-panel', role: 'dialog', 'aria-labelledby': 'sb-title' });
  panel.hidden = true;

  var header = el('header', { class: 'header' });
  var avatar = el('div', { class: 'avatar' });
  avatar.appendChild(icon(ICON_AGENT, 22));
  var heading = el('div', { class: 'heading' });
  var titleRow = el('div', { class: 'title-row' });
  var title = el('h2', { class: 'title', id: 'sb-title' });
  var connection = el('span', { class: 'connection', 'data-testid': 'sb-connection', 'data-state': 'connecting', role: 'status' });
  var connectionDot = el('span', { class: 'dot', 'aria-hidden': 'true' });
  var connectionLabel = el('span');
  connection.appendChild(connectionDot);
  connection.appendChild(connectionLabel);
  titleRow.appendChild(title);
  titleRow.appendChild(connection);
  var statusLine = el('p', { class: 'status', 'data-testid': 'sb-status', 'data-status': 'none', 'aria-live': 'polite' });
  heading.appendChild(titleRow);
  heading.appendChild(statusLine);
  var actions = el('div', { class: 'actions' });
  var langButton = el('button', { type: 'button', class: 'icon-btn', 'data-testid': 'sb-lang' });
  var minimizeButton = el('button', { type: 'button', class: 'icon-btn' });
  minimizeButton.appendChild(icon(ICON_MINIMIZE, 20));
  actions.appendChild(langButton);
  actions.appendChild(minimizeButton);
  header.appendChild(avatar);
  header.appendChild(heading);
  header.appendChild(actions);

  // Place in line: a polite live region, empty (and collapsed) unless the conversation waits.
  var queueLine = el('p', { class: 'queue', 'data-testid': 'sb-queue', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });

  var list = el('div', { class: 'messages', 'data-testid': 'sb-messages', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: '0' });
  var empty = el('div', { class: 'empty' });
  var emptyTitle = el('strong');
  var emptyBody = el('span');
  empty.appendChild(emptyTitle);
  empty.appendChild(emptyBody);
  list.appendChild(empty);

  var typing = el('div', { class: 'typing', 'data-testid': 'sb-typing', 'aria-live': 'polite' });
  var dots = el('span', { class: 'dots', 'aria-hidden': 'true' });
  dots.appendChild(el('i'));
  dots.appendChild(el('i'));
  dots.appendChild(el('i'));
  var typingText = el('span');
  typing.appendChild(dots);
  typing.appendChild(typingText);
  typing.hidden = true;

  var notice = el('p', { class: 'notice', 'data-testid': 'sb-notice', role: 'alert' });
  notice.hidden = true;

  var composer = el('form', { class: 'composer', novalidate: '' });
  var input = el('textarea', { class: 'input', 'data-testid': 'sb-input', rows: '1' });
  var sendButton = el('button', { type: 'submit', class: 'send', 'data-testid': 'sb-send' });
  sendButton.appendChild(icon(ICON_SEND, 20));
  composer.appendChild(input);
  composer.appendChild(sendButton);

  // Nobody can answer and no conversation is open: a message and an email instead of the chat.
  var offlineForm = el('form', { class: 'offline', 'data-testid': 'sb-offline', novalidate: '', 'aria-labelledby': 'sb-offline-title' });
  var offlineTitle = el('p', { class: 'offline-title', id: 'sb-offline-title' });
  var offlineBody = el('p', { class: 'offline-body' });
  var offlineTextLabel = el('label', { class: 'field-label', for: 'sb-offline-text' });
  var offlineText = el('textarea', { class: 'field', id: 'sb-offline-text', 'data-testid': 'sb-offline-text', rows: '3' });
  var offlineEmailLabel = el('label', { class: 'field-label', for: 'sb-offline-email' });
  var offlineEmail = el('input', { class: 'field', id: 'sb-offline-email', 'data-testid': 'sb-offline-email', type: 'email', autocomplete: 'email', inputmode: 'email', maxlength: '254' });
  var offlineError = el('p', { class: 'field-error', id: 'sb-offline-error', 'data-testid': 'sb-offline-error', role: 'alert' });
  offlineError.hidden = true;
  var offlineSubmit = el('button', { type: 'submit', class: 'primary', 'data-testid': 'sb-offline-submit' });
  [offlineTitle, offlineBody, offlineTextLabel, offlineText, offlineEmailLabel, offlineEmail, offlineError, offlineSubmit].forEach(function (node) {
    offlineForm.appendChild(node);
  });
  offlineForm.hidden = true;
  // "We'll reply to you at …": a polite status line while the message left waits.
  var offlineSent = el('p', { class: 'offline-sent', 'data-testid': 'sb-offline-sent', role: 'status', 'aria-live': 'polite' });

  var footer = el('div', { class: 'footer' });

  panel.appendChild(header);
  panel.appendChild(queueLine);
  panel.appendChild(offlineSent);
  panel.appendChild(list);
  panel.appendChild(typing);
  panel.appendChild(notice);
  panel.appendChild(composer);
  panel.appendChild(offlineForm);
  panel.appendChild(footer);
  root.appendChild(panel);
  root.appendChild(launcher);

  // ---------------------------------------------------------------------------------------
  // Rendering
  // ---------------------------------------------------------------------------------------

  function renderStatic() {
    title.textContent = t('title');
    launcher.setAttribute('aria-label', state.open ? t('launcherClose') : t('launcherOpen'));
    minimizeButton.setAttribute('aria-label', t('minimize'));
    minimizeButton.setAttribute('title', t('minimize'));
    langButton.textContent = t('langOther');
    langButton.setAttribute('aria-label', t('langSwitch', { lang: t('langOther') }));
    langButton.setAttribute('title', t('langSwitch', { lang: t('langOther') }));
    panel.setAttribute('lang', lang);
    list.setAttribute('aria-label', t('messages'));
    emptyTitle.textContent = t('greetingTitle');
    emptyBody.textContent = t('greetingBody');
    input.setAttribute('aria-label', t('inputLabel'));
    input.setAttribute('placeholder', t('placeholder'));
    sendButton.setAttribute('aria-label', t('send'));
    sendButton.setAttribute('title', t('send'));
    footer.textContent = t('poweredBy');
    offlineTitle.textContent = t('offline.title');
    offlineBody.textContent = t('offline.body');
    offlineTextLabel.textContent = t('offline.message');
    offlineEmailLabel.textContent = t('offline.email');
    offlineEmail.setAttribute('placeholder', 'name@example.com');
    renderConnection();
    renderStatus();
    renderQueue();
    renderTyping();
    renderNotice();
    renderOffline();
    items.forEach(function (item) {
      if (item.kind === 'message') renderMessage(item);
      else if (item.kind === 'rating') renderRating(item);
      else item.el.textContent = t('ended');
    });
  }

  function renderConnection() {
    connection.setAttribute('data-state', state.connection);
    connectionLabel.textContent = t('connection.' + state.connection);
  }

  function agentName() {
    return (state.agentId && agentNames.get(state.agentId)) || null;
  }

  function renderStatus() {
    statusLine.setAttribute('data-status', state.status);
    var text;
    if (state.status === 'assigned') {
      var name = agentName();
      text = name ? t('status.assigned', { name: name }) : t('status.assignedAnon');
    } else if (offlineMode()) {
      text = t('status.' + (state.availability.reason === 'outside_hours' ? 'outside_hours' : 'nobody_online'));
    } else {
      text = t('status.' + state.status);
    }
    statusLine.textContent = text;
    if (state.status !== 'queued') state.queue = null;
    renderQueue();
    renderOffline();
  }

  function hasOpenConversation() {
    return Boolean(state.conversationId) && state.status !== 'closed' && state.status !== 'none';
  }

  /** Nobody can answer (per the latest welcome) and there is no open conversation to write to. */
  function offlineMode() {
    return Boolean(state.availability) && state.availability.open === false && !hasOpenConversation();
  }

  /** The message left while closed, when it is the conversation still waiting. */
  function offlineWaiting() {
    return Boolean(state.offline) && state.offline.conversationId === state.conversationId && state.status === 'queued';
  }

  var offlineErrorKey = null;
  function renderOffline() {
    var form = offlineMode() || Boolean(state.offlineSending);
    // The chat box goes away under the cursor (welcome said nobody can answer): follow it.
    var moveFocus = form && offlineForm.hidden && shadow.activeElement === input;
    offlineForm.hidden = !form;
    composer.hidden = form;
    if (moveFocus) offlineText.focus();
    empty.hidden = form || items.length > 0;
    var sending = Boolean(state.offlineSending);
    offlineSubmit.textContent = sending ? t('offline.sending') : t('offline.submit');
    offlineSubmit.setAttribute('aria-disabled', sending ? 'true' : 'false');
    offlineError.textContent = offlineErrorKey ? t(offlineErrorKey) : '';
    offlineError.hidden = !offlineErrorKey;
    var sent = '';
    if (offlineWaiting()) sent = state.offline.email ? t('offline.sent', { email: state.offline.email }) : t('offline.sentNoEmail');
    if (offlineSent.textContent !== sent) offlineSent.textContent = sent;
  }

  /** "about 3 min": the server's estimate, rounded up to whole minutes (hours past 90 min). */
  function waitText(seconds) {
    if (seconds < 60) return t('wait.underMinute');
    var minutes = Math.ceil(seconds / 60);
    if (minutes <= 90) return t('wait.minutes', { n: minutes });
    return t('wait.hours', { n: Math.round(minutes / 60) });
  }

  function renderQueue() {
    var queue = state.queue;
    var waiting = Boolean(queue) && state.status === 'queued' && queue.conversationId === state.conversationId;
    queueLine.setAttribute('data-position', waiting ? String(queue.position) : '');
    queueLine.setAttribute('data-wait', waiting && queue.waitSecs != null ? String(queue.waitSecs) : '');
    var text = '';
    if (waiting) {
      text = queue.waitSecs == null
        ? t('queue.place', { position: queue.position })
        : t('queue.placeWait', { position: queue.position, wait: waitText(queue.waitSecs) });
    }
    // Same text again (e.g. a repeated frame after a reconnect): no second announcement.
    if (queueLine.textContent !== text) queueLine.textContent = text;
  }

  var remoteTyping = null; // { name, timer }
  function renderTyping() {
    if (!remoteTyping) {
      typing.hidden = true;
      typingText.textContent = '';
      return;
    }
    typingText.textContent = t('typing', { name: remoteTyping.name || t('agent') });
    typing.hidden = false;
  }

  var currentNotice = null; // { key, params, kind } — kept as a key so a language switch re-renders it
  function showNotice(key, params, kind) {
    currentNotice = { key: key, params: params || null, kind: kind || 'warn' };
    renderNotice();
  }
  function clearNotice() {
    currentNotice = null;
    renderNotice();
  }
  function renderNotice() {
    if (!currentNotice) {
      notice.hidden = true;
      notice.textContent = '';
      return;
    }
    notice.textContent = t(currentNotice.key, currentNotice.params);
    notice.setAttribute('data-kind', currentNotice.kind);
    notice.hidden = false;
  }

  function renderBadge() {
    badge.hidden = state.unread === 0 || state.open;
    badge.textContent = state.unread > 9 ? '9+' : String(state.unread);
  }

  function buildMessage(message) {
    var node = el('div', { class: 'msg', 'data-testid': 'sb-message' });
    var bubble = el('div', { class: 'bubble' });
    var name = el('span', { class: 'name' });
    var text = el('div', { class: 'text', 'data-testid': 'sb-text' });
    text.textContent = message.text; // user text: textContent only
    bubble.appendChild(name);
    bubble.appendChild(text);
    var meta = el('div', { class: 'meta' });
    var time = el('time');
    var stateLabel = el('span', { class: 'state' });
    var retry = el('button', { type: 'button', class: 'retry' });
    retry.addEventListener('click', function () {
      retrySend(message);
    });
    meta.appendChild(time);
    meta.appendChild(stateLabel);
    meta.appendChild(retry);
    node.appendChild(bubble);
    node.appendChild(meta);
    message.el = node;
    message.parts = { name: name, time: time, state: stateLabel, retry: retry };
    renderMessage(message);
  }

  function renderMessage(message) {
    var node = message.el;
    var parts = message.parts;
    var kind = message.sender.kind;
    node.setAttribute('data-seq', message.seq == null ? '' : String(message.seq));
    node.setAttribute('data-client-msg-id', message.clientMsgId || '');
    node.setAttribute('data-sender', kind);
    node.setAttribute('data-state', message.state);
    if (kind === 'agent') {
      parts.name.textContent = message.sender.name || t('agent');
      parts.name.hidden = false;
    } else {
      parts.name.textContent = '';
      parts.name.hidden = true;
    }
    parts.time.textContent = formatTime(message.createdAt);
    if (message.createdAt instanceof Date && !isNaN(message.createdAt.getTime())) {
      parts.time.setAttribute('datetime', message.createdAt.toISOString());
    }
    // Delivery state only matters for what this visitor wrote.
    var showState = kind === 'visitor' && (message.own || message.seen);
    var seen = showState && message.seen === true;
    parts.state.textContent = showState ? t(seen ? 'state.seen' : 'state.' + message.state) : '';
    parts.state.hidden = !showState;
    parts.state.setAttribute('data-seen', seen ? 'true' : 'false');
    node.setAttribute('data-seen', seen ? 'true' : 'false');
    parts.retry.textContent = t('retry');
    parts.retry.hidden = !(showState && message.state === 'failed');
  }

  function sortKey(item) {
    var order = item.conversationId != null && conversationOrder.has(item.conversationId) ? conversationOrder.get(item.conversationId) : 1e9;
    var seq = item.kind === 'divider' ? 1e15 : item.kind === 'rating' ? 1e15 + 1 : item.seq == null ? 1e16 : item.seq;
    return [order, seq, item.order];
  }

  function compareKeys(a, b) {
    for (var i = 0; i < 3; i++) {
      if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    }
    return 0;
  }

  /** Puts `item` at its sorted place in `items` and in the DOM (appendChild-style move). */
  function place(item) {
    var index = items.indexOf(item);
    if (index !== -1) items.splice(index, 1);
    var key = sortKey(item);
    var at = items.length;
    while (at > 0 && compareKeys(sortKey(items[at - 1]), key) > 0) at--;
    items.splice(at, 0, item);
    var next = items[at + 1];
    list.insertBefore(item.el, next ? next.el : null);
    empty.hidden = items.length > 0;
  }

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  function scrollToBottom() {
    list.scrollTop = list.scrollHeight;
  }

  function ensureConversation(id) {
    if (id && !conversationOrder.has(id)) conversationOrder.set(id, conversationOrder.size);
  }

  function addClosedDivider(conversationId) {
    if (closedDividers.has(conversationId)) return;
    closedDividers.add(conversationId);
    var divider = { kind: 'divider', conversationId: conversationId, order: localOrder++, el: el('div', { class: 'divider', role: 'note' }, t('ended')) };
    var stick = nearBottom();
    place(divider);
    if (stick) scrollToBottom();
  }

  /** Marks "Seen" under the visitor's last message an agent has read in `conversationId`. */
  function updateSeen(conversationId) {
    var mark = agentRead.get(conversationId) || 0;
    var last = null;
    items.forEach(function (item) {
      if (item.kind !== 'message' || item.conversationId !== conversationId || item.sender.kind !== 'visitor') return;
      if (item.seq != null && item.seq <= mark && (!last || item.seq > last.seq)) last = item;
    });
    items.forEach(function (item) {
      if (item.kind !== 'message' || item.conversationId !== conversationId) return;
      var seen = item === last;
      if (Boolean(item.seen) !== seen) {
        item.seen = seen;
        renderMessage(item);
      }
    });
  }

  /** Adds the 1–5 rating card after a conversation that was closed with a rating request. */
  function showRating(conversationId) {
    if (ratings.has(conversationId)) return;
    ensureConversation(conversationId);
    var item = { kind: 'rating', conversationId: conversationId, order: localOrder++, score: 0, phase: 'ask', errorKey: null, doneKey: null };
    buildRating(item);
    ratings.set(conversationId, item);
    var stick = nearBottom();
    place(item);
    if (stick) scrollToBottom();
  }

  function buildRating(item) {
    var node = el('div', { class: 'rating', 'data-testid': 'sb-rating', 'data-conversation-id': item.conversationId });
    var form = el('form', { novalidate: '' });
    var fieldset = el('fieldset');
    var legend = el('legend');
    var stars = el('div', { class: 'stars' });
    var labels = [];
    var inputs = [];
    for (var n = 1; n <= 5; n++) {
      (function (score) {
        var label = el('label', { class: 'star', 'data-testid': 'sb-rating-star', 'data-score': String(score) });
        var input = el('input', { type: 'radio', name: 'sb-score-' + item.conversationId, value: String(score) });
        input.addEventListener('change', function () {
          if (!input.checked) return;
          item.score = score;
          item.errorKey = null;
          renderRating(item);
        });
        label.appendChild(input);
        label.appendChild(el('span', { 'aria-hidden': 'true' }, '\u2605'));
        stars.appendChild(label);
        labels.push(label);
        inputs.push(input);
      })(n);
    }
    var scale = el('div', { class: 'scale', 'aria-hidden': 'true' });
    var low = el('span');
    var high = el('span');
    scale.appendChild(low);
    scale.appendChild(high);
    fieldset.appendChild(legend);
    fieldset.appendChild(stars);
    fieldset.appendChild(scale);
    var commentId = 'sb-rating-comment-' + item.conversationId;
    var commentLabel = el('label', { class: 'field-label', for: commentId });
    var comment = el('textarea', { class: 'field', id: commentId, 'data-testid': 'sb-rating-comment', rows: '2' });
    var error = el('p', { class: 'field-error', 'data-testid': 'sb-rating-error', role: 'alert' });
    var submitButton = el('button', { type: 'submit', class: 'primary', 'data-testid': 'sb-rating-submit' });
    form.appendChild(fieldset);
    form.appendChild(commentLabel);
    form.appendChild(comment);
    form.appendChild(error);
    form.appendChild(submitButton);
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      submitRating(item);
    });
    var done = el('p', { class: 'rating-done', 'data-testid': 'sb-rating-done', role: 'status', tabindex: '-1' });
    node.appendChild(form);
    node.appendChild(done);
    item.el = node;
    item.parts = { form: form, legend: legend, labels: labels, inputs: inputs, low: low, high: high, commentLabel: commentLabel, comment: comment, error: error, submit: submitButton, done: done };
    renderRating(item);
  }

  function renderRating(item) {
    var parts = item.parts;
    item.el.setAttribute('data-phase', item.phase);
    parts.legend.textContent = t('rating.title');
    parts.labels.forEach(function (label, index) {
      label.setAttribute('data-filled', index < item.score ? 'true' : 'false');
      parts.inputs[index].setAttribute('aria-label', t('rating.score', { n: index + 1 }));
    });
    parts.low.textContent = t('rating.low');
    parts.high.textContent = t('rating.high');
    parts.commentLabel.textContent = t('rating.comment');
    var sending = item.phase === 'sending';
    parts.submit.textContent = sending ? t('rating.sending') : t('rating.submit');
    parts.submit.setAttribute('aria-disabled', sending ? 'true' : 'false');
    parts.error.textContent = item.errorKey ? t(item.errorKey) : '';
    parts.error.hidden = !item.errorKey;
    var finished = item.phase === 'done';
    parts.form.hidden = finished;
    parts.done.textContent = finished ? t(item.doneKey || 'rating.thanks') : '';
    parts.done.hidden = !finished;
  }

  function submitRating(item) {
    if (item.phase !== 'ask') return;
    if (!item.score) {
      item.errorKey = 'rating.pick';
      renderRating(item);
      item.parts.inputs[0].focus();
      return;
    }
    var comment = item.parts.comment.value.trim();
    if (utf8Length(comment) > MAX_TEXT_BYTES) {
      item.errorKey = 'rating.message_too_long';
      renderRating(item);
      item.parts.comment.focus();
      return;
    }
    var frame = { type: 'rate', conversation_id: item.conversationId, score: item.score };
    if (comment) frame.comment = comment;
    if (!socketOpen() || ratingInFlight || !send(frame)) {
      item.errorKey = 'rating.failed';
      renderRating(item);
      return;
    }
    item.phase = 'sending';
    item.errorKey = null;
    ratingInFlight = item;
    item.timer = setTimeout(function () {
      settleRating(item, 'rating.failed');
    }, 10000);
    renderRating(item);
  }

  /** Ends the wait for `rated`: `doneKey` finishes the card, `errorKey` lets the visitor retry. */
  function settleRating(item, errorKey, doneKey) {
    if (ratingInFlight !== item) return;
    ratingInFlight = null;
    clearTimeout(item.timer);
    var focused = shadow.activeElement && item.el.contains(shadow.activeElement);
    if (doneKey) {
      item.phase = 'done';
      item.doneKey = doneKey;
    } else {
      item.phase = 'ask';
      item.errorKey = errorKey;
    }
    renderRating(item);
    if (doneKey && focused) item.parts.done.focus(); // the form is gone: keep the focus in the card
  }

  function onRated(frame) {
    var item = ratings.get(frame.conversation_id);
    if (!item) return;
    if (ratingInFlight === item) settleRating(item, null, 'rating.thanks');
    else {
      item.phase = 'done';
      item.doneKey = 'rating.thanks';
      renderRating(item);
    }
  }

  function onRead(frame) {
    var id = frame.conversation_id;
    var reader = frame.reader || {};
    if (!id || typeof frame.seq !== 'number') return;
    if (reader.kind === 'visitor') {
      // Our own mark, replayed after a resume: nothing to send again up to there.
      if (frame.seq > (readSent.get(id) || 0)) readSent.set(id, frame.seq);
      return;
    }
    if (reader.kind !== 'agent' || frame.seq <= (agentRead.get(id) || 0)) return;
    agentRead.set(id, frame.seq);
    updateSeen(id);
  }

  // Read marks: only what the visitor can actually see (panel open, page visible, replay done).
  var readTimer = null;
  function scheduleRead() {
    if (readTimer) return;
    readTimer = setTimeout(function () {
      readTimer = null;
      sendRead();
    }, READ_DELAY_MS);
  }

  function sendRead() {
    var id = state.conversationId;
    if (!id || !state.open || document.visibilityState !== 'visible' || !socketOpen() || replaying.has(id)) return;
    var seq = lastSeq.get(id) || 0;
    if (seq <= (readSent.get(id) || 0)) return;
    if (send({ type: 'read', conversation_id: id, seq: seq })) readSent.set(id, seq);
  }

  // ---------------------------------------------------------------------------------------
  // Connection
  // ---------------------------------------------------------------------------------------

  var socket = null;
  var welcomed = false;
  var attempt = 0;
  var reconnectTimer = null;
  var heartbeatTimer = null;
  var lastFrameAt = 0;
  var lastErrorCode = null;

  function setConnection(next) {
    if (!navigator.onLine && next !== 'connected') next = 'offline';
    state.connection = next;
    renderConnection();
  }

  function socketOpen() {
    return socket && socket.readyState === WebSocket.OPEN && welcomed;
  }

  var outbox = [];
  var tokens = SEND_BURST;
  var refilledAt = Date.now();
  var pumpTimer = null;

  /** Queues a frame for the open socket; false if there is none (it is re-sent later anyway). */
  function send(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    outbox.push(JSON.stringify(frame));
    pump();
    return true;
  }

  function pump() {
    var now = Date.now();
    tokens = Math.min(SEND_BURST, tokens + ((now - refilledAt) / 1000) * SEND_RATE_PER_SEC);
    refilledAt = now;
    while (outbox.length && tokens >= 1 && socket && socket.readyState === WebSocket.OPEN) {
      try {
        socket.send(outbox.shift());
      } catch (error) {
        outbox.length = 0;
        return;
      }
      tokens -= 1;
    }
    if (outbox.length && !pumpTimer) {
      pumpTimer = setTimeout(function () {
        pumpTimer = null;
        pump();
      }, 1000 / SEND_RATE_PER_SEC);
    }
  }

  function connect() {
    state.started = true;
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (socket) return;
    if (!navigator.onLine) {
      setConnection('offline'); // the `online` event reconnects
      return;
    }
    var query = new URLSearchParams();
    query.set('site_key', SITE_KEY);
    if (state.visitorToken) query.set('visitor_token', state.visitorToken);
    if (DEPARTMENT) query.set('department', DEPARTMENT);
    if (IDENTITY.user_id && IDENTITY.user_hash) {
      Object.keys(IDENTITY).forEach(function (key) {
        if (IDENTITY[key]) query.set(key, IDENTITY[key]);
      });
    }
    query.set('page_url', String(window.location.href).slice(0, 1000));
    var ws;
    try {
      ws = new WebSocket(WS_ORIGIN + '/v1/visitor/ws?' + query.toString());
    } catch (error) {
      scheduleReconnect();
      return;
    }
    socket = ws;
    welcomed = false;
    lastErrorCode = null;
    if (state.connection !== 'reconnecting') setConnection('connecting');
    ws.onmessage = function (event) {
      if (socket !== ws) return;
      lastFrameAt = Date.now();
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (frame && typeof frame === 'object') handleFrame(frame);
    };
    ws.onclose = function (event) {
      if (socket !== ws) return;
      dropped(event.code);
    };
    ws.onerror = function () {
      /* a close event follows; the console already shows the network error */
    };
    ws.onopen = function () {
      lastFrameAt = Date.now();
      startHeartbeat();
    };
  }

  /** The socket is gone (closed, or declared dead): forget it and plan the next attempt. */
  function dropped(code) {
    var ws = socket;
    socket = null;
    welcomed = false;
    stopHeartbeat();
    if (ws) {
      ws.onmessage = ws.onclose = ws.onerror = ws.onopen = null;
      try {
        ws.close();
      } catch (error) {
        /* already closed */
      }
    }
    outbox.length = 0; // frames for a dead socket: resumes and unacked messages are re-sent
    clearTimeout(pumpTimer);
    pumpTimer = null;
    replaying.clear();
    setRemoteTyping(null);
    resetTyping();
    if (ratingInFlight) settleRating(ratingInFlight, 'rating.failed');
    // 1008 means "refused": retrying at once will not help, so wait much longer.
    var refused = code === 1008 && REFUSED_RETRY_MS[lastErrorCode] ? lastErrorCode : null;
    if (refused === 'invalid_site_key' || refused === 'invalid_department') showNotice('error.' + refused, null, 'error');
    if (refused === 'too_many_connections') showNotice('error.too_many_connections', null, 'warn');
    setConnection('reconnecting');
    scheduleReconnect(refused ? REFUSED_RETRY_MS[refused] : 0);
  }

  function scheduleReconnect(minimumMs) {
    clearTimeout(reconnectTimer);
    if (!navigator.onLine) {
      setConnection('offline');
      return;
    }
    // 0.5 s doubling to 10 s, with ±25 % jitter so a restarted gateway is not hit all at once.
    var base = Math.max(minimumMs || 0, Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * Math.pow(2, attempt)));
    attempt++;
    var delay = base * (0.75 + Math.random() * 0.5);
    reconnectTimer = setTimeout(connect, delay);
  }

  function startHeartbeat() {
    stopHeartbeat();
    heartbeatTimer = setInterval(function () {
      if (!socket) return;
      if (Date.now() - lastFrameAt > SILENT_LIMIT_MS) {
        dropped(1006); // no pong or anything: the network died without a close
        return;
      }
      send({ type: 'ping' });
    }, PING_EVERY_MS);
  }

  function stopHeartbeat() {
    clearInterval(heartbeatTimer);
    heartbeatTimer = null;
  }

  window.addEventListener('offline', function () {
    setConnection('offline');
  });
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible') scheduleRead();
  });
  window.addEventListener('online', function () {
    if (!state.started) return;
    if (socket) {
      setConnection(welcomed ? 'connected' : 'connecting');
    } else {
      attempt = 0;
      setConnection('reconnecting');
      connect();
    }
  });

  // ---------------------------------------------------------------------------------------
  // Frames
  // ---------------------------------------------------------------------------------------

  function handleFrame(frame) {
    switch (frame.type) {
      case 'welcome':
        return onWelcome(frame);
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
      case 'queue':
        return onQueue(frame);
      case 'read':
        return onRead(frame);
      case 'rated':
        return onRated(frame);
      case 'error':
        return onError(frame);
      default:
        return; // pong and unknown frames: nothing to do
    }
  }

  function onWelcome(frame) {
    welcomed = true;
    attempt = 0;
    state.visitorId = frame.visitor_id || state.visitorId;
    if (frame.visitor_token) {
      state.visitorToken = frame.visitor_token;
      storageSet(TOKEN_KEY, frame.visitor_token);
    }
    if (currentNotice && /^error\.(unavailable|too_many_connections|invalid_site_key|invalid_department)$/.test(currentNotice.key)) clearNotice();
    var availability = frame.availability;
    state.availability = availability && typeof availability === 'object'
      ? { open: availability.open !== false, reason: availability.reason || null }
      : null;
    setConnection('connected');

    var conversation = frame.conversation;
    if (conversation && conversation.id) {
      ensureConversation(conversation.id);
      state.conversationId = conversation.id;
      state.status = conversation.status || 'queued';
      state.agentId = conversation.agent_id || null;
      if (conversation.offline === true && !(state.offline && state.offline.conversationId === conversation.id)) {
        // A message left while closed, from before this page kept its email: no address to show.
        state.offline = { conversationId: conversation.id, email: null };
      }
      renderStatus();
      replaying.add(conversation.id);
      send({ type: 'resume', conversation_id: conversation.id, after_seq: lastSeq.get(conversation.id) || 0 });
    } else if (state.conversationId && state.status !== 'closed') {
      // We showed an open conversation, but the server has none open: it ended meanwhile.
      markClosed(state.conversationId);
    }
    renderStatus(); // availability may have changed: chat or the message form
    // Messages of the resumed conversation wait for `resumed` (the replay may show they
    // arrived already); everything else still unacknowledged goes out now.
    resendPending(function (message) {
      return !message.conversationId || !replaying.has(message.conversationId);
    });
  }

  function onMessage(frame) {
    if (!frame.conversation_id || typeof frame.seq !== 'number') return;
    ensureConversation(frame.conversation_id);
    var key = frame.conversation_id + ':' + frame.seq;
    var sender = frame.sender || { kind: 'system', id: '', name: '' };
    if (sender.kind === 'agent' && sender.id && sender.name) {
      agentNames.set(sender.id, sender.name);
      if (sender.id === state.agentId) renderStatus();
    }
    if (frame.seq > (lastSeq.get(frame.conversation_id) || 0)) lastSeq.set(frame.conversation_id, frame.seq);
    if (remoteTyping && remoteTyping.id === sender.id) setRemoteTyping(null);

    var createdAt = frame.created_at ? new Date(frame.created_at) : new Date();
    var existing = bySeqKey.get(key);
    if (existing) {
      existing.createdAt = createdAt; // seen already (via ack or replay): refresh only
      renderMessage(existing);
      return;
    }
    var stick = nearBottom();
    var own = frame.client_msg_id ? byClientId.get(frame.client_msg_id) : null;
    if (own && (own.seq == null || own.seq === frame.seq)) {
      own.seq = frame.seq;
      own.conversationId = frame.conversation_id;
      own.createdAt = createdAt;
      own.state = 'sent';
      own.sender = sender;
      bySeqKey.set(key, own);
      renderMessage(own);
      place(own);
      stored(own);
    } else {
      var message = {
        kind: 'message',
        conversationId: frame.conversation_id,
        seq: frame.seq,
        clientMsgId: frame.client_msg_id || '',
        sender: sender,
        text: String(frame.text == null ? '' : frame.text),
        createdAt: createdAt,
        state: 'sent',
        own: false,
        order: localOrder++,
      };
      buildMessage(message);
      bySeqKey.set(key, message);
      place(message);
      if (sender.kind !== 'visitor' && !replaying.has(frame.conversation_id) && !state.open) {
        state.unread++;
        renderBadge();
      }
    }
    if (stick) scrollToBottom();
    if (agentRead.has(frame.conversation_id)) updateSeen(frame.conversation_id);
    if (!replaying.has(frame.conversation_id)) scheduleRead();
  }

  /** One of our messages is stored: forget it in the saved outbox; a left message is confirmed. */
  function stored(message) {
    saveOutbox();
    if (state.offlineSending !== message) return;
    state.offlineSending = null;
    state.offline = { conversationId: message.conversationId, email: message.email || null };
    storageSet(OFFLINE_KEY, JSON.stringify(state.offline));
    var hadFocus = shadow.activeElement && offlineForm.contains(shadow.activeElement);
    offlineText.value = '';
    renderStatus();
    if (hadFocus && state.open) input.focus(); // the form is gone; the chat box takes over
  }

  function onAck(frame) {
    var message = byClientId.get(frame.client_msg_id);
    if (!message) return;
    ensureConversation(frame.conversation_id);
    message.conversationId = frame.conversation_id;
    if (!state.conversationId || state.status === 'closed' || state.status === 'none') {
      // A first message opened this conversation.
      if (state.conversationId !== frame.conversation_id) {
        state.conversationId = frame.conversation_id;
        if (state.status === 'none' || state.status === 'closed') state.status = 'queued';
        renderStatus();
      }
    }
    if (message.seq == null && typeof frame.seq === 'number' && frame.seq > 0) {
      var key = frame.conversation_id + ':' + frame.seq;
      if (!bySeqKey.has(key)) {
        message.seq = frame.seq;
        bySeqKey.set(key, message);
      }
    }
    message.state = 'sent';
    renderMessage(message);
    place(message);
    if (agentRead.has(frame.conversation_id)) updateSeen(frame.conversation_id);
    stored(message);
  }

  function onConversation(frame) {
    var id = frame.conversation_id;
    if (!id) return;
    ensureConversation(id);
    if (frame.agent && frame.agent.id) {
      if (frame.agent.name) agentNames.set(frame.agent.id, frame.agent.name);
    }
    if (id !== state.conversationId) {
      // A closed frame for an older conversation must not take over the header.
      if (frame.status === 'closed') {
        addClosedDivider(id);
        if (frame.rating_requested === true) showRating(id);
        return;
      }
      state.conversationId = id;
    }
    state.status = frame.status || state.status;
    state.agentId = frame.agent ? frame.agent.id : state.status === 'assigned' ? state.agentId : null;
    if (state.status === 'closed') markClosed(id);
    else if (currentNotice && currentNotice.key === 'endedHint') clearNotice(); // a new one started
    renderStatus();
    if (frame.status === 'closed' && frame.rating_requested === true) showRating(id);
  }

  function markClosed(id) {
    if (id === state.conversationId) {
      state.status = 'closed';
      renderStatus();
      setRemoteTyping(null);
      resetTyping();
      showNotice('endedHint', null, 'info');
    }
    addClosedDivider(id);
  }

  function onResumed(frame) {
    var id = frame.conversation_id;
    if (frame.recovered === false && typeof frame.last_seq === 'number') {
      // The replay stopped at the server's limit: ask for the rest before going on.
      send({ type: 'resume', conversation_id: id, after_seq: frame.last_seq });
      return;
    }
    replaying.delete(id);
    resendPending(function (message) {
      return message.conversationId === id;
    });
    scheduleRead();
  }

  function onTyping(frame) {
    var sender = frame.sender || {};
    // Our own other tabs type as "visitor" too; only the agent side is interesting here.
    if (sender.kind === 'visitor' || frame.conversation_id !== state.conversationId) return;
    if (frame.state) {
      if (sender.name) agentNames.set(sender.id, sender.name);
      setRemoteTyping({ id: sender.id, name: sender.name });
    } else if (remoteTyping && remoteTyping.id === sender.id) {
      setRemoteTyping(null);
    }
  }

  function onQueue(frame) {
    var position = frame.position;
    if (!frame.conversation_id || typeof position !== 'number' || position < 1) return;
    // Only the conversation this widget shows, and only while it waits: a late frame must not
    // bring the line back after an agent took over.
    if (frame.conversation_id !== state.conversationId || state.status === 'assigned' || state.status === 'closed') return;
    var wait = frame.expected_wait_secs;
    state.queue = {
      conversationId: frame.conversation_id,
      position: position,
      waitSecs: typeof wait === 'number' && wait >= 0 ? wait : null,
    };
    if (state.status !== 'queued') {
      state.status = 'queued';
      renderStatus();
    }
    renderQueue();
  }

  function setRemoteTyping(next) {
    if (remoteTyping) clearTimeout(remoteTyping.timer);
    remoteTyping = next;
    if (next) {
      next.timer = setTimeout(function () {
        if (remoteTyping === next) setRemoteTyping(null);
      }, REMOTE_TYPING_TIMEOUT_MS);
    }
    renderTyping();
  }

  function onError(frame) {
    var code = String(frame.code || '');
    var message = frame.client_msg_id ? byClientId.get(frame.client_msg_id) : null;
    if (message && message === state.offlineSending) {
      // Nothing was stored: the message goes back into the form, with the reason.
      state.offlineSending = null;
      unplace(message);
      byClientId.delete(message.clientMsgId);
      saveOutbox();
      if (!offlineText.value) offlineText.value = message.text;
      if (code === 'invalid_email') setOfflineError('offline.invalidEmail', offlineEmail);
      else setOfflineError(code === 'unavailable' || code === 'internal' ? 'error.messageFailed' : errorKey(code), offlineText);
      return;
    }
    if (message) {
      message.state = 'failed';
      saveOutbox();
      if (code === 'conversation_closed' || code === 'conversation_not_found') {
        // Nothing was stored; a retry without the old id starts a new conversation.
        if (message.conversationId === state.conversationId) markClosed(state.conversationId);
        message.conversationId = null;
      }
      renderMessage(message);
      place(message);
      // Service-side failures: the generic text would promise an automatic retry we don't do.
      var transient = code === 'unavailable' || code === 'internal' || !CATALOGUE.en['error.' + code];
      showNotice(transient ? 'error.messageFailed' : errorKey(code), null, 'error');
      return;
    }
    lastErrorCode = code;
    if (ratingInFlight && !frame.client_msg_id) {
      // Errors name no frame; one arriving while a rating waits for `rated` is its refusal.
      if (code === 'already_rated') settleRating(ratingInFlight, null, 'rating.already_rated');
      else if (code === 'rating_not_requested') settleRating(ratingInFlight, null, 'rating.rating_not_requested');
      else settleRating(ratingInFlight, code === 'message_too_long' ? 'rating.message_too_long' : 'rating.failed');
      return;
    }
    if (code === 'conversation_not_found' && state.conversationId && replaying.has(state.conversationId)) {
      // Our resume named a conversation this visitor cannot see (e.g. a new token): start over.
      replaying.delete(state.conversationId);
      state.conversationId = null;
      state.status = 'none';
      renderStatus();
      return;
    }
    if (code === 'rate_limited' || code === 'unavailable' || code === 'internal') showNotice(errorKey(code), null, 'warn');
    // invalid_site_key / too_many_connections are reported when the close that follows arrives.
  }

  function errorKey(code) {
    return CATALOGUE.en['error.' + code] ? 'error.' + code : 'error.generic';
  }

  // ---------------------------------------------------------------------------------------
  // Sending
  // ---------------------------------------------------------------------------------------

  /** Sends (or re-sends, with the same client_msg_id) one of our messages, when possible. */
  function transmit(message) {
    if (!socketOpen()) return; // re-sent after the next welcome/resumed
    if (message.conversationId && replaying.has(message.conversationId)) return; // after `resumed`
    var frame = { type: 'message', client_msg_id: message.clientMsgId, text: message.text };
    if (message.conversationId) frame.conversation_id = message.conversationId;
    if (message.email) frame.email = message.email;
    send(frame);
  }

  /** Keeps our unacknowledged messages in localStorage, so a reload sends them again. */
  function saveOutbox() {
    var pending = items
      .filter(function (item) {
        return item.kind === 'message' && item.own && item.state === 'sending';
      })
      .map(function (item) {
        return {
          client_msg_id: item.clientMsgId,
          conversation_id: item.conversationId || null,
          text: item.text,
          email: item.email || null,
          created_at: item.createdAt instanceof Date && !isNaN(item.createdAt.getTime()) ? item.createdAt.toISOString() : null,
        };
      });
    if (pending.length) storageSet(OUTBOX_KEY, JSON.stringify(pending));
    else storageRemove(OUTBOX_KEY);
  }

  /** Shows the messages a previous page left unacknowledged; they go out after `welcome`/`resumed`. */
  function restoreOutbox() {
    var saved = readJson(OUTBOX_KEY);
    if (!Array.isArray(saved)) return;
    saved.forEach(function (entry) {
      if (!entry || typeof entry.client_msg_id !== 'string' || typeof entry.text !== 'string') return;
      if (!entry.client_msg_id || byClientId.has(entry.client_msg_id)) return;
      var conversationId = typeof entry.conversation_id === 'string' && entry.conversation_id ? entry.conversation_id : null;
      var message = ownMessage(entry.text, conversationId);
      message.clientMsgId = entry.client_msg_id;
      message.email = typeof entry.email === 'string' && entry.email ? entry.email : null;
      var createdAt = entry.created_at ? new Date(entry.created_at) : null;
      if (createdAt && !isNaN(createdAt.getTime())) message.createdAt = createdAt;
      if (conversationId) ensureConversation(conversationId);
      byClientId.set(message.clientMsgId, message);
      buildMessage(message);
      place(message);
      if (message.email && !conversationId) state.offlineSending = message;
    });
  }

  function ownMessage(text, conversationId) {
    return {
      kind: 'message',
      conversationId: conversationId,
      seq: null,
      clientMsgId: uuid(),
      sender: { kind: 'visitor', id: state.visitorId || '', name: '' },
      text: text,
      email: null,
      createdAt: new Date(),
      state: 'sending',
      own: true,
      order: localOrder++,
    };
  }

  /** Takes an item out of the list and the DOM (a left message the server refused). */
  function unplace(item) {
    var index = items.indexOf(item);
    if (index !== -1) items.splice(index, 1);
    if (item.el && item.el.parentNode) item.el.parentNode.removeChild(item.el);
    empty.hidden = items.length > 0;
  }

  function setOfflineError(key, field) {
    offlineErrorKey = key;
    [offlineText, offlineEmail].forEach(function (node) {
      if (node === field) {
        node.setAttribute('aria-invalid', 'true');
        node.setAttribute('aria-describedby', 'sb-offline-error');
      } else {
        node.removeAttribute('aria-invalid');
        node.removeAttribute('aria-describedby');
      }
    });
    renderOffline();
    field.focus();
  }

  function submitOffline() {
    if (state.offlineSending) return;
    var text = offlineText.value;
    var email = offlineEmail.value.trim();
    if (!text.trim()) return setOfflineError('offline.emptyMessage', offlineText);
    if (utf8Length(text) > MAX_TEXT_BYTES) return setOfflineError('error.message_too_long', offlineText);
    if (!isEmail(email)) return setOfflineError('offline.invalidEmail', offlineEmail);
    offlineErrorKey = null;
    offlineText.removeAttribute('aria-invalid');
    offlineEmail.removeAttribute('aria-invalid');
    var message = ownMessage(text, null);
    message.email = email;
    state.offlineSending = message;
    byClientId.set(message.clientMsgId, message);
    buildMessage(message);
    place(message);
    scrollToBottom();
    saveOutbox();
    renderOffline();
    if (!state.started) connect();
    transmit(message);
  }

  function resendPending(filter) {
    items.forEach(function (item) {
      if (item.kind === 'message' && item.own && item.state === 'sending' && filter(item)) transmit(item);
    });
  }

  function submit() {
    var text = input.value;
    if (!text.trim()) {
      showNotice('notice.empty', null, 'warn');
      input.focus();
      return;
    }
    var bytes = utf8Length(text);
    if (bytes > MAX_TEXT_BYTES) {
      showNotice('notice.tooLong', { bytes: bytes, max: MAX_TEXT_BYTES }, 'warn');
      input.focus();
      return;
    }
    clearNotice();
    var message = ownMessage(text, hasOpenConversation() ? state.conversationId : null);
    byClientId.set(message.clientMsgId, message);
    buildMessage(message);
    place(message);
    scrollToBottom();
    saveOutbox();
    input.value = '';
    autosize();
    resetTyping();
    if (!state.started) connect();
    transmit(message);
  }

  function retrySend(message) {
    if (message.state !== 'failed') return;
    message.state = 'sending';
    if (!message.conversationId) {
      var open = state.conversationId && state.status !== 'closed' && state.status !== 'none';
      message.conversationId = open ? state.conversationId : null;
    }
    clearNotice();
    renderMessage(message);
    saveOutbox();
    transmit(message);
  }

  // Typing: `true` at most every 2 s while typing, `false` after 3 s idle or on send.
  var typingSent = false;
  var typingSentAt = 0;
  var typingIdleTimer = null;

  function onInputTyping() {
    if (!input.value) {
      resetTyping();
      return;
    }
    var id = state.conversationId;
    if (!id || state.status === 'closed' || state.status === 'none' || !socketOpen()) return;
    var now = Date.now();
    if (!typingSent || now - typingSentAt >= TYPING_THROTTLE_MS) {
      if (send({ type: 'typing', conversation_id: id, state: true })) {
        typingSent = true;
        typingSentAt = now;
      }
    }
    clearTimeout(typingIdleTimer);
    typingIdleTimer = setTimeout(resetTyping, TYPING_IDLE_MS);
  }

  function resetTyping() {
    clearTimeout(typingIdleTimer);
    typingIdleTimer = null;
    if (typingSent && state.conversationId && socketOpen()) {
      send({ type: 'typing', conversation_id: state.conversationId, state: false });
    }
    typingSent = false;
  }

  // ---------------------------------------------------------------------------------------
  // Interaction
  // ---------------------------------------------------------------------------------------

  function autosize() {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 2, 140) + 'px';
  }

  function setOpen(open) {
    state.open = open;
    root.setAttribute('data-open', open ? 'true' : 'false');
    panel.hidden = !open;
    launcher.setAttribute('aria-expanded', open ? 'true' : 'false');
    launcher.setAttribute('aria-label', open ? t('launcherClose') : t('launcherOpen'));
    if (open) {
      state.unread = 0;
      if (!state.started) connect();
      scrollToBottom();
      scheduleRead();
      // After the panel is laid out, so the focus really lands.
      setTimeout(function () {
        if (!composer.hidden) input.focus();
        else if (!offlineForm.hidden) offlineText.focus();
      }, 0);
    }
    renderBadge();
  }

  launcher.addEventListener('click', function () {
    setOpen(!state.open);
    if (!state.open) launcher.focus();
  });
  minimizeButton.addEventListener('click', function () {
    setOpen(false);
    launcher.focus();
  });
  panel.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') {
      setOpen(false);
      launcher.focus();
    }
  });
  langButton.addEventListener('click', function () {
    lang = lang === 'en' ? 'zh-CN' : 'en';
    storageSet(LANG_KEY, lang);
    renderStatic();
  });
  offlineForm.addEventListener('submit', function (event) {
    event.preventDefault();
    submitOffline();
  });
  [offlineText, offlineEmail].forEach(function (field) {
    field.addEventListener('input', function () {
      if (field.getAttribute('aria-invalid') === 'true') {
        field.removeAttribute('aria-invalid');
        offlineErrorKey = null;
        renderOffline();
      }
    });
  });
  composer.addEventListener('submit', function (event) {
    event.preventDefault();
    submit();
  });
  input.addEventListener('keydown', function (event) {
    // Enter sends; Shift+Enter is a newline; never while an IME is composing (Chinese input).
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener('input', function () {
    autosize();
    if (currentNotice && (currentNotice.key === 'notice.empty' || currentNotice.key === 'notice.tooLong')) {
      if (utf8Length(input.value) <= MAX_TEXT_BYTES && input.value.trim()) clearNotice();
    }
    onInputTyping();
  });

  // ---------------------------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------------------------

  restoreOutbox();
  renderStatic();
  renderBadge();

  function mount() {
    document.body.appendChild(host);
    // A returning visitor may have a conversation going: reconnect right away so history and
    // new replies are there. A new visitor connects when they first open the chat.
    if (state.visitorToken || byClientId.size) connect();
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);

  /** Test and integration hooks (read-only state snapshot). */
  window.SwitchboardWidget = {
    open: function () {
      setOpen(true);
    },
    close: function () {
      setOpen(false);
    },
    state: function () {
      return {
        open: state.open,
        connection: state.connection,
        status: state.status,
        conversationId: state.conversationId,
        visitorId: state.visitorId,
        agentName: agentName(),
        language: lang,
        unread: state.unread,
        queue: state.queue ? { position: state.queue.position, expectedWaitSecs: state.queue.waitSecs } : null,
        availability: state.availability,
        offlineForm: !offlineForm.hidden,
        seenSeq: state.conversationId ? agentRead.get(state.conversationId) || 0 : 0,
        messages: items
          .filter(function (item) {
            return item.kind === 'message';
          })
          .map(function (item) {
            return {
              conversationId: item.conversationId,
              seq: item.seq,
              clientMsgId: item.clientMsgId,
              sender: item.sender.kind,
              senderName: item.sender.name,
              text: item.text,
              state: item.state,
              seen: item.seen === true,
            };
          }),
      };
    },
  };
})();
