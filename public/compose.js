// @ts-check
/**
 * Posting from the page: the length counted as the server counts it, a
 * pending state while a post is out, and failures said in words. A post
 * never hangs (the client gives up after its timeout) and is never stored
 * twice: each message has its own Idempotency-Key, kept while the same
 * text is sent again, so a retry after a lost answer or a restart is
 * stored once.
 *
 * The box grows with its text (up to a cap, then it scrolls); Enter sends
 * and Shift+Enter starts a new line where there is a keyboard, while on a
 * touch screen Enter is a new line and the Send button sends (as in the
 * phone apps of Slack and WhatsApp). The name is remembered in this browser.
 */
import { countCodePoints, newIdempotencyKey, WallcastError } from './wallcast-client.js';

/** @typedef {import('./wallcast-client.js').Message} Message */
/** @typedef {import('./wallcast-client.js').WallcastClient} WallcastClient */

/** The counter shows from this share of the limit on: near it, not all the time. */
const COUNTER_FROM = 0.9;
/** The server's limit for author names, in code points (API.md, "Words"). */
const MAX_AUTHOR_CHARS = 64;
/** How long a post, with its retries, may take before the page says so. */
const POST_TIMEOUT_MS = 10_000;
/** Where the name is remembered, for every wall of this site. */
const NAME_KEY = 'wallcast:name';

/**
 * @typedef {object} ComposeOptions
 * @property {HTMLFormElement} form
 * @property {WallcastClient} client
 * @property {string} wall
 * @property {(message: Message) => void} onPosted
 */

