// @ts-check
/**
 * The wall's messages on screen, in the scrolling inbox: each message once
 * (merged by id), under a heading per day and in groups by author, as the
 * server renders them (src/views/timeline-html.ts, with the same rules from
 * authors.js), and where the reader is. The page opens at the newest
 * message; it follows new ones while the reader is at the bottom, and counts
 * them on a "N new messages" button when they scrolled up to read. The
 * reader's own post is always brought into view; older messages added at
 * the top leave the reader where they were.
 *
 * User text reaches the DOM only as the server's escaped fragment, or
 * through `textContent`.
 */
import { authorKey, continuesGroup, hueOf, initialsOf } from './authors.js';
import { dayKey, dayLabel, timeElement } from './relative-time.js';

/** @typedef {import('./wallcast-client.js').Message & {authorId?: string | null}} Message */

/**
 * What grouping knows of a message on screen.
 * @typedef {object} Shown
 * @property {string} author `''` when anonymous
 * @property {string | null} authorId
 * @property {string} createdAt
 * @property {boolean} own
 */

/**
 * Still "at the bottom" this close to it: a fraction of a line, so a
 * reader who is (almost) at the end keeps following.
 */
const AT_BOTTOM_PX = 48;

const SVG = 'http://www.w3.org/2000/svg';
const CHECK_PATH = 'M8 1a7 7 0 1 1 0 14A7 7 0 0 1 8 1zm3.2 4.4L7 9.6 4.8 7.4 3.7 8.5 7 11.8l5.3-5.3z';
const PERSON_PATH = 'M8 8a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm-5 6c0-2.8 2.2-4.5 5-4.5s5 1.7 5 4.5z';

export class Timeline {
  #inbox;
  #list;
  #jump;
  #unseen = 0;
  /** What grouping knows of each message element (read from the server's markup once, or given live). */
  #shown = new WeakMap();
  /** Where the reader was at the last layout: the composer growing must not hide the newest message. */
  #wasAtBottom = true;
  /** The inbox's height at the last resize seen: a scroll at another height comes from a resize not yet handled. */
  #height = 0;

