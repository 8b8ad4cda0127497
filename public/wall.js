// @ts-check
/**
 * The live wall: goes live over EventSource from the last server-rendered
 * cursor, merges every message by id (never twice), removes deleted ones,
 * and shows the connection state. User text reaches the DOM only as the
 * server's escaped `html` fragment or through textContent.
 */

const inbox = /** @type {HTMLElement} */ (document.getElementById('inbox'));
const status = /** @type {HTMLElement} */ (document.getElementById('status'));
const form = /** @type {HTMLFormElement} */ (document.getElementById('compose'));
const formError = /** @type {HTMLElement} */ (document.getElementById('compose-error'));
const textarea = /** @type {HTMLTextAreaElement} */ (form.elements.namedItem('body'));

const wall = inbox.dataset.wall ?? 'main';
/** The cursor of the newest event seen; where a new EventSource resumes. */
let cursor = inbox.dataset.cursor ?? '';
/** Backoff when the browser gives up on a stream (e.g. a 503); its own reconnects follow `retry:`. */
let restartDelayMs = 1000;

const STATE_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline: new messages will appear when the connection is back.',
};

/** @param {keyof typeof STATE_TEXT} state */
function showState(state) {
  status.dataset.state = state;
  status.textContent = STATE_TEXT[state];
}

/** @param {{id: string, html: string}} message */
function addMessage(message) {
  if (document.getElementById(`m${message.id}`)) return;
  const template = document.createElement('template');
  template.innerHTML = message.html;
  const element = template.content.firstElementChild;
  if (!element || element.id !== `m${message.id}`) return;
  const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
  inbox.append(element);
  if (atBottom) element.scrollIntoView({ block: 'end' });
}

/** @param {string} id */
function removeMessage(id) {
  document.getElementById(`m${id}`)?.remove();
}

/** @param {MessageEvent} event */
function remember(event) {
  if (event.lastEventId) cursor = event.lastEventId;
}

function connect() {
  showState('connecting');
  const url = `/api/walls/${encodeURIComponent(wall)}/events?lastEventId=${encodeURIComponent(cursor)}`;
  const source = new EventSource(url);
  source.addEventListener('open', () => {
    restartDelayMs = 1000;
    showState('live');
  });
  source.addEventListener('message', (event) => {
    remember(event);
    addMessage(JSON.parse(event.data));
  });
  // The server could not resume our cursor: the newest messages follow and merge by id.
  source.addEventListener('reset', remember);
  source.addEventListener('delete', (event) => {
    remember(event);
    removeMessage(JSON.parse(event.data).id);
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CONNECTING) {
      showState('reconnecting');
      return;
    }
    // CLOSED: the browser will not retry (an error status); start over later.
    showState('offline');
    source.close();
    setTimeout(connect, restartDelayMs);
    restartDelayMs = Math.min(restartDelayMs * 2, 30_000);
  });
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  formError.hidden = true;
  try {
    const response = await fetch(form.action, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        // One key per message: should this post be sent again, it is stored once.
        'Idempotency-Key': String(data.get('idempotency_key') ?? crypto.randomUUID()),
      },
      body: JSON.stringify({ body: data.get('body'), author: data.get('author') }),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer?.error?.message ?? `The post failed (${response.status}).`);
    textarea.value = '';
    const key = /** @type {HTMLInputElement} */ (form.elements.namedItem('idempotency_key'));
    key.value = crypto.randomUUID();
    // Live clients get it from the stream in order; show it now only when not live.
    if (status.dataset.state !== 'live') addMessage(answer);
  } catch (error) {
    formError.textContent = error instanceof Error ? error.message : String(error);
    formError.hidden = false;
  }
});

// Enter sends, Shift+Enter starts a new line (the no-JS form keeps plain newlines).
textarea.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

window.addEventListener('offline', () => showState('offline'));
connect();
