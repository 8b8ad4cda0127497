// @ts-check
/**
 * The live wall. The server rendered the newest messages and the cursor
 * after them; from there this page goes live on the stream it shares with
 * every other tab of this site (shared-stream.js), merges each message by
 * id (timeline.js), and posts through the wallcast client (compose.js).
 */
import { setUpCompose } from './compose.js';
import { keepTimesFresh } from './relative-time.js';
import { joinSharedStream } from './shared-stream.js';
import { Timeline } from './timeline.js';
import { WallcastClient } from './wallcast-client.js';

/** @typedef {import('./shared-stream.js').TabState} TabState */

const inbox = /** @type {HTMLElement} */ (document.getElementById('inbox'));
const status = /** @type {HTMLElement} */ (document.getElementById('status'));
const jump = /** @type {HTMLButtonElement} */ (document.getElementById('new-messages'));
const form = /** @type {HTMLFormElement | null} */ (document.getElementById('compose'));

/** @type {Record<TabState, string>} */
const STATE_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline: new messages will appear when the connection is back.',
};

/** @type {Record<string, string>} */
const ROLE_TEXT = {
  leader: 'This tab holds the live connection for every tab of this site.',
  follower: 'Live through the connection another tab of this site holds.',
  alone: 'This tab holds its own live connection.',
};

const client = new WallcastClient();
const timeline = new Timeline(inbox, jump);
timeline.open();
keepTimesFresh(inbox);

const stream = joinSharedStream({
  client,
  wall: inbox.dataset.wall ?? 'main',
  cursor: inbox.dataset.cursor ?? '',
  onEvent: (event) => {
    if (event.kind === 'message') timeline.add(event.message);
    else if (event.kind === 'delete') timeline.remove(event.id);
    // A reset: the newest messages follow, and merge by id with what is shown.
  },
  onState: (state) => {
    status.dataset.state = state;
    status.textContent = STATE_TEXT[state];
  },
  onRole: (role) => {
    status.dataset.role = role;
    status.title = ROLE_TEXT[role] ?? '';
  },
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
    wall: inbox.dataset.wall ?? 'main',
    onPosted: (message) => timeline.add(message, { own: true }),
  });
}
