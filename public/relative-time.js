// @ts-check
/**
 * Message times as people read them in a channel: "just now", "3 minutes
 * ago", then the clock time ("2:05 PM"), the day being the heading's
 * ("Today", "Yesterday", "Monday, March 3"). The exact time is on hover
 * (`title`). They stay quiet: nothing counts seconds, and the text changes
 * at most once a minute, while the page is in view.
 */

/** How often times are rewritten: a minute's resolution, never more than half a minute late. */
const REFRESH_MS = 30_000;
/** Younger than this is "just now": "12 seconds ago" would change under the reader's eyes. */
const JUST_NOW_S = 45;
/** Up to this age "N minutes ago"; from it on, the clock time says more. */
const RELATIVE_UNTIL_MIN = 60;

/** The page's language, so the words match the rest of the page. */
const LANG = document.documentElement.lang || 'en';
const relative = new Intl.RelativeTimeFormat(LANG, { numeric: 'auto' });
const exact = new Intl.DateTimeFormat(LANG, { dateStyle: 'full', timeStyle: 'long' });
const clock = new Intl.DateTimeFormat(LANG, { timeStyle: 'short' });
// en-CA writes YYYY-MM-DD: the same day key the server renders (src/views/page-clock.ts).
const dayKeyFormat = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' });
const dayLabelFormat = new Intl.DateTimeFormat(LANG, { weekday: 'long', month: 'long', day: 'numeric' });
const dayLabelWithYear = new Intl.DateTimeFormat(LANG, { dateStyle: 'full' });

/** This browser's time zone, which the server renders the next page in (cookie `wallcast_tz`). */
export const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * @param {Date} when
 * @param {number} nowMs
 */
function describeTime(when, nowMs) {
  const seconds = Math.round((nowMs - when.getTime()) / 1000);
  if (seconds < JUST_NOW_S) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < RELATIVE_UNTIL_MIN) return relative.format(-minutes, 'minute');
  return clock.format(when);
}

/**
 * The local day of an instant, `YYYY-MM-DD`.
 * @param {Date | number} when
 */
export function dayKey(when) {
  return dayKeyFormat.format(when);
}

/**
 * "Today", "Yesterday", "Monday, March 3", or the full date in another year.
 * @param {string} day `YYYY-MM-DD`
 * @param {number} nowMs
 */
export function dayLabel(day, nowMs) {
  if (day === dayKey(nowMs)) return 'Today';
  if (day === dayKey(nowMs - 24 * 3600_000)) return 'Yesterday';
  // Noon of that day: the same day in every zone this browser could be in.
  const noon = new Date(`${day}T12:00:00`);
  return day.slice(0, 4) === dayKey(nowMs).slice(0, 4) ? dayLabelFormat.format(noon) : dayLabelWithYear.format(noon);
}

/**
 * A `<time>` for a message (a live one: the server's fragment carries no time).
 * @param {string} createdAt ISO 8601
 */
export function timeElement(createdAt) {
  const time = document.createElement('time');
  time.dateTime = createdAt;
  refreshTime(time, Date.now());
  return time;
}

/**
 * A message time, or a day heading's (`datetime` of a day only).
 * @param {HTMLTimeElement} time
 * @param {number} nowMs
 */
function refreshTime(time, nowMs) {
  const value = time.dateTime;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const label = dayLabel(value, nowMs);
    if (time.textContent !== label) time.textContent = label;
    return;
  }
  const when = new Date(value);
  if (Number.isNaN(when.getTime())) return;
  const text = describeTime(when, nowMs);
  if (time.textContent !== text) time.textContent = text;
  const title = exact.format(when);
  if (time.title !== title) time.title = title;
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
