/**
 * Days and clock times for a server-rendered page, in the reader's time
 * zone when the page's script has told it (cookie `wallcast_tz`), else in
 * UTC, said as such. The script rewrites them in the browser's own zone
 * (public/relative-time.js), so a page without JavaScript is the only one
 * that keeps these.
 */

/** The cookie the page's script sets to the browser's IANA time zone. */
export const TIME_ZONE_COOKIE = 'wallcast_tz';

/** An IANA zone name as a cookie may carry it ("Europe/Berlin", "America/Argentina/Buenos_Aires", "UTC"). */
const ZONE_NAME = /^[A-Za-z0-9_+-]+(?:\/[A-Za-z0-9_+-]+){0,2}$/;

/** The time zone a cookie names, if it is one this runtime knows; undefined otherwise. */
export function parseTimeZone(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.length > 64 || !ZONE_NAME.test(raw)) return undefined;
  try {
    return new Intl.DateTimeFormat('en', { timeZone: raw }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** One page's clock: its formatters are made once per rendering, not once per message. */
export class PageClock {
  readonly timeZone: string;
  /** The zone came from the reader (a cookie): times need no "UTC" after them. */
  readonly known: boolean;
  readonly #day: Intl.DateTimeFormat;
  readonly #exact: Intl.DateTimeFormat;
  readonly #clock: Intl.DateTimeFormat;
  readonly #label: Intl.DateTimeFormat;
  readonly #labelWithYear: Intl.DateTimeFormat;
  readonly #today: string;
  readonly #yesterday: string;

  constructor(timeZone: string | undefined, nowMs: number) {
    this.timeZone = timeZone ?? 'UTC';
    this.known = timeZone !== undefined;
    const zone = { timeZone: this.timeZone };
    // en-CA writes dates as YYYY-MM-DD: the same key public/relative-time.js makes.
    this.#day = new Intl.DateTimeFormat('en-CA', { ...zone, year: 'numeric', month: '2-digit', day: '2-digit' });
    this.#exact = new Intl.DateTimeFormat('en-CA', {
      ...zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    this.#clock = new Intl.DateTimeFormat('en', { ...zone, timeStyle: 'short' });
    this.#label = new Intl.DateTimeFormat('en', { ...zone, weekday: 'long', month: 'long', day: 'numeric' });
    this.#labelWithYear = new Intl.DateTimeFormat('en', { ...zone, dateStyle: 'full' });
    this.#today = this.#day.format(nowMs);
    this.#yesterday = this.#day.format(nowMs - 24 * 3600_000);
  }

  /** `YYYY-MM-DD` of the instant, in this zone. */
  dayOf(iso: string): string {
    return this.#day.format(new Date(iso));
  }

  /** "Today", "Yesterday", "Monday, March 3", or the full date in another year. */
  dayLabel(day: string, anInstant: string): string {
    if (day === this.#today) return 'Today';
    if (day === this.#yesterday) return 'Yesterday';
    return day.slice(0, 4) === this.#today.slice(0, 4)
      ? this.#label.format(new Date(anInstant))
      : this.#labelWithYear.format(new Date(anInstant));
  }

  /** "2:05 PM", with " UTC" when the reader's zone is not known. */
  clockTime(iso: string): string {
    const time = this.#clock.format(new Date(iso));
    return this.known ? time : `${time} UTC`;
  }

  /** "2024-03-03 14:05 UTC": the exact minute, for the `title`. */
  exact(iso: string): string {
    const parts = Object.fromEntries(this.#exact.formatToParts(new Date(iso)).map((part) => [part.type, part.value]));
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${this.timeZone}`;
  }
}
