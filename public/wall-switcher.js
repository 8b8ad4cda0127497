// @ts-check
/**
 * Moving between walls (issue 18, point 3): the walls this browser opened
 * lately (localStorage), the server's walls by last activity when it serves
 * `GET /api/walls` (the page says so: `data-wall-list`), and the box that
 * opens any wall by name, which works without JavaScript too (`GET /w?wall=`).
 * On a phone the list is a panel behind the bar's "Walls" button.
 *
 * A wall this browser has looked at and that had messages since is marked
 * unread in both lists (bold, a dot, "new messages" for screen readers): the
 * time a tab last showed each wall is kept beside the recent walls, and the
 * server's list says each wall's last activity. The server's list is asked
 * again every minute while the tab is shown and when it is shown again.
 */

const RECENT_KEY = 'wallcast:recent-walls';
/** Recent walls kept and shown. */
const MAX_RECENT_WALLS = 12;
/** Walls asked per page of the server's list. */
const WALL_PAGE_SIZE = 50;
/** The server's list stops growing here ("More walls" is no longer offered): a list, not an index. */
const MAX_LISTED_WALLS = 500;
const WALL_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const WALL_NAME_RULE = 'A wall name is 1–64 characters of a-z, 0-9, "_" and "-", starting with a letter or digit.';
const LIST_TIMEOUT_MS = 10_000;
const SEEN_KEY = 'wallcast:seen-walls';
/** Walls whose last look is kept: the most recently seen. */
const MAX_SEEN_WALLS = 100;
/** How often a shown tab asks the server's list again (its times and unread marks). */
const LIST_REFRESH_MS = 60_000;

const relative = new Intl.RelativeTimeFormat(document.documentElement.lang || 'en', {
  numeric: 'auto',
  style: 'narrow',
});

/** Sets up the list of walls of this page, if it has one. */
export function setUpWallSwitcher() {
  const nav = document.getElementById('walls');
  if (nav === null) return;
  const current = nav.dataset.current;
  if (current !== undefined) {
    rememberWall(current);
    // Seen while shown: when the tab is hidden or left, this wall was looked at until then.
    markSeen(current);
    document.addEventListener('visibilitychange', () => markSeen(current));
    window.addEventListener('pagehide', () => markSeen(current));
  }
  /** Each listed wall's last activity (ms), from the server's list. */
  const activity = new Map();
  showRecent(nav, current);
  const listPath = nav.dataset.wallList;
  if (listPath !== undefined) {
    const refresh = serverWalls(nav, listPath, current, activity);
    void refresh();
    setInterval(() => {
      if (document.visibilityState === 'visible') void refresh();
    }, LIST_REFRESH_MS);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') void refresh();
    });
  }
  setUpOpenBox(nav);
  setUpToggle(nav);
}

/**
 * `#Team`, ` team chat ` → `team`, `team-chat`, as the server reads the box
 * (src/views/wall-path.ts); undefined when it is no wall's name even so.
 * @param {string} input
 */
export function normaliseWallName(input) {
  const name = input.trim().replace(/^#/, '').trim().replace(/\s+/g, '-').toLowerCase();
  return WALL_NAME.test(name) ? name : undefined;
}

/** @param {string} wall */
function pathOf(wall) {
  return wall === 'main' ? '/' : `/w/${wall}`;
}

/** @returns {{wall: string, at: number}[]} */
function recentWalls() {
  try {
    const list = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]');
    if (!Array.isArray(list)) return [];
    return list.filter((entry) => typeof entry?.wall === 'string' && WALL_NAME.test(entry.wall));
  } catch {
    return [];
  }
}

/** @param {string} wall */
function rememberWall(wall) {
  const list = [{ wall, at: Date.now() }, ...recentWalls().filter((entry) => entry.wall !== wall)];
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(list.slice(0, MAX_RECENT_WALLS)));
  } catch {
    // Storage refused (private mode): the list is this page's only.
  }
}

/** When this browser last showed each wall (ms), as far as it kept. @returns {Map<string, number>} */
function seenWalls() {
  try {
    const entries = Object.entries(JSON.parse(localStorage.getItem(SEEN_KEY) ?? '{}') ?? {});
    return new Map(entries.filter(([wall, at]) => WALL_NAME.test(wall) && typeof at === 'number'));
  } catch {
    return new Map();
  }
}

