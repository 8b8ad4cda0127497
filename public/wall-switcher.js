// @ts-check
/**
 * Moving between walls (issue 18, point 3): the walls this browser opened
 * lately (localStorage), the server's walls by last activity when it serves
 * `GET /api/walls` (the page says so: `data-wall-list`), and the box that
 * opens any wall by name, which works without JavaScript too (`GET /w?wall=`).
 * On a phone the list is a panel behind the bar's "Walls" button.
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

const relative = new Intl.RelativeTimeFormat(document.documentElement.lang || 'en', {
  numeric: 'auto',
  style: 'narrow',
});

/** Sets up the list of walls of this page, if it has one. */
export function setUpWallSwitcher() {
  const nav = document.getElementById('walls');
  if (nav === null) return;
  const current = nav.dataset.current;
  if (current !== undefined) rememberWall(current);
  showRecent(nav, current);
  const listPath = nav.dataset.wallList;
  if (listPath !== undefined) void showServerWalls(nav, listPath, current);
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
 * The server's walls, newest activity first, a page at a time.
 * @param {HTMLElement} nav
 * @param {string} listPath
 * @param {string | undefined} current
 */
async function showServerWalls(nav, listPath, current) {
  const section = /** @type {HTMLElement | null} */ (nav.querySelector('#active-walls'));
  const list = section?.querySelector('ul');
  const more = /** @type {HTMLButtonElement | null | undefined} */ (section?.querySelector('.more-walls'));
  if (!section || !list || !more) return;
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
      for (const entry of body.walls) {
        if (typeof entry?.wall !== 'string' || !WALL_NAME.test(entry.wall)) continue;
        if (list.childElementCount >= MAX_LISTED_WALLS) break;
        list.append(wallItem(entry.wall, current, entry.lastActivityAt));
      }
      section.hidden = list.childElementCount === 0;
      const next = typeof body.next === 'string' ? body.next : null;
      more.hidden = next === null || list.childElementCount >= MAX_LISTED_WALLS;
      more.onclick = () => void page(next);
    } catch {
      // The list is a convenience: the box still opens any wall.
    }
  };
  await page(null);
}

/**
 * @param {string} wall
 * @param {string | undefined} current
 * @param {string} [lastActivityAt]
 */
function wallItem(wall, current, lastActivityAt) {
  const item = document.createElement('li');
  const link = document.createElement('a');
  link.href = pathOf(wall);
  link.className = 'wall-link';
  const hash = document.createElement('span');
  hash.className = 'hash';
  hash.setAttribute('aria-hidden', 'true');
  hash.textContent = '#';
  const name = document.createElement('span');
  name.className = 'wall-link-name';
  name.textContent = wall;
  link.append(hash, name);
  if (wall === current) link.setAttribute('aria-current', 'page');
  const when = lastActivityAt === undefined ? Number.NaN : Date.parse(lastActivityAt);
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
