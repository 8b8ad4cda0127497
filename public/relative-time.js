// @ts-check
/**
 * Message times as people read them: "just now", "3 minutes ago",
 * "yesterday", then the date; the exact local time on hover (`title`). Every
 * `<time datetime>` is kept fresh while the page is in view.
 */

/** How often relative times are rewritten: a minute's resolution, never more than half a minute late. */
const REFRESH_MS = 30_000;
/** Younger than this is "just now": "12 seconds ago" would change under the reader's eyes. */
const JUST_NOW_S = 45;
/** From this age on, the date says more than "9 days ago". */
const DATE_FROM_DAYS = 7;

/** The page's language, so the words match the rest of the page. */
const LANG = document.documentElement.lang || 'en';
const relative = new Intl.RelativeTimeFormat(LANG, { numeric: 'auto' });
const exact = new Intl.DateTimeFormat(LANG, { dateStyle: 'full', timeStyle: 'long' });
const day = new Intl.DateTimeFormat(LANG, { dateStyle: 'medium' });

/**
 * @param {Date} when
 * @param {number} nowMs
 */
export function describeTime(when, nowMs) {
  const seconds = Math.round((nowMs - when.getTime()) / 1000);
  if (seconds < JUST_NOW_S) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return relative.format(-minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (hours < 24) return relative.format(-hours, 'hour');
  const days = Math.round(hours / 24);
  if (days < DATE_FROM_DAYS) return relative.format(-days, 'day');
  return day.format(when);
}

/**
 * A `<time>` for a message that has none (live ones: the server's fragment carries no time).
 * @param {string} createdAt ISO 8601
 */
export function timeElement(createdAt) {
  const time = document.createElement('time');
  time.dateTime = createdAt;
  refreshTime(time, Date.now());
  return time;
}

/**
 * @param {HTMLTimeElement} time
 * @param {number} nowMs
 */
function refreshTime(time, nowMs) {
  const when = new Date(time.dateTime);
  if (Number.isNaN(when.getTime())) return;
  const text = describeTime(when, nowMs);
  if (time.textContent !== text) time.textContent = text;
  time.title = exact.format(when);
}

/**
 * Rewrites every time under `root` now, then every REFRESH_MS while the
 * page is visible, and at once when it becomes visible again.
 * @param {HTMLElement} root
 */
export function keepTimesFresh(root) {
  const refreshAll = () => {
    const nowMs = Date.now();
    for (const time of root.querySelectorAll('time[datetime]'))
      refreshTime(/** @type {HTMLTimeElement} */ (time), nowMs);
  };
  refreshAll();
  setInterval(() => {
    if (document.visibilityState === 'visible') refreshAll();
  }, REFRESH_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') refreshAll();
  });
}
