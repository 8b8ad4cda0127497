// @ts-check
/**
 * The live wall. The server rendered the newest messages, grouped, and the
 * cursor after them; from there this page goes live on the stream it
 * shares with every other tab of this site (shared-stream.js), merges each
 * message by id into its day and group (timeline.js), posts through the
 * wallcast client (compose.js), and tells a reader who is not looking what
 * came (unread.js), a screen reader once per burst (announcer.js), and
 * everyone how many are here (presence.js).
 */
import { Announcer } from './announcer.js';
import { setUpCompose } from './compose.js';
import { setUpOlderMessages } from './older-messages.js';
import { ownPosts, rememberOwnPost } from './own-posts.js';
import { PresenceBadge } from './presence.js';
import { keepTimesFresh, TIME_ZONE } from './relative-time.js';
import { joinSharedStream } from './shared-stream.js';
import { Timeline } from './timeline.js';
import { Unread } from './unread.js';
import { setUpWallSwitcher } from './wall-switcher.js';
import { WallcastClient } from './wallcast-client.js';

/** @typedef {import('./shared-stream.js').TabState} TabState */

const inbox = /** @type {HTMLElement} */ (document.getElementById('inbox'));
const list = /** @type {HTMLElement} */ (document.getElementById('timeline'));
const status = /** @type {HTMLElement} */ (document.getElementById('status'));
const jump = /** @type {HTMLButtonElement} */ (document.getElementById('new-messages'));
const form = /** @type {HTMLFormElement | null} */ (document.getElementById('compose'));
const wall = inbox.dataset.wall ?? 'main';

/** The bar's words for the connection: short; the `title` says more. @type {Record<TabState, [string, string]>} */
const STATE_TEXT = {
  connecting: ['Connecting…', 'Connecting to the live stream.'],
  live: ['Live', 'New messages appear as they are posted.'],
  reconnecting: ['Reconnecting…', 'The connection dropped: what was missed follows when it is back.'],
  offline: ['Offline', 'New messages will appear when the connection is back.'],
};

/** @type {Record<string, string>} */
const ROLE_TEXT = {
  leader: 'This tab holds the live connection for every tab of this site.',
  follower: 'Live through the connection another tab of this site holds.',
  alone: 'This tab holds its own live connection.',
};

// The next page is rendered in this browser's time zone (days, clock times).
// biome-ignore lint/suspicious/noDocumentCookie: one plain cookie; the Cookie Store API is not in every browser.
document.cookie = `wallcast_tz=${encodeURIComponent(TIME_ZONE)}; path=/; max-age=31536000; samesite=lax`;

const client = new WallcastClient();
const timeline = new Timeline(inbox, list, jump);
// This page was rendered in another zone (the first visit): its days are made again in this one.
if (inbox.dataset.timeZone !== TIME_ZONE) timeline.regroup();
const own = ownPosts();
for (const element of timeline.messages()) if (own.has(element.id.slice(1))) timeline.markOwn(element);
timeline.open();
keepTimesFresh(inbox);
setUpWallSwitcher();

const unread = new Unread();
const announcer = new Announcer(/** @type {HTMLElement} */ (document.getElementById('announcer')));
const presence = new PresenceBadge(/** @type {HTMLElement} */ (document.getElementById('presence')));

setUpOlderMessages({ inbox, wall, prepend: (messages) => timeline.prepend(messages) });

const stream = joinSharedStream({
  client,
  wall,
  cursor: inbox.dataset.cursor ?? '',
  presence: inbox.dataset.presence === 'members' ? 'members' : 'count',
  onEvent: (event) => {
    if (event.kind === 'message') {
      const mine = own.has(event.message.id);
      if (timeline.add(event.message, { own: mine }) && !mine) {
        unread.arrived();
        announcer.arrived(event.message);
      }
    } else if (event.kind === 'delete') timeline.remove(event.id);
    // A reset: the newest messages follow, and merge by id with what is shown.
  },
  onState: (state) => {
    status.dataset.state = state;
    const [text, title] = STATE_TEXT[state];
    status.textContent = text;
    status.title = [title, ROLE_TEXT[status.dataset.role ?? '']].filter(Boolean).join(' ');
    // A page of the history is complete up to now once live: its "Newer messages" link has done its part.
    if (state === 'live') inbox.querySelector('.history-edge.newer')?.remove();
  },
  onRole: (role) => {
    status.dataset.role = role;
  },
  onPresence: (event) => presence.show(event),
});
// Another tab takes the stream over when this one goes, or is frozen by the browser (a frozen
// tab runs no script: it could not pass events on); back from the cache or thawed, it joins again.
window.addEventListener('pagehide', () => stream.close());
document.addEventListener('freeze', () => stream.close());
window.addEventListener('pageshow', (event) => {
  if (event.persisted) stream.rejoin();
});
document.addEventListener('resume', () => stream.rejoin());

if (form !== null) {
  setUpCompose({
    form,
    client,
    wall,
    onPosted: (message) => {
      own.add(message.id);
      rememberOwnPost(message.id);
      announcer.forget(message.id);
      timeline.add(message, { own: true });
    },
  });
}
