// @ts-check
/**
 * What a screen reader hears of new messages: one polite announcement, not
 * one per message. Messages that arrive together (a burst, a catch-up after
 * a reconnect) are said once, after a short pause, as a count; one message
 * alone is said with its author and the start of its text. The reader's own
 * posts and older messages loaded at the top are not announced.
 */

/** Messages arriving within this time of each other are said together. */
const GATHER_MS = 1500;
/** Of one message, at most this much of its text is said. */
const SAID_CHARS = 140;

export class Announcer {
  #region;
  /** @type {{id: string, author: string, body: string}[]} */
  #pending = [];
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #timer;

  /** @param {HTMLElement} region a `aria-live="polite"` element, visually hidden */
  constructor(region) {
    this.#region = region;
  }

  /** @param {{id: string, author: string, body: string}} message */
  arrived(message) {
    this.#pending.push(message);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#say(), GATHER_MS);
  }

  /**
   * Not to be said after all: the reader's own post, which the stream
   * brought before the post's answer said it was theirs.
   * @param {string} id
   */
  forget(id) {
    this.#pending = this.#pending.filter((message) => message.id !== id);
  }

  #say() {
    const pending = this.#pending;
    this.#pending = [];
    const last = pending.at(-1);
    if (last === undefined) return;
    const who = last.author === '' ? 'anonymous' : last.author;
    if (pending.length === 1) {
      const body = last.body.length > SAID_CHARS ? `${last.body.slice(0, SAID_CHARS)}…` : last.body;
      this.#region.textContent = `${who}: ${body}`;
    } else {
      this.#region.textContent = `${pending.length} new messages, the last from ${who}.`;
    }
  }
}
