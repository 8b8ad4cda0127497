// @ts-check
/**
 * Posting from the page: the length counted as the server counts it, a
 * pending state while a post is out, and failures said in words. A post
 * never hangs (the client gives up after its timeout) and is never stored
 * twice: each message has its own Idempotency-Key, kept while the same
 * text is sent again, so a retry after a lost answer or a restart is
 * stored once.
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
  const author = /** @type {HTMLInputElement} */ (form.elements.namedItem('author'));
  const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
  const counter = /** @type {HTMLOutputElement} */ (form.querySelector('#counter'));
  const note = /** @type {HTMLElement} */ (form.querySelector('#compose-note'));
  const alert = /** @type {HTMLElement} */ (form.querySelector('#compose-error'));
  const maxBodyChars = Number(form.dataset.maxBodyChars) || 2000;
  const buttonText = button.textContent ?? 'Post';
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
    if (countCodePoints(author.value.trim()) > MAX_AUTHOR_CHARS) {
      return `The name is longer than ${MAX_AUTHOR_CHARS} characters.`;
    }
    return '';
  };

  /** @param {boolean} on */
  const showSending = (on) => {
    sending = on;
    button.disabled = on;
    button.textContent = on ? 'Sending…' : buttonText;
    body.readOnly = on;
    author.readOnly = on;
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
    const name = author.value.trim();
    // The same message again (after a failure): the same key, so it is stored once whatever happened to the first.
    if (draft.body !== text || draft.author !== name) draft = { body: text, author: name, key: newIdempotencyKey() };
    showSending(true);
    say(note, '');
    try {
      const { message } = await client.post(
        wall,
        { body: text, author: name },
        {
          idempotencyKey: draft.key,
          timeoutMs: POST_TIMEOUT_MS,
          onRetry: ({ error }) => say(note, `${error.message} Trying again…`),
        },
      );
      draft = { body: '', author: '', key: '' };
      body.value = '';
      showCount();
      onPosted(message);
    } catch (error) {
      say(alert, failureText(error));
    } finally {
      say(note, '');
      showSending(false);
      body.focus();
    }
  });

  body.addEventListener('input', showCount);

  // Enter sends, Shift+Enter starts a new line (the no-JS form keeps plain newlines).
  body.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  showCount();
  showSending(false);
}

/**
 * A failed post in words: what happened, and what to do.
 * @param {unknown} error
 */
function failureText(error) {
  if (!(error instanceof WallcastError)) return `The post failed: ${String(error)}`;
  const kept = 'Your message is kept: press Post to send it again, and it will be stored once.';
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
