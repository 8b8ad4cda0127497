// @ts-check
/**
 * "N here" in the bar (issue 17): how many people have this wall open, live,
 * from the shared stream's `presence` events; on a wall read with a token,
 * who they are, on hover (`title`) or on a tap (a disclosure). Not a live
 * region: a number that moves is not worth interrupting a screen reader for.
 */

/**
 * A presence event's data, as the stream sends it.
 * @typedef {object} Presence
 * @property {string} wall
 * @property {number} online people, not connections
 * @property {{id: string, name: string}[]} [members] the first 100, with `presence=members`
 * @property {number} [more] members not listed
 */

/** Names in the hover text; the tap list shows every member the event carries. */
const TITLE_NAMES = 20;

export class PresenceBadge {
  #element;

  /** @param {HTMLElement} element the bar's `#presence` */
  constructor(element) {
    this.#element = element;
  }

  /** @param {Presence} presence */
  show(presence) {
    if (typeof presence.online !== 'number' || !Number.isFinite(presence.online)) return;
    const count = `${presence.online} here`;
    const members = Array.isArray(presence.members) ? presence.members : [];
    const more = typeof presence.more === 'number' ? presence.more : 0;
    const element = this.#element;
    element.dataset.online = String(presence.online);
    element.hidden = false;
    if (members.length === 0) {
      element.replaceChildren(text('span', 'presence-count', count));
      element.removeAttribute('title');
      return;
    }
    const names = members.map((member) => member.name || member.id);
    const rest = names.length > TITLE_NAMES ? names.length - TITLE_NAMES + more : more;
    element.title = `${names.slice(0, TITLE_NAMES).join(', ')}${rest > 0 ? ` and ${rest} more` : ''}`;
    const details = element.querySelector('details') ?? document.createElement('details');
    const open = details.open;
    const summary = text('summary', 'presence-count', count);
    const list = document.createElement('ul');
    list.className = 'presence-list';
    for (const name of names) {
      const item = document.createElement('li');
      const bdi = document.createElement('bdi');
      bdi.textContent = name;
      item.append(bdi);
      list.append(item);
    }
    if (more > 0) list.append(text('li', 'presence-more', `and ${more} more`));
    details.replaceChildren(summary, list);
    details.open = open;
    element.replaceChildren(details);
  }
}

/**
 * @param {string} tag
 * @param {string} className
 * @param {string} content
 */
function text(tag, className, content) {
  const element = document.createElement(tag);
  element.className = className;
  element.textContent = content;
  return element;
}
