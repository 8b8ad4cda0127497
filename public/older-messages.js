// @ts-check
/**
 * Older messages as the reader scrolls to the top (issue 18, point 2),
 * added above the first one shown while the reader stays where they were
 * (timeline.js keeps the place). They come from
 * `GET /api/walls/{wall}/messages?before={cursor}&limit=N`, which answers
 * `{"messages": [...newest first], "cursor", "more"}`; each page asks
 * before the oldest message shown, so none is skipped, and the timeline
 * merges by id, so none is shown twice.
 *
 * The server renders an "Older messages" link (`?before=`) that works
 * without JavaScript. This takes it over only once the API has answered
 * in that shape: a server without it (`before` ignored, no `more`) leaves
 * the link as it is, a plain link to the server's page of older messages.
 */

/** Messages per page. */
const OLDER_PAGE_SIZE = 50;
/**
 * Loading starts when the top is this close above the view, half a screen:
 * the reader does not wait at the edge, and a page opened at its newest
 * does not load older ones it will never be scrolled to.
 */
const PRELOAD_MARGIN = '50%';
/** A page that takes longer is given up, and offered again. */
const OLDER_TIMEOUT_MS = 10_000;

/** @typedef {import('./timeline.js').Message} Message */

/**
 * @typedef {object} OlderOptions
 * @property {HTMLElement} inbox the scrolling element
 * @property {string} wall
 * @property {(messages: Message[]) => number} prepend adds them above, keeping the place; how many were new
 */

/** @param {OlderOptions} options */
export function setUpOlderMessages({ inbox, wall, prepend }) {
  const edge = /** @type {HTMLElement | null} */ (inbox.querySelector('.history-edge:not(.newer)'));
  const link = /** @type {HTMLAnchorElement | null} */ (edge?.querySelector('a.older') ?? null);
  if (edge === null || link === null) return;
  let before = link.dataset.before ?? '';
  let loading = false;
  let finished = false;
  /** Set when the server does not page backwards: the link is then a plain link. */
  let unsupported = false;

  /** @param {string} text */
  const end = (text) => {
    finished = true;
    observer.disconnect();
    edge.classList.add('start');
    edge.replaceChildren(text);
  };

  const load = async () => {
    if (loading || finished || unsupported) return;
    loading = true;
    edge.setAttribute('aria-busy', 'true');
    link.textContent = 'Loading older messages…';
    try {
      const page = await fetchOlder(wall, before);
      if (page === undefined) {
        unsupported = true;
        observer.disconnect();
        return;
      }
      if (page.refused) {
        end('Older messages cannot be reached from here: reload the page to read from the newest.');
        return;
      }
      prepend(page.messages);
      const oldest = page.messages[0];
      if (!page.more || oldest === undefined) {
        end(`This is the beginning of #${wall}.`);
        return;
      }
      before = oldest.cursor;
      link.dataset.before = before;
      link.search = `?before=${encodeURIComponent(before)}`;
    } catch {
      // Offered again: a click on the link, or the next scroll to the top.
      link.dataset.failed = 'true';
    } finally {
      loading = false;
      edge.removeAttribute('aria-busy');
      if (!finished) {
        link.textContent =
          link.dataset.failed === 'true' ? 'Older messages could not be loaded: try again' : 'Older messages';
        delete link.dataset.failed;
      }
    }
    // Still at the top (a tall window, short messages): the next page.
    if (!finished && !unsupported && nearTop()) void load();
  };

  const nearTop = () => {
    const view = inbox.getBoundingClientRect();
    return edge.getBoundingClientRect().bottom > view.top - view.height / 2;
  };

  const observer = new IntersectionObserver(
    (entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void load();
    },
    { root: inbox, rootMargin: `${PRELOAD_MARGIN} 0px 0px 0px` },
  );
  observer.observe(edge);

  link.addEventListener('click', (event) => {
    if (unsupported) return;
    event.preventDefault();
    void load();
  });
}

/**
 * One page of older messages; undefined when the server does not page
 * backwards (the answer is not in the API's shape); `refused` when it
 * cannot page from that cursor (a 4xx: a cursor of a history it no longer has).
 * @param {string} wall
 * @param {string} before
 * @returns {Promise<{messages: Message[], more: boolean, refused?: boolean} | undefined>}
 */
async function fetchOlder(wall, before) {
  const query = new URLSearchParams({ before, limit: String(OLDER_PAGE_SIZE) });
  const response = await fetch(`/api/walls/${encodeURIComponent(wall)}/messages?${query}`, {
    headers: { Accept: 'application/json' },
    signal: AbortSignal.timeout(OLDER_TIMEOUT_MS),
  });
  if (response.status === 404 || response.status === 405) return undefined;
  if (response.status >= 400 && response.status < 500 && response.status !== 429) {
    return { messages: [], more: false, refused: true };
  }
  if (!response.ok) throw new Error(`older messages: ${response.status}`);
  const body = await response.json();
  if (!Array.isArray(body?.messages) || typeof body.more !== 'boolean') return undefined;
  /** @type {Message[]} */
  const messages = body.messages;
  if (body.reset === true) return { messages: [], more: false, refused: true };
  // The API pages backwards newest first; the timeline takes them oldest first.
  return { messages: messages.reverse(), more: body.more };
}