/** @param {string} wall */
function markSeen(wall) {
  const seen = seenWalls();
  seen.set(wall, Date.now());
  const kept = [...seen].sort((a, b) => b[1] - a[1]).slice(0, MAX_SEEN_WALLS);
  try {
    localStorage.setItem(SEEN_KEY, JSON.stringify(Object.fromEntries(kept)));
  } catch {
    // Storage refused (private mode): no wall is marked unread.
  }
}

/**
 * Marks the walls of both lists that had messages since this browser last
 * showed them; the wall shown here, and walls never looked at, are not.
 * @param {HTMLElement} nav
 * @param {string | undefined} current
 * @param {Map<string, number>} activity
 */
function showUnread(nav, current, activity) {
  const seen = seenWalls();
  for (const link of /** @type {NodeListOf<HTMLAnchorElement>} */ (nav.querySelectorAll('a.wall-link[data-wall]'))) {
    const wall = /** @type {string} */ (link.dataset.wall);
    const last = activity.get(wall);
    const lookedAt = seen.get(wall);
    const unread = wall !== current && last !== undefined && lookedAt !== undefined && last > lookedAt;
    if (unread === link.classList.contains('unread')) continue;
    link.classList.toggle('unread', unread);
    if (unread) {
      const dot = document.createElement('span');
      dot.className = 'unread-dot';
      dot.setAttribute('aria-hidden', 'true');
      const said = document.createElement('span');
      said.className = 'visually-hidden unread-said';
      said.textContent = ', new messages';
      link.querySelector('.wall-link-name')?.after(dot, said);
    } else {
      for (const mark of link.querySelectorAll('.unread-dot, .unread-said')) mark.remove();
    }
  }
}

/**
 * @param {HTMLElement} nav
 * @param {string | undefined} current
 */
function showRecent(nav, current) {
  const section = /** @type {HTMLElement | null} */ (nav.querySelector('#recent-walls'));
  const list = section?.querySelector('ul');
  if (!section || !list) return;
  const walls = recentWalls();
  list.replaceChildren(...walls.map(({ wall }) => wallItem(wall, current)));
  section.hidden = walls.length === 0;
}

/**
 * The server's walls, newest activity first, a page at a time. Returns the
 * refresh: the first page again, in place of the list, unless the reader
 * asked for more (the list would shrink under them).
 * @param {HTMLElement} nav
 * @param {string} listPath
 * @param {string | undefined} current
 * @param {Map<string, number>} activity
 * @returns {() => Promise<void>}
 */
function serverWalls(nav, listPath, current, activity) {
  const section = /** @type {HTMLElement | null} */ (nav.querySelector('#active-walls'));
  const list = section?.querySelector('ul');
  const more = /** @type {HTMLButtonElement | null | undefined} */ (section?.querySelector('.more-walls'));
  if (!section || !list || !more) return async () => {};
  let expanded = false;
  /** @param {string | null} after */
  const page = async (after) => {
    const query = new URLSearchParams({ limit: String(WALL_PAGE_SIZE) });
    if (after !== null) query.set('after', after);
    try {
      const response = await fetch(`${listPath}?${query}`, {
        headers: { Accept: 'application/json' },
        signal: AbortSignal.timeout(LIST_TIMEOUT_MS),
      });
      if (!response.ok) return;
      const body = await response.json();
      // Not the list's shape (a server without it): the section stays hidden.
      if (!Array.isArray(body?.walls)) return;
      if (after === null) list.replaceChildren();
      for (const entry of body.walls) {
        if (typeof entry?.wall !== 'string' || !WALL_NAME.test(entry.wall)) continue;
        if (list.childElementCount >= MAX_LISTED_WALLS) break;
        const when = typeof entry.lastActivityAt === 'string' ? Date.parse(entry.lastActivityAt) : Number.NaN;
        if (!Number.isNaN(when)) activity.set(entry.wall, when);
        list.append(wallItem(entry.wall, current, when));
      }
      section.hidden = list.childElementCount === 0;
      const next = typeof body.next === 'string' ? body.next : null;
      more.hidden = next === null || list.childElementCount >= MAX_LISTED_WALLS;
      more.onclick = () => {
        expanded = true;
        void page(next);
      };
      showUnread(nav, current, activity);
    } catch {
      // The list is a convenience: the box still opens any wall.
    }
  };
  return async () => {
    if (!expanded) await page(null);
  };
}