  /**
   * @param {HTMLElement} inbox the scrolling `main`
   * @param {HTMLElement} list the `#timeline` inside it: day headings and groups
   * @param {HTMLButtonElement} jump the "N new messages" button
   */
  constructor(inbox, list, jump) {
    this.#inbox = inbox;
    this.#list = list;
    this.#jump = jump;
    inbox.addEventListener('scroll', () => this.#scrolled(), { passive: true });
    jump.addEventListener('click', () => this.scrollToEnd());
    // The inbox shrinks when the composer grows (a longer text, an error above it): a reader at the bottom stays there.
    new ResizeObserver(() => {
      this.#height = inbox.clientHeight;
      if (this.#wasAtBottom) inbox.scrollTop = inbox.scrollHeight;
    }).observe(inbox);
  }

  /**
   * Where the page opens: at the message the address names (`#m{id}`,
   * where a no-JS post lands), else at the newest.
   */
  open() {
    const target = location.hash.startsWith('#m') ? document.getElementById(location.hash.slice(1)) : null;
    if (target?.classList.contains('message')) {
      target.scrollIntoView({ block: 'nearest' });
      this.#wasAtBottom = this.#atBottom();
    } else this.scrollToEnd();
  }

  /** @returns {HTMLElement[]} */
  messages() {
    return /** @type {HTMLElement[]} */ ([...this.#list.querySelectorAll('.message')]);
  }

  /**
   * Adds a message unless it is on the page already; returns whether it was added.
   * `own`: the reader just posted it, so it is brought into view wherever they were.
   * @param {Message} message
   * @param {{own?: boolean}} [options]
   */
  add(message, options = {}) {
    const shown = document.getElementById(`m${message.id}`);
    if (shown !== null) {
      if (options.own) {
        this.markOwn(shown);
        this.#reveal(shown);
      }
      return false;
    }
    const element = this.#elementOf(message, options.own ?? false);
    if (element === undefined) return false;
    const following = this.#atBottom();
    this.#append(element);
    if (options.own) this.#reveal(element);
    else if (following) this.scrollToEnd();
    else this.#countUnseen();
    return true;
  }

  /**
   * Older messages (oldest first), above the first one shown; those on the
   * page already are skipped. The reader stays where they were reading.
   * Returns how many were added.
   * @param {Message[]} older
   */
  prepend(older) {
    const elements = older
      .filter((message) => document.getElementById(`m${message.id}`) === null)
      .map((message) => this.#elementOf(message, false))
      .filter((element) => element !== undefined);
    if (elements.length === 0) return 0;
    this.#keepPlace(() => this.#layout([...elements, ...this.messages()]));
    return elements.length;
  }

  /** @param {string} id */
  remove(id) {
    const element = document.getElementById(`m${id}`);
    if (element === null) return;
    element.remove();
    // Its group may be empty, or have lost the message its byline named: laid out again.
    this.#keepPlace(() => this.#layout(this.messages()));
  }

  /** Days and groups made again, e.g. in this browser's time zone when the server used another. */
  regroup() {
    this.#keepPlace(() => this.#layout(this.messages()));
  }

  /** A post of this browser's: the message marked, and its group said to be yours. @param {HTMLElement} element */
  markOwn(element) {
    this.#shownOf(element).own = true;
    element.classList.add('own');
    markGroupOwn(element.closest('.group'));
  }

  scrollToEnd() {
    this.#inbox.scrollTop = this.#inbox.scrollHeight;
    this.#wasAtBottom = true;
    this.#clearUnseen();
  }

  /**
   * The message's element from the server's escaped fragment, with its time.
   * @param {Message} message
   * @param {boolean} own
   */
  #elementOf(message, own) {
    const element = fragmentOf(message);
    if (element === undefined) return undefined;
    if (element.querySelector(':scope > time') === null) element.append(timeElement(message.createdAt));
    this.#shown.set(element, {
      author: message.author,
      authorId: message.authorId ?? null,
      createdAt: message.createdAt,
      own,
    });
    if (own) element.classList.add('own');
    return element;
  }

  /**
   * What grouping knows of a message element; for one the server rendered,
   * read from its markup: the author from its fragment, the verified id
   * from its group, the instant from its time.
   * @param {HTMLElement} element
   * @returns {Shown}
   */
  #shownOf(element) {
    let shown = this.#shown.get(element);
    if (shown === undefined) {
      const group = /** @type {HTMLElement | null} */ (element.closest('.group'));
      shown = {
        author: element.querySelector(':scope > .author')?.textContent ?? '',
        authorId: group?.dataset.authorId ?? null,
        createdAt: element.querySelector(':scope > time')?.getAttribute('datetime') ?? '',
        // The server marks a signed-in reader's own posts on their group (it groups by author id).
        own: element.classList.contains('own') || group?.classList.contains('own') === true,
      };
      this.#shown.set(element, shown);
    }
    return shown;
  }

  /** @param {Shown} shown */
  #pointOf(shown) {
    const atMs = Date.parse(shown.createdAt);
    return { key: authorKey(shown.author, shown.authorId), atMs, day: dayKey(atMs) };
  }