/** @param {ComposeOptions} options */
export function setUpCompose({ form, client, wall, onPosted }) {
  const body = /** @type {HTMLTextAreaElement} */ (form.elements.namedItem('body'));
  // A token's reader has no name box: the server posts under the token's name.
  const author = /** @type {HTMLInputElement | null} */ (form.elements.namedItem('author'));
  const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
  const label = /** @type {HTMLElement} */ (button.querySelector('.send-label') ?? button);
  const counter = /** @type {HTMLOutputElement} */ (form.querySelector('#counter'));
  const note = /** @type {HTMLElement} */ (form.querySelector('#compose-note'));
  const alert = /** @type {HTMLElement} */ (form.querySelector('#compose-error'));
  const hint = /** @type {HTMLElement | null} */ (form.querySelector('#compose-hint'));
  const maxBodyChars = Number(form.dataset.maxBodyChars) || 2000;
  const buttonText = label.textContent ?? 'Send';
  // Only a touch screen, no keyboard with a Shift key: Enter is a new line there.
  const enterSends = !matchMedia('(hover: none) and (pointer: coarse)').matches;
  if (hint !== null) hint.hidden = !enterSends;
  /** The message being sent and its key: sending the same text again reuses the key. */
  let draft = { body: '', author: '', key: '' };
  let sending = false;

  /** @param {HTMLElement} element @param {string} text */
  const say = (element, text) => {
    element.textContent = text;
    element.hidden = text === '';
  };

  /** The text as the server will store it: line endings as LF, trimmed. */
  const bodyText = () => body.value.replace(/\r\n?/g, '\n').trim();

  const showCount = () => {
    const count = countCodePoints(bodyText());
    const over = count > maxBodyChars;
    counter.hidden = count < maxBodyChars * COUNTER_FROM;
    counter.textContent = over
      ? `${count} / ${maxBodyChars}: ${count - maxBodyChars} too many`
      : `${count} / ${maxBodyChars}`;
    counter.classList.toggle('over', over);
    body.setAttribute('aria-invalid', String(over));
  };

  /** Why the page will not send this, in words; '' when it may be sent. */
  const problem = () => {
    const count = countCodePoints(bodyText());
    if (count === 0) return 'Write something first.';
    if (count > maxBodyChars) {
      return `The message is ${count} characters long; the limit is ${maxBodyChars}. Shorten it by ${count - maxBodyChars}.`;
    }
    if (author !== null && countCodePoints(author.value.trim()) > MAX_AUTHOR_CHARS) {
      return `The name is longer than ${MAX_AUTHOR_CHARS} characters.`;
    }
    return '';
  };

  /** @param {boolean} on */
  const showSending = (on) => {
    sending = on;
    button.disabled = on;
    label.textContent = on ? 'Sending…' : buttonText;
    body.readOnly = on;
    if (author !== null) author.readOnly = on;
    form.dataset.state = on ? 'sending' : 'idle';
    form.setAttribute('aria-busy', String(on));
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (sending) return;
    const refusal = problem();
    say(alert, refusal);
    if (refusal !== '') return;
    const text = bodyText();
    const name = author?.value.trim() ?? '';
    // The same message again (after a failure): the same key, so it is stored once whatever happened to the first.
    if (draft.body !== text || draft.author !== name) draft = { body: text, author: name, key: newIdempotencyKey() };
    showSending(true);
    say(note, '');
    try {
      const { message } = await client.post(wall, author === null ? { body: text } : { body: text, author: name }, {
        idempotencyKey: draft.key,
        timeoutMs: POST_TIMEOUT_MS,
        onRetry: ({ error }) => say(note, `${error.message} Trying again…`),
      });
      draft = { body: '', author: '', key: '' };
      body.value = '';
      showCount();
      grow();
      onPosted(message);
    } catch (error) {
      say(alert, failureText(error));
    } finally {
      say(note, '');
      showSending(false);
      body.focus();
    }
  });

  /**
   * The box as tall as its text; wall.css caps it (then it scrolls). Where
   * CSS does it (`field-sizing: content`) nothing is left to do; elsewhere
   * the box is measured at its natural height, which for a moment gives the
   * messages above more room: where they were scrolled to is kept.
   */
  const grow = () => {
    if (CSS.supports('field-sizing', 'content')) return;
    const inbox = document.getElementById('inbox');
    const scrolled = inbox?.scrollTop ?? 0;
    body.style.height = 'auto';
    body.style.height = `${body.scrollHeight + body.offsetHeight - body.clientHeight}px`;
    if (inbox !== null) inbox.scrollTop = scrolled;
  };

  body.addEventListener('input', () => {
    showCount();
    grow();
  });

  // Enter sends, Shift+Enter starts a new line (the no-JS form keeps plain newlines).
  body.addEventListener('keydown', (event) => {
    if (enterSends && event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  if (author !== null) {
    author.value ||= readName();
    author.addEventListener('input', () => saveName(author.value.trim()));
  }

  showCount();
  showSending(false);
  grow();
}

function readName() {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
}

/** @param {string} name */
function saveName(name) {
  try {
    if (name === '') localStorage.removeItem(NAME_KEY);
    else localStorage.setItem(NAME_KEY, name);
  } catch {
    // Storage refused (private mode): the name is kept while the page is open.
  }
}

/**
 * A failed post in words: what happened, and what to do.
 * @param {unknown} error
 */
function failureText(error) {
  if (!(error instanceof WallcastError)) return `The post failed: ${String(error)}`;
  const kept = 'Your message is kept: press Send to send it again, and it will be stored once.';
  switch (error.code) {
    case 'network':
      return `${error.message} ${kept}`;
    case 'timeout':
      return `${error.message} ${kept}`;
    case 'unauthorized':
      return 'Posting here needs a publish token, which this page does not have.';
    case 'rate_limited':
    case 'unavailable':
      return `${error.message}${whenToRetry(error)}`;
    default:
      return error.message;
  }
}

/**
 * " Try again in N s." when the server said when (Retry-After) and its message does not.
 * @param {WallcastError} error
 */
function whenToRetry(error) {
  const seconds = error.retryAfterSeconds;
  if (seconds === undefined || /\bin \d+ ?s\b/.test(error.message)) return '';
  return seconds <= 1 ? ' Try again in a moment.' : ` Try again in ${seconds} s.`;
}
