/**
 * The messages of a server-rendered page as people read a channel: a
 * heading per day, and each author's consecutive messages in one group
 * under one avatar and name. Every message is the server's stored fragment,
 * as it is, with its `<time>` inside (so the time goes wherever the message
 * goes); the page's script groups live messages the same way
 * (public/timeline.js, with public/authors.js).
 */
import type { Message } from '../message.js';
import { authorKey, continuesGroup, type GroupPoint, hueOf, initialsOf } from './authors.js';
import { escapeHtml } from './message-html.js';
import type { PageClock } from './page-clock.js';

/** The verified mark: a check in a circle (the accessible name is the text beside it). */
const CHECK_ICON =
  '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false"><path d="M8 1a7 7 0 1 1 0 14A7 7 0 0 1 8 1zm3.2 4.4L7 9.6 4.8 7.4 3.7 8.5 7 11.8l5.3-5.3z"/></svg>';

/** A person outline, for anonymous posts: no initials to show, and no colour of their own. */
const ANONYMOUS_ICON =
  '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false"><path d="M8 8a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm-5 6c0-2.8 2.2-4.5 5-4.5s5 1.7 5 4.5z"/></svg>';

/**
 * The day headings and groups of `messages` (oldest first). `ownAuthorId`:
 * the reader's verified id (issue 16), whose groups are marked as theirs;
 * the page's script marks the posts this browser sent.
 */
export function renderTimeline(messages: readonly Message[], clock: PageClock, ownAuthorId?: string): string {
  const parts: string[] = [];
  let previous: GroupPoint | undefined;
  let inGroup = false;
  for (const message of messages) {
    const point: GroupPoint = {
      key: authorKey(message.author, message.authorId),
      atMs: Date.parse(message.createdAt),
      day: clock.dayOf(message.createdAt),
    };
    if (!continuesGroup(previous, point)) {
      if (inGroup) parts.push('</article>');
      if (previous?.day !== point.day) parts.push(dayHeading(point.day, message.createdAt, clock));
      const own = ownAuthorId !== undefined && message.authorId === ownAuthorId;
      parts.push(groupHead(message, clock, own));
      inGroup = true;
    }
    parts.push(withTime(message, clock));
    previous = point;
  }
  if (inGroup) parts.push('</article>');
  return parts.join('\n');
}

function dayHeading(day: string, instant: string, clock: PageClock): string {
  return `<h2 class="day"><time datetime="${escapeHtml(day)}">${escapeHtml(clock.dayLabel(day, instant))}</time></h2>`;
}

/**
 * A group's opening: the avatar (initials on the author's colour, decorative:
 * the name beside it says who), and the byline. The fragment's own author
 * is hidden inside a group (wall.css): the byline says it once.
 */
function groupHead(message: Message, clock: PageClock, own: boolean): string {
  const authorId = message.authorId;
  const anonymous = message.author === '';
  const verified = authorId !== null;
  const classes = ['group', own ? 'own' : ''].filter(Boolean).join(' ');
  const idAttribute = verified ? ` data-author-id="${escapeHtml(authorId)}"` : '';
  const avatar = anonymous
    ? `<span class="avatar anonymous" aria-hidden="true">${ANONYMOUS_ICON}</span>`
    : `<span class="avatar hue-${hueOf(authorKey(message.author, authorId))}${verified ? ' verified' : ''}" aria-hidden="true">${escapeHtml(initialsOf(message.author))}</span>`;
  const name = anonymous
    ? '<span class="name anonymous">anonymous</span>'
    : `<span class="name"><bdi>${escapeHtml(message.author)}</bdi></span>`;
  const mark = verified
    ? `<span class="verified" title="Verified author (${escapeHtml(authorId)})">${CHECK_ICON}<span class="visually-hidden">verified</span></span>`
    : '';
  const you = own ? '<span class="you">you</span>' : '';
  const time = `<time class="group-time" datetime="${escapeHtml(message.createdAt)}" title="${escapeHtml(clock.exact(message.createdAt))}">${escapeHtml(clock.clockTime(message.createdAt))}</time>`;
  return `<article class="${classes}"${idAttribute}>${avatar}<p class="byline">${name}${mark}${you}${time}</p>`;
}

/**
 * The message's fragment with its time inside its root: the exact minute
 * as the `title`, the clock time as the text (the script makes it relative).
 */
function withTime(message: Message, clock: PageClock): string {
  const close = '</div>';
  if (!message.html.endsWith(close)) return message.html;
  const time = `<time datetime="${escapeHtml(message.createdAt)}" title="${escapeHtml(clock.exact(message.createdAt))}">${escapeHtml(clock.clockTime(message.createdAt))}</time>`;
  return `${message.html.slice(0, -close.length)}${time}${close}`;
}