  /**
   * A message after the last one shown: in the last group when it continues
   * it, else in a new group, under a new day heading when the day changed.
   * @param {HTMLElement} element
   */
  #append(element) {
    const last = this.#lastMessage();
    const previous = last === undefined ? undefined : this.#pointOf(this.#shownOf(last));
    const shown = this.#shownOf(element);
    const point = this.#pointOf(shown);
    const group = last?.closest('.group');
    if (group && continuesGroup(previous, point)) {
      group.append(element);
    } else {
      if (previous?.day !== point.day) this.#list.append(dayHeading(point.day));
      const fresh = groupElement(shown);
      fresh.append(element);
      this.#list.append(fresh);
    }
    if (shown.own) markGroupOwn(element.closest('.group'));
  }

  /**
   * The whole list laid out again from `elements` (in order): the same
   * rules as the server's rendering.
   * @param {HTMLElement[]} elements
   */
  #layout(elements) {
    // What each message is, read from the markup before the list is emptied.
    for (const element of elements) this.#shownOf(element);
    this.#list.replaceChildren();
    for (const element of elements) this.#append(element);
  }

  /** The newest message shown: the list ends in a group, and a group in its newest message. */
  #lastMessage() {
    const last = this.#list.lastElementChild?.lastElementChild;
    if (last instanceof HTMLElement && last.classList.contains('message')) return last;
    return this.messages().at(-1);
  }

  /**
   * Runs `change` and keeps the reader's place: at the bottom, or with the
   * first message they could see where it was on screen.
   * @param {() => void} change
   */
  #keepPlace(change) {
    const inbox = this.#inbox;
    const atBottom = this.#atBottom() && inbox.scrollTop > 0;
    const top = inbox.getBoundingClientRect().top;
    const anchor = this.messages().find((element) => element.getBoundingClientRect().bottom > top);
    const before = anchor?.getBoundingClientRect().top ?? 0;
    change();
    if (atBottom) this.scrollToEnd();
    else if (anchor?.isConnected) inbox.scrollTop += anchor.getBoundingClientRect().top - before;
  }

  /** @param {Element} element */
  #reveal(element) {
    // The newest is at the end: going there shows the reader's post and anything after it.
    if (element === this.#lastMessage()) this.scrollToEnd();
    else element.scrollIntoView({ block: 'nearest' });
  }

  #atBottom() {
    const inbox = this.#inbox;
    return inbox.scrollHeight - inbox.scrollTop - inbox.clientHeight <= AT_BOTTOM_PX;
  }

  #scrolled() {
    // Mid-resize the reader's place is what it was before it: the resize observer restores it.
    if (this.#inbox.clientHeight !== this.#height) return;
    this.#wasAtBottom = this.#atBottom();
    if (this.#unseen > 0 && this.#wasAtBottom) this.#clearUnseen();
  }

  #countUnseen() {
    this.#unseen++;
    this.#jump.textContent = `${this.#unseen} new message${this.#unseen === 1 ? '' : 's'} ↓`;
    this.#jump.hidden = false;
  }

  #clearUnseen() {
    this.#unseen = 0;
    this.#jump.hidden = true;
  }
}

/**
 * The message's element from the server's escaped fragment; undefined for
 * anything that is not exactly one `div.message#m{id}`.
 * @param {Message} message
 * @returns {HTMLElement | undefined}
 */
function fragmentOf(message) {
  const template = document.createElement('template');
  template.innerHTML = message.html;
  const element = template.content.firstElementChild;
  if (!(element instanceof HTMLElement) || element.id !== `m${message.id}` || !element.classList.contains('message')) {
    return undefined;
  }
  return element;
}

/** @param {string} day */
function dayHeading(day) {
  const heading = document.createElement('h2');
  heading.className = 'day';
  const time = document.createElement('time');
  time.dateTime = day;
  time.textContent = dayLabel(day, Date.now());
  heading.append(time);
  return heading;
}

/**
 * A group's opening, as the server writes it: avatar, then the byline.
 * @param {Shown} shown
 */
function groupElement(shown) {
  const group = document.createElement('article');
  group.className = 'group';
  const avatar = document.createElement('span');
  avatar.setAttribute('aria-hidden', 'true');
  const name = document.createElement('span');
  name.className = 'name';
  if (shown.author === '') {
    avatar.className = 'avatar anonymous';
    avatar.append(icon(PERSON_PATH));
    name.classList.add('anonymous');
    name.textContent = 'anonymous';
  } else {
    const verified = shown.authorId !== null ? ' verified' : '';
    avatar.className = `avatar hue-${hueOf(authorKey(shown.author, shown.authorId))}${verified}`;
    avatar.textContent = initialsOf(shown.author);
    const bdi = document.createElement('bdi');
    bdi.textContent = shown.author;
    name.append(bdi);
  }
  const byline = document.createElement('p');
  byline.className = 'byline';
  byline.append(name);
  if (shown.authorId !== null) {
    group.dataset.authorId = shown.authorId;
    const mark = document.createElement('span');
    mark.className = 'verified';
    mark.title = `Verified author (${shown.authorId})`;
    const text = document.createElement('span');
    text.className = 'visually-hidden';
    text.textContent = 'verified';
    mark.append(icon(CHECK_PATH), text);
    byline.append(mark);
  }
  const time = timeElement(shown.createdAt);
  time.classList.add('group-time');
  byline.append(time);
  group.append(avatar, byline);
  return group;
}

/** A group of the reader's own posts says so once, before its time. @param {Element | null} group */
function markGroupOwn(group) {
  if (group === null || group.classList.contains('own')) return;
  group.classList.add('own');
  const you = document.createElement('span');
  you.className = 'you';
  you.textContent = 'you';
  group.querySelector('.byline time')?.before(you);
}

/** @param {string} path */
function icon(path) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const shape = document.createElementNS(SVG, 'path');
  shape.setAttribute('d', path);
  svg.append(shape);
  return svg;
}
