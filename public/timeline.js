// @ts-check
/**
 * The wall's messages on screen, in the scrolling inbox: each message once
 * (merged by id), its time, and where the reader is. The page opens at the
 * newest message; it follows new ones while the reader is at the bottom,
 * and counts them on a "N new messages" button when they scrolled up to
 * read. The reader's own post is always brought into view.
 *
 * User text reaches the DOM only as the server's escaped fragment.
 */
import { timeElement } from './relative-time.js';

/** @typedef {import('./wallcast-client.js').Message} Message */

/**
 * Still "at the bottom" this close to it: a fraction of a line, so a
 * reader who is (almost) at the end keeps following.
 */
const AT_BOTTOM_PX = 48;

export class Timeline {
  #inbox;
  #jump;
  #unseen = 0;

  /**
   * @param {HTMLElement} inbox the scrolling list of `.message` elements
   * @param {HTMLButtonElement} jump the "N new messages" button
   */
  constructor(inbox, jump) {
    this.#inbox = inbox;
    this.#jump = jump;
    inbox.addEventListener('scroll', () => this.#scrolled(), { passive: true });
    jump.addEventListener('click', () => this.scrollToEnd());
  }

  /**
   * Where the page opens: at the message the address names (`#m{id}`,
   * where a no-JS post lands), else at the newest.
   */
  open() {
    const target = location.hash.startsWith('#m') ? document.getElementById(location.hash.slice(1)) : null;
    if (target?.classList.contains('message')) target.scrollIntoView({ block: 'nearest' });
    else this.scrollToEnd();
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
      if (options.own) this.#reveal(shown);
      return false;
    }
    const element = fragmentOf(message);
    if (element === undefined) return false;
    if (element.querySelector('time') === null) element.append(timeElement(message.createdAt));
    const following = this.#atBottom();
    this.#inbox.append(element);
    if (options.own) this.#reveal(element);
    else if (following) this.scrollToEnd();
    else this.#countUnseen();
    return true;
  }

  /** @param {string} id */
  remove(id) {
    document.getElementById(`m${id}`)?.remove();
  }

  scrollToEnd() {
    this.#inbox.scrollTop = this.#inbox.scrollHeight;
    this.#clearUnseen();
  }

  /** @param {Element} element */
  #reveal(element) {
    // The newest is at the end: going there shows the reader's post and anything after it.
    if (element === this.#inbox.lastElementChild) this.scrollToEnd();
    else element.scrollIntoView({ block: 'nearest' });
  }

  #atBottom() {
    const inbox = this.#inbox;
    return inbox.scrollHeight - inbox.scrollTop - inbox.clientHeight <= AT_BOTTOM_PX;
  }

  #scrolled() {
    if (this.#unseen > 0 && this.#atBottom()) this.#clearUnseen();
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