/**
 * @param {string} wall
 * @param {string | undefined} current
 * @param {number} [when] its last activity (ms), when the server's list said it
 */
function wallItem(wall, current, when = Number.NaN) {
  const item = document.createElement('li');
  const link = document.createElement('a');
  link.href = pathOf(wall);
  link.className = 'wall-link';
  link.dataset.wall = wall;
  const hash = document.createElement('span');
  hash.className = 'hash';
  hash.setAttribute('aria-hidden', 'true');
  hash.textContent = '#';
  const name = document.createElement('span');
  name.className = 'wall-link-name';
  name.textContent = wall;
  link.append(hash, name);
  if (wall === current) link.setAttribute('aria-current', 'page');
  if (!Number.isNaN(when)) {
    const time = document.createElement('time');
    time.className = 'wall-activity';
    time.dateTime = new Date(when).toISOString();
    time.textContent = ago(when);
    time.title = new Date(when).toLocaleString();
    link.append(time);
  }
  item.append(link);
  return item;
}

/** @param {number} when */
function ago(when) {
  const minutes = Math.round((Date.now() - when) / 60_000);
  if (minutes < 1) return 'now';
  if (minutes < 60) return relative.format(-minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (hours < 24) return relative.format(-hours, 'hour');
  return relative.format(-Math.round(hours / 24), 'day');
}

/**
 * The box: a name as a person types it opens that wall; one that is no
 * wall's name is said at once, beside the box.
 * @param {HTMLElement} nav
 */
function setUpOpenBox(nav) {
  const form = /** @type {HTMLFormElement | null} */ (nav.querySelector('#open-wall'));
  const input = /** @type {HTMLInputElement | null} */ (nav.querySelector('#open-wall-name'));
  const error = /** @type {HTMLElement | null} */ (nav.querySelector('#open-wall-error'));
  if (!form || !input || !error) return;
  const say = (/** @type {string} */ text) => {
    error.textContent = text;
    error.hidden = text === '';
    input.setAttribute('aria-invalid', String(text !== ''));
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const wall = normaliseWallName(input.value);
    if (wall === undefined) {
      say(input.value.trim() === '' ? 'Type the name of a wall.' : WALL_NAME_RULE);
      input.focus();
      return;
    }
    say('');
    location.assign(pathOf(wall));
  });
  input.addEventListener('input', () => say(''));
}

/**
 * On a phone: the bar's "Walls" button opens the list over the page, and
 * Escape, the close button or a click outside closes it, focus going back
 * where it was. (Without JavaScript the button is a link to `#walls`, which
 * wall.css opens with `:target`.)
 * @param {HTMLElement} nav
 */
function setUpToggle(nav) {
  const toggle = document.getElementById('walls-toggle');
  const close = document.getElementById('walls-close');
  if (toggle === null) return;
  toggle.setAttribute('role', 'button');
  toggle.setAttribute('aria-expanded', 'false');
  /** @param {boolean} open */
  const show = (open) => {
    nav.classList.toggle('open', open);
    toggle.setAttribute('aria-expanded', String(open));
    if (open) /** @type {HTMLElement | null} */ (nav.querySelector('a[aria-current], input'))?.focus();
    else toggle.focus();
  };
  toggle.addEventListener('click', (event) => {
    event.preventDefault();
    show(!nav.classList.contains('open'));
  });
  toggle.addEventListener('keydown', (event) => {
    // A link made a button answers the space bar too.
    if (event.key === ' ') {
      event.preventDefault();
      show(!nav.classList.contains('open'));
    }
  });
  close?.addEventListener('click', (event) => {
    event.preventDefault();
    show(false);
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && nav.classList.contains('open')) show(false);
  });
  document.addEventListener('pointerdown', (event) => {
    if (!nav.classList.contains('open')) return;
    const target = /** @type {Node} */ (event.target);
    if (!nav.contains(target) && !toggle.contains(target)) show(false);
  });
}
