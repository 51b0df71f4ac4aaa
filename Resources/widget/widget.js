/*
 * Clerk chat widget: Example City's automated assistant on any web page.
 *
 * Embed with one tag:  <script src="https://HOST/widget.js" data-clerk-url="https://HOST"></script>
 * Plain ES2017, no framework, no build step. Every piece of message text goes into the page with textContent,
 * never as HTML. docs/widget.md describes the options, the locale table and the browser test.
 */
(function () {
  'use strict';

  if (window.ClerkWidget && window.ClerkWidget.version) return; // the tag was included twice

  // ---------------------------------------------------------------------------------------------------------------
  // Strings. Add a language by adding a table with the same keys (missing keys fall back to English), or by
  // defining window.ClerkWidgetLocales = { xx: { … } } before the script tag.

  const LOCALES = {
    en: {
      title: 'Example City assistant',
      automatedNotice: 'Automated assistant, not a person. Say “talk to a person” at any time.',
      personNotice: 'You are talking with {agent}, a person at Example City.',
      personNoticeUnnamed: 'You are talking with a person at Example City.',
      openChat: 'Open chat with the Example City assistant',
      openChatUnreadOne: 'Open chat with the Example City assistant, 1 new message',
      openChatUnreadMany: 'Open chat with the Example City assistant, {count} new messages',
      closeChat: 'Close chat',
      dialogLabel: 'Chat with the Example City assistant',
      logLabel: 'Conversation',
      inputLabel: 'Your message',
      placeholder: 'Type your question…',
      send: 'Send message',
      you: 'You',
      assistant: 'Assistant',
      agentName: '{agent}, Example City',
      typing: 'The assistant is typing…',
      quickReplies: 'Suggested replies',
      links: 'Useful links',
      newTab: '(opens in a new tab)',
      helpfulQuestion: 'Was this helpful?',
      helpfulYes: 'Yes',
      helpfulYesLabel: 'Yes, this answer was helpful',
      helpfulNo: 'No',
      helpfulNoLabel: 'No, this answer was not helpful',
      feedbackComment: 'What were you looking for? (optional)',
      feedbackSend: 'Send',
      feedbackSendLabel: 'Send feedback',
      feedbackThanks: 'Thank you for your feedback.',
      feedbackFailed: 'Your feedback could not be sent.',
      agentJoined: '{agent} from Example City has joined. You are now talking with a person.',
      agentJoinedUnnamed: 'A person from Example City has joined. You are now talking with a person.',
      reference: 'Reference {reference}',
      replyBy: 'reply by {time}',
      status_queued: 'waiting for a person',
      status_assigned: 'a person is on it',
      status_waiting_on_citizen: 'waiting for your reply',
      status_resolved: 'resolved',
      status_closed: 'closed',
      offline: 'You are offline. Messages will be sent when the connection is back.',
      errorNetwork: 'The assistant cannot be reached. Check your connection and try again.',
      errorServer: 'Something went wrong on our side. Please try again.',
      errorBusy: 'Too many messages at once. Wait a moment and try again.',
      errorRejected: 'This message could not be sent: {message}',
      notSent: 'Not sent.',
      retry: 'Retry',
      retrySendLabel: 'Retry sending your message',
      retryStartLabel: 'Try again to reach the assistant',
      ended: 'This conversation was closed after a quiet while. Write again to continue it.',
      restarted: 'Your earlier conversation could not be found, so a new one has started.',
    },
  };
  if (window.ClerkWidgetLocales && typeof window.ClerkWidgetLocales === 'object') {
    for (const code of Object.keys(window.ClerkWidgetLocales)) {
      LOCALES[code] = Object.assign({}, LOCALES[code] || {}, window.ClerkWidgetLocales[code]);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Configuration from the script tag.

  const script = document.currentScript
    || document.querySelector('script[data-clerk-url]')
    || Array.prototype.find.call(document.scripts, (s) => /\/widget\.js(\?|#|$)/.test(s.src));
  const data = (script && script.dataset) || {};

  function baseURL() {
    try {
      if (data.clerkUrl) return new URL(data.clerkUrl, location.href).href.replace(/\/+$/, '');
      if (script && script.src) return new URL('.', script.src).href.replace(/\/+$/, '');
    } catch (e) { /* fall through */ }
    return location.origin;
  }

  function pickLanguage() {
    const wanted = [data.lang, document.documentElement.lang, navigator.language]
      .filter(Boolean).map((l) => String(l).toLowerCase());
    for (const l of wanted) {
      if (LOCALES[l]) return l;
      const primary = l.split('-')[0];
      if (LOCALES[primary]) return primary;
    }
    return 'en';
  }

  const BASE = baseURL();
  const LANG = pickLanguage();
  const TITLE = data.title || null;
  const POSITION = data.position === 'left' ? 'left' : 'right';
  const KEY = 'clerk:' + BASE;
  const K_CONVERSATION = KEY + ':conversation'; // {id, token}
  const K_TURNS = KEY + ':turns';               // extras of recent bot turns (links, quick replies, feedback)
  const K_WELCOME = KEY + ':welcome';           // the welcome's texts (not part of the server's history)
  const K_SYNC = KEY + ':sync';                 // a ping to the other tabs: the conversation changed
  const K_OPEN = KEY + ':open';                 // sessionStorage: the panel was open in this tab
  const TAB = Math.random().toString(36).slice(2);
  const ACTIVE_HANDOFFS = ['queued', 'with_agent', 'waiting_on_citizen'];
  const HELD_HANDOFFS = ['with_agent', 'waiting_on_citizen'];
  const EVENT_TYPES = ['agent_joined', 'agent_message', 'notice', 'ticket', 'ended'];

  function t(key, vars) {
    const table = LOCALES[LANG] || LOCALES.en;
    const text = key in table ? table[key] : (key in LOCALES.en ? LOCALES.en[key] : key);
    return String(text).replace(/\{(\w+)\}/g, (m, name) => (vars && name in vars ? String(vars[name]) : m));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Storage that survives private modes and blocked storage (then it lasts for this page only).

  function storageArea(name) {
    try {
      const area = window[name];
      area.setItem('clerk:probe', '1');
      area.removeItem('clerk:probe');
      return area;
    } catch (e) {
      return null;
    }
  }
  const local = storageArea('localStorage');
  const session = storageArea('sessionStorage');
  const memory = {};

  function load(key, area) {
    area = area === undefined ? local : area;
    try {
      const raw = area ? area.getItem(key) : memory[key];
      return raw ? JSON.parse(raw) : null;
    } catch (e) {
      return null;
    }
  }
  function save(key, value, area) {
    area = area === undefined ? local : area;
    const raw = JSON.stringify(value);
    try {
      if (area) area.setItem(key, raw); else memory[key] = raw;
    } catch (e) {
      memory[key] = raw;
    }
  }
  function forget(key, area) {
    area = area === undefined ? local : area;
    try {
      if (area) area.removeItem(key);
    } catch (e) { /* nothing to do */ }
    delete memory[key];
  }

  // ---------------------------------------------------------------------------------------------------------------
  // HTTP.

  class ClerkError extends Error {
    constructor(code, message, status) {
      super(message || code);
      this.code = code;
      this.status = status || 0;
    }
  }

  async function api(method, path, body, options) {
    options = options || {};
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    const timeout = controller ? setTimeout(() => controller.abort(), options.timeout || 30000) : null;
    if (options.register) options.register(controller);
    let response;
    try {
      response = await fetch(BASE + path, {
        method,
        headers: Object.assign({ Accept: 'application/json' },
          body === undefined ? {} : { 'Content-Type': 'application/json' }),
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
        signal: controller ? controller.signal : undefined,
      });
    } catch (e) {
      throw new ClerkError('network', e && e.message);
    } finally {
      if (timeout) clearTimeout(timeout);
    }
    let payload = null;
    if (response.status !== 204) {
      try {
        payload = await response.json();
      } catch (e) {
        payload = null;
      }
    }
    if (!response.ok) {
      const error = payload && payload.error ? payload.error : {};
      throw new ClerkError(error.code || 'http_' + response.status, error.message || response.statusText,
        response.status);
    }
    return payload;
  }

  function describe(error) {
    if (!navigator.onLine) return t('offline');
    if (!error || error.code === 'network') return t('errorNetwork');
    if (error.status === 429) return t('errorBusy');
    if (error.status >= 400 && error.status < 500 && error.message) return t('errorRejected', { message: error.message });
    return t('errorServer');
  }

  function isLostConversation(error) {
    return error && (error.code === 'conversation_not_found' || error.code === 'conversation_ended'
      || error.status === 404 || error.status === 410);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // DOM helpers. Text always goes in through textContent.

  function el(tag, attributes, children) {
    const node = document.createElement(tag);
    if (attributes) {
      for (const name of Object.keys(attributes)) {
        const value = attributes[name];
        if (value === null || value === undefined || value === false) continue;
        if (name === 'text') node.textContent = value;
        else if (name === 'className') node.className = value;
        else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
        else node.setAttribute(name, value === true ? '' : String(value));
      }
    }
    for (const child of children || []) if (child) node.appendChild(child);
    return node;
  }

  const SVG = 'http://www.w3.org/2000/svg';
  function icon(pathData) {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    svg.setAttribute('class', 'clerk-icon');
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', pathData);
    svg.appendChild(path);
    return svg;
  }
  const ICON_CHAT = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6a1.5 1.5 0 1 0 '
    + '0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z';
  const ICON_CLOSE = 'M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6 10.6 12 5 6.4z';
  const ICON_SEND = 'M3 20.5V14l9-2-9-2V3.5L22 12z';

  function safeLink(url) {
    try {
      const parsed = new URL(url, BASE + '/');
      return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function formatTime(iso) {
    const date = new Date(iso);
    if (isNaN(date.getTime())) return null;
    try {
      return new Intl.DateTimeFormat(LANG, {
        weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
      }).format(date);
    } catch (e) {
      return date.toLocaleString();
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // State.

  const saved = load(K_CONVERSATION) || {};
  const state = {
    id: null,                 // the conversation's id once created or resumed on this page
    token: saved.token || null,
    starting: null,           // promise of a create or resume in flight
    handoff: 'none',
    ticket: null,
    agent: null,
    open: false,
    unread: 0,
    ended: false,             // the server closed the conversation (it reopens on the next message)
    startError: null,         // the "cannot be reached" note shown when starting failed
    lastEvent: null,          // type of the last event handled
    lastSeq: 0,               // last event sequence number seen
    seqKnown: false,          // whether lastSeq matches the server's (for the long-poll's first request)
    stream: null,             // the current event stream
    pollOnly: typeof window.EventSource !== 'function',
    queue: Promise.resolve(), // citizen messages are sent one after another
    sending: 0,
    syncWanted: false,
    rendered: [],             // what the log shows of the conversation: {from, text, local}
    quickReplies: null,       // the quick-reply group on screen
    pinned: true,             // the log is scrolled to its end
    autoScroll: false,        // the next scroll event is our own
    waitingForOnline: [],     // retries to run when the connection is back
  };

  // ---------------------------------------------------------------------------------------------------------------
  // Building the widget.

  const ui = {};

  function build() {
    ui.badge = el('span', { className: 'clerk-badge', 'aria-hidden': 'true', hidden: true });
    ui.launcher = el('button', {
      type: 'button', className: 'clerk-launcher', 'aria-expanded': 'false', 'aria-controls': 'clerk-panel',
      'aria-label': t('openChat'), onclick: () => (state.open ? close() : open()),
    }, [icon(ICON_CHAT), ui.badge]);

    ui.title = el('h2', { className: 'clerk-title', id: 'clerk-title', text: TITLE || t('title') });
    ui.subtitle = el('p', { className: 'clerk-subtitle', id: 'clerk-subtitle', text: t('automatedNotice') });
    ui.close = el('button', {
      type: 'button', className: 'clerk-close', 'aria-label': t('closeChat'), onclick: () => close(),
    }, [icon(ICON_CLOSE)]);
    const header = el('div', { className: 'clerk-header' }, [
      el('div', { className: 'clerk-heading' }, [ui.title, ui.subtitle]), ui.close,
    ]);

    ui.ticket = el('div', { className: 'clerk-banner clerk-ticket', role: 'status' });
    ui.offline = el('div', { className: 'clerk-banner clerk-offline', role: 'status' });
    ui.log = el('div', {
      className: 'clerk-log', id: 'clerk-log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions',
      'aria-label': t('logLabel'), tabindex: '0',
    });
    ui.typing = el('div', { className: 'clerk-typing', hidden: true }, [
      el('span', { className: 'clerk-dots', 'aria-hidden': 'true' }, [el('span'), el('span'), el('span')]),
      el('span', { className: 'clerk-typing-text', text: t('typing') }),
    ]);
    ui.typingStatus = el('div', { className: 'clerk-sr', role: 'status' });

    ui.input = el('input', {
      type: 'text', id: 'clerk-input', className: 'clerk-input', name: 'message', autocomplete: 'off',
      maxlength: '1000', placeholder: t('placeholder'), enterkeyhint: 'send',
    });
    ui.send = el('button', { type: 'submit', className: 'clerk-send', 'aria-label': t('send') }, [icon(ICON_SEND)]);
    ui.form = el('form', { className: 'clerk-form', novalidate: true, onsubmit: onSubmit }, [
      el('label', { className: 'clerk-sr', for: 'clerk-input', text: t('inputLabel') }), ui.input, ui.send,
    ]);

    ui.panel = el('div', {
      className: 'clerk-panel', id: 'clerk-panel', role: 'dialog', 'aria-modal': 'false',
      'aria-labelledby': 'clerk-title', 'aria-describedby': 'clerk-subtitle', hidden: true,
      onkeydown: onPanelKeyDown,
    }, [header, ui.ticket, ui.offline, ui.log, ui.typing, ui.typingStatus, ui.form]);

    ui.root = el('div', {
      className: 'clerk-root clerk-' + POSITION, lang: LANG, 'data-clerk-widget': '', hidden: true,
    }, [ui.panel, ui.launcher]);
    ui.ticket.hidden = true;
    ui.offline.hidden = true;
    ui.offline.textContent = t('offline');
    document.body.appendChild(ui.root);
    keepPinned();
  }

  function loadStylesheet() {
    return new Promise((resolve) => {
      const href = BASE + '/widget.css';
      const present = Array.prototype.some.call(document.querySelectorAll('link[rel="stylesheet"]'),
        (link) => link.href === href);
      if (present) return resolve();
      const link = el('link', { rel: 'stylesheet', href });
      link.addEventListener('load', resolve);
      link.addEventListener('error', resolve);
      setTimeout(resolve, 4000);
      (document.head || document.documentElement).appendChild(link);
    });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Opening and closing.

  function open(options) {
    const focus = !options || options.focus !== false;
    if (!state.open) {
      state.open = true;
      ui.panel.hidden = false;
      ui.root.classList.add('clerk-is-open');
      ui.launcher.setAttribute('aria-expanded', 'true');
      save(K_OPEN, true, session);
      state.unread = 0;
      updateLauncher();
      scrollToEnd();
    }
    if (focus) ui.input.focus();
    connect();
  }

  /** Starts or resumes the conversation; when the server cannot be reached, says so with a Retry button. */
  function connect() {
    ensureConversation().then(syncEvents, (error) => {
      if (state.startError && state.startError.isConnected) return;
      state.startError = addError(describe(error), t('retry'), t('retryStartLabel'), connect);
    });
  }

  function close(options) {
    if (!state.open) return;
    state.open = false;
    ui.panel.hidden = true;
    ui.root.classList.remove('clerk-is-open');
    ui.launcher.setAttribute('aria-expanded', 'false');
    forget(K_OPEN, session);
    if (!options || options.focus !== false) ui.launcher.focus();
    syncEvents();
  }

  function fullScreen() {
    return window.matchMedia && window.matchMedia('(max-width: 479.98px)').matches;
  }

  function onPanelKeyDown(event) {
    if (event.key === 'Escape' || event.key === 'Esc') {
      event.preventDefault();
      close();
      return;
    }
    // Full screen, the page behind is hidden: keep Tab inside the panel.
    if (event.key === 'Tab' && fullScreen()) {
      const focusable = Array.prototype.filter.call(
        ui.panel.querySelectorAll('button, input, a[href], [tabindex="0"]'),
        (node) => !node.disabled && node.offsetParent !== null);
      if (!focusable.length) return;
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    }
  }

  function updateLauncher() {
    const count = state.unread;
    ui.badge.hidden = count === 0;
    ui.badge.textContent = count > 9 ? '9+' : String(count);
    ui.launcher.setAttribute('aria-label', count === 0 ? t('openChat')
      : count === 1 ? t('openChatUnreadOne') : t('openChatUnreadMany', { count }));
  }

  function noteUnread() {
    if (state.open) return;
    state.unread += 1;
    updateLauncher();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The log.

  function scrollToEnd() {
    state.pinned = true;
    if (ui.log.scrollTop < ui.log.scrollHeight - ui.log.clientHeight) {
      state.autoScroll = true;
      ui.log.scrollTop = ui.log.scrollHeight;
    }
  }

  // The log stays scrolled to the newest message when it changes size (the ticket bar appears, the phone
  // rotates), unless the citizen scrolled up to read. Scroll events of our own scrolling do not count.
  function keepPinned() {
    ui.log.addEventListener('scroll', () => {
      if (state.autoScroll) {
        state.autoScroll = false;
        return;
      }
      state.pinned = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 24;
    }, { passive: true });
    if (typeof window.ResizeObserver === 'function') {
      new ResizeObserver(() => {
        if (state.pinned) scrollToEnd();
      }).observe(ui.log);
    }
  }

  function append(node) {
    ui.log.appendChild(node);
    scrollToEnd();
    return node;
  }

  function srLabel(text) {
    return el('span', { className: 'clerk-sr', text: text + ': ' });
  }

  function addCitizen(text, remember) {
    const node = append(el('div', { className: 'clerk-msg clerk-msg-citizen' }, [
      srLabel(t('you')), el('span', { className: 'clerk-text', text }),
    ]));
    if (remember !== false) state.rendered.push({ from: 'citizen', text });
    return node;
  }

  function addAgent(name, text) {
    append(el('div', { className: 'clerk-group clerk-group-agent' }, [
      el('p', { className: 'clerk-name', text: name ? t('agentName', { agent: name }) : t('personNoticeUnnamed') }),
      el('div', { className: 'clerk-msg clerk-msg-agent' }, [el('span', { className: 'clerk-text', text })]),
    ]));
    state.rendered.push({ from: 'agent', text });
  }

  function addNotice(text) {
    return append(el('p', { className: 'clerk-notice', text }));
  }

  function addError(text, label, ariaLabel, action) {
    const button = el('button', {
      type: 'button', className: 'clerk-button clerk-retry', 'aria-label': ariaLabel, text: label,
    });
    const node = append(el('div', { className: 'clerk-error' }, [el('span', { text }), button]));
    button.addEventListener('click', () => {
      const hadFocus = document.activeElement === button;
      node.remove();
      if (hadFocus) ui.input.focus();
      action();
    });
    return node;
  }

  function clearQuickReplies() {
    if (state.quickReplies) state.quickReplies.remove();
    state.quickReplies = null;
  }

  /** A bot turn: its messages, links, feedback buttons and (for the latest turn) quick replies. */
  function addBotTurn(turn, options) {
    options = options || {};
    const messages = (turn.messages || []).map((m) => (m && typeof m.text === 'string' ? m.text : ''))
      .filter((text) => text !== '');
    const group = el('div', { className: 'clerk-group clerk-group-bot' });
    if (messages.length) group.appendChild(el('p', { className: 'clerk-name', text: t('assistant') }));
    for (const text of messages) {
      group.appendChild(el('div', { className: 'clerk-msg clerk-msg-bot' }, [el('span', { className: 'clerk-text', text })]));
      // The welcome and notices are not part of the server's history.
      state.rendered.push({ from: 'bot', text, local: !!(options.welcome || options.notice) });
    }
    const links = (turn.links || []).map((link) => ({ url: safeLink(link && link.url), title: link && link.title }))
      .filter((link) => link.url);
    if (links.length) {
      const list = el('ul', { className: 'clerk-links', 'aria-label': t('links') });
      for (const link of links) {
        list.appendChild(el('li', null, [el('a', {
          href: link.url, target: '_blank', rel: 'noopener noreferrer', className: 'clerk-link',
        }, [
          el('span', { text: link.title || link.url }), el('span', { className: 'clerk-sr', text: ' ' + t('newTab') }),
        ])]));
      }
      group.appendChild(list);
    }
    if (turn.outcome === 'answer' && turn.turn_id && !options.welcome) {
      group.appendChild(feedbackControl(turn.turn_id, options.feedback));
    }
    if (!group.childNodes.length) return null;
    append(group);
    const replies = (turn.quick_replies || []).filter((r) => typeof r === 'string' && r.trim());
    if (options.latest !== false && replies.length) showQuickReplies(replies);
    return group;
  }

  function showQuickReplies(replies) {
    clearQuickReplies();
    const group = el('div', { className: 'clerk-replies', role: 'group', 'aria-label': t('quickReplies') });
    for (const reply of replies) {
      group.appendChild(el('button', {
        type: 'button', className: 'clerk-button clerk-reply', 'aria-label': reply, text: reply,
        onclick: () => {
          ui.input.focus();
          submit(reply);
        },
      }));
    }
    state.quickReplies = append(group);
  }

  function feedbackControl(turnID, given) {
    const box = el('div', { className: 'clerk-feedback', role: 'group', 'aria-label': t('helpfulQuestion') });
    if (given) {
      box.appendChild(el('p', { className: 'clerk-thanks', text: t('feedbackThanks') }));
      return box;
    }
    const thank = (focusAfter) => {
      box.replaceChildren(el('p', { className: 'clerk-thanks', text: t('feedbackThanks') }));
      rememberFeedback(turnID);
      if (focusAfter) ui.input.focus();
    };
    const post = (helpful, comment, focusAfter) => {
      const body = { turn_id: turnID, helpful };
      if (comment) body.comment = comment;
      api('POST', '/v1/conversations/' + encodeURIComponent(state.id) + '/feedback', body)
        .then(() => thank(focusAfter), () => {
          box.replaceChildren(el('p', { className: 'clerk-thanks', text: t('feedbackFailed') }));
          if (focusAfter) ui.input.focus();
        });
    };
    const yes = el('button', {
      type: 'button', className: 'clerk-button clerk-helpful', 'aria-label': t('helpfulYesLabel'),
      text: t('helpfulYes'), onclick: () => post(true, null, document.activeElement === yes),
    });
    const no = el('button', {
      type: 'button', className: 'clerk-button clerk-unhelpful', 'aria-label': t('helpfulNoLabel'),
      text: t('helpfulNo'), onclick: () => askComment(),
    });
    const askComment = () => {
      const id = 'clerk-comment-' + turnID + '-' + TAB;
      const input = el('input', { type: 'text', id, className: 'clerk-input clerk-comment', maxlength: '500' });
      const form = el('form', {
        className: 'clerk-comment-form', novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          post(false, input.value.trim(), true);
        },
      }, [
        el('label', { for: id, className: 'clerk-comment-label', text: t('feedbackComment') }),
        el('div', { className: 'clerk-comment-row' }, [input, el('button', {
          type: 'submit', className: 'clerk-button', 'aria-label': t('feedbackSendLabel'), text: t('feedbackSend'),
        })]),
      ]);
      box.replaceChildren(form);
      input.focus();
    };
    box.appendChild(el('span', { className: 'clerk-question', text: t('helpfulQuestion') }));
    box.appendChild(yes);
    box.appendChild(no);
    return box;
  }

  // Extras of bot turns (links, quick replies, feedback) are not in the server's history: keep the recent ones.
  function rememberTurn(turn) {
    const texts = (turn.messages || []).map((m) => m.text).filter(Boolean);
    if (!texts.length) return;
    const turns = load(K_TURNS) || [];
    turns.push({
      turn_id: turn.turn_id, texts, links: turn.links || [], quick_replies: turn.quick_replies || [],
      outcome: turn.outcome, feedback: false,
    });
    save(K_TURNS, turns.slice(-40));
  }

  function rememberFeedback(turnID) {
    const turns = load(K_TURNS) || [];
    for (const turn of turns) if (turn.turn_id === turnID) turn.feedback = true;
    save(K_TURNS, turns);
  }

  /** Draws history entries (from the server) below what the log shows, grouping bot messages into turns. */
  function drawEntries(entries, isLatest) {
    const turns = load(K_TURNS) || [];
    let i = 0;
    while (i < entries.length) {
      const entry = entries[i];
      if (entry.from === 'citizen') {
        clearQuickReplies();
        addCitizen(entry.text);
        i += 1;
      } else if (entry.from === 'agent') {
        clearQuickReplies();
        addAgent(entry.name, entry.text);
        i += 1;
      } else {
        let texts = [entry.text];
        let extras = null;
        for (let k = turns.length - 1; k >= 0; k--) {
          const turn = turns[k];
          if (turn.texts.every((text, n) => entries[i + n] && entries[i + n].from === 'bot'
            && entries[i + n].text === text)) {
            extras = turn;
            texts = turn.texts;
            break;
          }
        }
        const last = i + texts.length >= entries.length;
        clearQuickReplies();
        addBotTurn({
          turn_id: extras && extras.turn_id, messages: texts.map((text) => ({ text })),
          links: extras ? extras.links : [], quick_replies: extras && last && isLatest ? extras.quick_replies : [],
          outcome: extras ? extras.outcome : 'history',
        }, { feedback: extras && extras.feedback, latest: last && isLatest });
        i += texts.length;
      }
    }
  }

  /** Shows the server's history: only what is missing when the log already shows the start of it. */
  function showHistory(history) {
    let entries = (history || []).filter((e) => e && typeof e.text === 'string');
    const welcome = load(K_WELCOME) || [];
    const startsWithWelcome = welcome.length && welcome.every((text, n) => entries[n] && entries[n].from === 'bot'
      && entries[n].text === text);
    if (startsWithWelcome) entries = entries.slice(welcome.length);
    const shown = state.rendered.filter((r) => !r.local);
    const isPrefix = shown.length <= entries.length
      && shown.every((r, n) => entries[n].from === r.from && entries[n].text === r.text);
    if (isPrefix && (shown.length || state.rendered.length)) {
      drawEntries(entries.slice(shown.length), true);
      return;
    }
    ui.log.setAttribute('aria-busy', 'true');
    ui.log.replaceChildren();
    state.rendered = [];
    state.quickReplies = null;
    if (welcome.length) addBotTurn({ messages: welcome.map((text) => ({ text })) }, { welcome: true, latest: false });
    drawEntries(entries, true);
    ui.log.removeAttribute('aria-busy');
    scrollToEnd();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Handover state: header notice, ticket banner.

  function setHandoff(handoff, ticket) {
    if (typeof handoff === 'string') state.handoff = handoff;
    if (ticket !== undefined) state.ticket = ticket;
    const held = HELD_HANDOFFS.includes(state.handoff);
    ui.subtitle.textContent = held
      ? (state.agent ? t('personNotice', { agent: state.agent }) : t('personNoticeUnnamed'))
      : t('automatedNotice');
    ui.root.classList.toggle('clerk-with-person', held);
    const ticketInfo = state.ticket;
    if (ticketInfo && ticketInfo.reference) {
      const parts = [t('reference', { reference: ticketInfo.reference })];
      const status = ticketInfo.status ? t('status_' + ticketInfo.status) : null;
      if (status && status !== 'status_' + ticketInfo.status) parts.push(status);
      const due = ticketInfo.reply_by && ticketInfo.status === 'queued' ? formatTime(ticketInfo.reply_by) : null;
      if (due) parts.push(t('replyBy', { time: due }));
      const text = parts.join(' · ');
      if (ui.ticket.textContent !== text) ui.ticket.textContent = text;
      ui.ticket.hidden = false;
    } else {
      ui.ticket.hidden = true;
      ui.ticket.textContent = '';
    }
    syncEvents();
  }

  function applyTurn(turn) {
    if (!turn) return;
    setHandoff(turn.handoff, turn.ticket === undefined ? undefined : turn.ticket);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Conversation lifecycle.

  function storeConversation() {
    save(K_CONVERSATION, { id: state.id, token: state.token });
  }

  function ensureConversation() {
    if (state.id) return Promise.resolve();
    if (!state.starting) {
      const work = state.token ? resume({ draw: true }) : create();
      state.starting = work.then(() => {
        state.starting = null;
        if (state.startError) state.startError.remove();
        state.startError = null;
      }, (error) => {
        state.starting = null;
        throw error;
      });
    }
    return state.starting;
  }

  async function create(options) {
    const reply = await api('POST', '/v1/conversations', {});
    stopEvents();
    state.id = reply.id;
    state.token = reply.resume_token;
    state.lastSeq = 0;
    state.seqKnown = true;
    state.agent = null;
    state.ended = false;
    const turn = reply.turn || {};
    const welcome = (turn.messages || []).map((m) => m.text).filter(Boolean);
    save(K_WELCOME, welcome);
    save(K_TURNS, []);
    storeConversation();
    if (options && options.notice) addNotice(options.notice);
    addBotTurn(turn, { welcome: true });
    setHandoff(turn.handoff || 'none', turn.ticket || null);
  }

  /** Resumes with the stored token; `draw` shows the server's history. A token the server no longer knows is
   *  dropped (and, with `replace`, a new conversation is started in its place). `sync` (another tab changed the
   *  conversation) leaves the running event stream alone; otherwise the stream starts again from here. */
  async function resume(options) {
    let reply;
    try {
      reply = await api('POST', '/v1/conversations/resume', { resume_token: state.token });
    } catch (error) {
      if (error.code === 'invalid_resume_token' || error.status === 404) {
        state.token = null;
        state.id = null;
        forget(K_CONVERSATION);
        if (options && options.replace) {
          return create({ notice: t('restarted') });
        }
        if (options && options.draw) {
          ui.log.replaceChildren();
          state.rendered = [];
          setHandoff('none', null);
          if (state.open) return create();
          return;
        }
      }
      throw error;
    }
    const sync = options && options.sync && reply.id === state.id;
    if (!sync) {
      // The history covers the events so far; the stream starts after them.
      stopEvents();
      state.lastSeq = typeof reply.seq === 'number' ? reply.seq : 0;
      state.seqKnown = typeof reply.seq === 'number';
    }
    state.id = reply.id;
    state.ended = false; // resuming reopens a closed conversation
    storeConversation();
    if (options && options.draw) showHistory(reply.history);
    const agents = (reply.history || []).filter((e) => e.from === 'agent' && e.name);
    if (agents.length) state.agent = agents[agents.length - 1].name;
    setHandoff(reply.handoff || 'none', reply.ticket || null);
  }

  /** Drops the conversation on this page (another tab started a new one, or reset()). */
  function dropConversation() {
    stopEvents();
    state.id = null;
    state.starting = null;
    state.agent = null;
    ui.log.replaceChildren();
    state.rendered = [];
    state.quickReplies = null;
    setHandoff('none', null);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Sending.

  function onSubmit(event) {
    event.preventDefault();
    const text = ui.input.value.trim();
    if (!text) return;
    ui.input.value = '';
    submit(text);
  }

  function submit(text) {
    clearQuickReplies();
    const bubble = addCitizen(text, false);
    const entry = { from: 'citizen', text };
    state.rendered.push(entry);
    deliver(text, bubble, entry);
  }

  function deliver(text, bubble, entry) {
    bubble.classList.add('clerk-pending');
    bubble.classList.remove('clerk-failed');
    state.sending += 1;
    showTyping(true);
    state.queue = state.queue.then(() => sendNow(text)).then((turn) => {
      bubble.classList.remove('clerk-pending');
      rememberTurn(turn);
      addBotTurn(turn);
      applyTurn(turn);
      save(K_SYNC, { tab: TAB, id: state.id, at: Date.now() });
    }, (error) => {
      bubble.classList.remove('clerk-pending');
      bubble.classList.add('clerk-failed');
      // Not on the server: it must not count as shown history.
      const at = state.rendered.indexOf(entry);
      if (at >= 0) state.rendered.splice(at, 1);
      bubble.appendChild(el('span', { className: 'clerk-msg-status', text: t('notSent') }));
      const retry = () => {
        const status = bubble.querySelector('.clerk-msg-status');
        if (status) status.remove();
        state.rendered.push(entry);
        deliver(text, bubble, entry);
      };
      const errorNode = addError(describe(error), t('retry'), t('retrySendLabel'), retry);
      if (!navigator.onLine) {
        state.waitingForOnline.push(() => {
          if (errorNode.isConnected) {
            errorNode.remove();
            retry();
          }
        });
      }
    }).then(() => {
      state.sending -= 1;
      showTyping(state.sending > 0);
      if (state.sending === 0 && state.syncWanted) {
        state.syncWanted = false;
        syncFromServer();
      }
    });
  }

  async function sendNow(text) {
    if (!navigator.onLine) throw new ClerkError('network', 'offline');
    await ensureConversation();
    if (!state.id) await create();
    try {
      return await postMessage(text);
    } catch (error) {
      if (!isLostConversation(error)) throw error;
      // The server restarted or the conversation was closed: resume it (or start anew) and send again.
      await resume({ replace: true });
      return postMessage(text);
    }
  }

  function postMessage(text) {
    return api('POST', '/v1/conversations/' + encodeURIComponent(state.id) + '/messages', { text })
      .then((turn) => turn || { messages: [] });
  }

  function showTyping(on) {
    const botAnswers = !HELD_HANDOFFS.includes(state.handoff);
    const visible = on && botAnswers;
    if (ui.typing.hidden === !visible) return;
    ui.typing.hidden = !visible;
    ui.typingStatus.textContent = visible ? t('typing') : '';
    if (visible) scrollToEnd();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Live events: Server-Sent Events, falling back to long polling.

  function wantEvents() {
    return !!state.id && !state.ended && (state.open || ACTIVE_HANDOFFS.includes(state.handoff));
  }

  function syncEvents() {
    if (wantEvents()) {
      if (!state.stream || state.stream.conversation !== state.id) startEvents();
    } else if (state.stream && (state.ended || !ACTIVE_HANDOFFS.includes(state.handoff))) {
      stopEvents();
    }
  }

  function startEvents() {
    stopEvents();
    const stream = { conversation: state.id, stopped: false, source: null, timer: null, controller: null, failures: 0 };
    state.stream = stream;
    establish(stream);
  }

  /** Finds where the stream starts (when the history came without a sequence number), then listens or polls. */
  async function establish(stream) {
    if (!state.seqKnown) {
      try {
        // The history already shows what happened: start after the newest event the server still keeps.
        const kept = await api('GET', eventsPath(stream) + '?after=0&wait=0', undefined, {
          register: (c) => { stream.controller = c; },
        });
        if (stream.stopped) return;
        const seqs = ((kept && kept.events) || []).map((e) => e.seq).filter(Number.isFinite);
        state.lastSeq = seqs.length ? Math.max.apply(null, seqs) : 0;
        state.seqKnown = true;
      } catch (error) {
        if (stream.stopped) return;
        if (isLostConversation(error)) {
          recover(stream);
          return;
        }
        stream.failures += 1;
        stream.timer = setTimeout(() => establish(stream), backoff(stream));
        return;
      }
    }
    if (stream.stopped) return;
    if (state.pollOnly) poll(stream); else listen(stream);
  }

  function backoff(stream) {
    return Math.min(30000, 1000 * Math.pow(2, Math.min(stream.failures, 5)));
  }

  function stopEvents() {
    const stream = state.stream;
    if (!stream) return;
    stream.stopped = true;
    if (stream.source) stream.source.close();
    if (stream.timer) clearTimeout(stream.timer);
    if (stream.controller) stream.controller.abort();
    state.stream = null;
  }

  function eventsPath(stream) {
    return '/v1/conversations/' + encodeURIComponent(stream.conversation) + '/events';
  }

  function listen(stream) {
    let source;
    try {
      source = new EventSource(BASE + eventsPath(stream) + '?after=' + state.lastSeq);
    } catch (e) {
      state.pollOnly = true;
      poll(stream);
      return;
    }
    stream.source = source;
    let opened = false;
    let errors = 0;
    source.onopen = () => {
      opened = true;
      stream.everOpened = true;
      errors = 0;
    };
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (event) => {
        let payload = null;
        try {
          payload = JSON.parse(event.data);
        } catch (e) {
          return;
        }
        handleEvent(stream, type, payload, parseInt(event.lastEventId, 10));
      });
    }
    source.onerror = () => {
      if (stream.stopped) return;
      errors += 1;
      if (source.readyState !== EventSource.CLOSED && (opened || errors < 2)) return; // the browser reconnects
      source.close();
      stream.source = null;
      if (stream.everOpened) {
        // It worked before: the server restarted or forgot the conversation. Resume, then listen again.
        recover(stream);
      } else {
        state.pollOnly = true; // Server-Sent Events do not get through (a proxy, an old server): poll instead.
        poll(stream);
      }
    };
  }

  /** The server no longer knows the conversation (it restarted, or the conversation was closed): resume it,
   *  showing what was missed, and start a new stream; retried with growing pauses while that fails. */
  function recover(stream) {
    stream.failures += 1;
    stream.timer = setTimeout(() => {
      if (stream.stopped) return;
      resume({ draw: true }).then(syncEvents, () => {
        if (!stream.stopped) recover(stream);
      });
    }, backoff(stream));
  }

  async function poll(stream) {
    while (!stream.stopped) {
      try {
        const reply = await api('GET', eventsPath(stream) + '?after=' + state.lastSeq + '&wait=25', undefined, {
          timeout: 40000, register: (c) => { stream.controller = c; },
        });
        stream.failures = 0;
        for (const event of (reply && reply.events) || []) {
          if (stream.stopped) return;
          handleEvent(stream, event.type, event.data || {}, event.seq);
        }
      } catch (error) {
        if (stream.stopped) return;
        if (isLostConversation(error)) {
          recover(stream);
          return;
        }
        stream.failures += 1;
        await new Promise((resolve) => {
          stream.timer = setTimeout(resolve, backoff(stream));
        });
      }
    }
  }

  function handleEvent(stream, type, payload, seq) {
    if (stream.stopped || stream !== state.stream || !payload) return;
    if (Number.isFinite(seq)) {
      if (seq <= state.lastSeq) return; // already seen (a reconnect, or another transport)
      state.lastSeq = seq;
    }
    switch (type) {
      case 'agent_joined':
        state.agent = payload.agent || state.agent;
        clearQuickReplies();
        addNotice(state.agent ? t('agentJoined', { agent: state.agent }) : t('agentJoinedUnnamed'));
        setHandoff('with_agent');
        noteUnread();
        break;
      case 'agent_message':
        if (typeof payload.text !== 'string') return;
        state.agent = payload.agent || state.agent;
        clearQuickReplies();
        addAgent(state.agent, payload.text);
        if (!HELD_HANDOFFS.includes(state.handoff)) setHandoff('waiting_on_citizen');
        else setHandoff();
        noteUnread();
        break;
      case 'notice':
        if (addBotTurn(payload, { notice: true })) noteUnread();
        applyTurn(payload);
        break;
      case 'ticket':
        setHandoff(payload.handoff, {
          reference: payload.reference, status: payload.status, reply_by: payload.reply_by || null,
        });
        break;
      case 'ended':
        // The server usually says why in a notice just before; otherwise say it here.
        if (state.lastEvent !== 'notice') addNotice(t('ended'));
        state.ended = true;
        stopEvents();
        break;
      default:
        break;
    }
    state.lastEvent = type;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Other tabs and the network.

  function syncFromServer() {
    if (!state.id || !state.token) return;
    if (state.sending) {
      state.syncWanted = true;
      return;
    }
    resume({ draw: true, sync: true }).catch(() => {});
  }

  function onStorage(event) {
    if (event.storageArea && event.storageArea !== local) return;
    if (event.key === K_CONVERSATION || event.key === null) {
      const value = load(K_CONVERSATION);
      if (!value || !value.token) {
        state.token = null;
        dropConversation();
      } else if (value.token !== state.token) {
        // Another tab started a new conversation: follow it.
        state.token = value.token;
        dropConversation();
        if (state.open) connect(); else ensureConversation().then(syncEvents, () => {});
      }
    } else if (event.key === K_SYNC) {
      const ping = load(K_SYNC);
      if (ping && ping.tab !== TAB && ping.id === state.id) syncFromServer();
    }
  }

  function onConnectivity() {
    const online = navigator.onLine;
    ui.offline.hidden = online;
    ui.root.classList.toggle('clerk-is-offline', !online);
    if (online) {
      const waiting = state.waitingForOnline.splice(0);
      for (const retry of waiting) retry();
      if (state.startError && state.startError.isConnected) {
        state.startError.remove();
        state.startError = null;
        connect();
      }
      // A poll waiting out a pause starts again at once (an EventSource reconnects by itself).
      if (state.stream && !state.stream.source) startEvents();
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Start.

  function start() {
    build();
    window.addEventListener('storage', onStorage);
    window.addEventListener('online', onConnectivity);
    window.addEventListener('offline', onConnectivity);
    onConnectivity();
    loadStylesheet().then(() => {
      ui.root.hidden = false;
      if (load(K_OPEN, session)) open({ focus: false });
    });
    if (state.token) {
      // Show the conversation so far (and follow a handover in progress) even before the panel opens.
      ensureConversation().then(syncEvents, () => {});
    }
  }

  window.ClerkWidget = {
    version: '1',
    open: () => open(),
    close: () => close(),
    toggle: () => (state.open ? close() : open()),
    /** Forgets the conversation on this device; the next message starts a new one. */
    reset: () => {
      state.token = null;
      forget(K_CONVERSATION);
      forget(K_TURNS);
      forget(K_WELCOME);
      dropConversation();
      if (state.open) connect();
    },
    locales: LOCALES,
    language: LANG,
    url: BASE,
  };

  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);
})();
