// @ts-check
/**
 * Unread messages of a tab the reader is not looking at (issue 18, point
 * 4): the title counts them, `(3) #team · wallcast`, and the favicon shows
 * a dot, so a tab in the background or a window behind others says that
 * something came. Both clear when the reader looks: the tab shown again,
 * or its window focused.
 *
 * "Not looking" is a hidden tab, or a window without focus (what Slack and
 * Discord count too): the reader may watch a visible window while typing
 * in another, but a message that came meanwhile is still news to them.
 */

const UNREAD_ICON = '/static/favicon-unread.svg';

export class Unread {
  #count = 0;
  #title;
  /** @type {HTMLLinkElement | null} */
  #icon;
  #iconHref;

  constructor() {
    this.#title = document.title;
    this.#icon = document.querySelector('link[rel="icon"]');
    this.#iconHref = this.#icon?.getAttribute('href') ?? '';
    const looked = () => {
      if (document.visibilityState === 'visible') this.clear();
    };
    document.addEventListener('visibilitychange', looked);
    window.addEventListener('focus', looked);
  }

  /** Whether the reader is looking at this tab now. */
  looking() {
    return document.visibilityState === 'visible' && document.hasFocus();
  }

  /** A message from someone else arrived: counted unless the reader is looking. */
  arrived() {
    if (this.looking()) return;
    this.#count++;
    this.#show();
  }

  clear() {
    if (this.#count === 0) return;
    this.#count = 0;
    this.#show();
  }

  #show() {
    document.title = this.#count === 0 ? this.#title : `(${this.#count}) ${this.#title}`;
    this.#icon?.setAttribute('href', this.#count === 0 ? this.#iconHref : UNREAD_ICON);
  }
}
