import type { Message } from '../message.js';
import { escapeHtml } from './message-html.js';
import { PageClock } from './page-clock.js';
import { renderShell } from './page-shell.js';
import { renderTimeline } from './timeline-html.js';
import { wallPagePath } from './wall-path.js';

/** What a page of a wall shows: its newest messages, or a page of its history. */
export interface WallView {
  /** Oldest first. */
  messages: readonly Message[];
  /** Where the page goes live from: it holds every message of the wall up to this cursor. */
  cursor: string;
  /** Older messages exist before this cursor (the oldest shown): the "Older messages" link asks for them. */
  olderBefore?: string;
  /** A page of the history: newer messages exist after this cursor (the newest shown). */
  newerAfter?: string;
  /** Said above the messages, e.g. that the point asked for is no longer in the history. */
  notice?: string;
}

export interface WallPageOptions {
  /** Longest body, in code points as the server counts them; the page counts the same way. */
  maxBodyChars: number;
  /** The no-JS form's idempotency key: posting twice from one rendering of the page stores the message once. */
  postKey: string;
  /** Posting needs the publish token, which a browser form cannot send: the page says so instead of a form. */
  postingNeedsToken: boolean;
  /** The reader's IANA time zone (the page's cookie), for days and clock times; UTC, said as such, without it. */
  timeZone?: string;
  /** Now, for "Today" and "Yesterday"; default: the clock. */
  nowMs?: number;
  /** `GET /api/walls` is served, so the page's list of walls may ask it (issue 18, point 3). Default false. */
  wallListServed?: boolean;
  /**
   * Who reads, when a token says so (issue 16; the lead fills it from the
   * verified token). The name box becomes "Posting as {name}"; without
   * `canPost`, the form is replaced by `cannotPost` (or a default sentence)
   * saying why. `id`, the token's `sub`, marks the reader's own messages.
   * It also makes the page ask the stream for who is here (`presence=members`).
   */
  viewer?: { name: string; canPost: boolean; id?: string; cannotPost?: string };
  /** Posting needs a token's post grant (WALLCAST_JWT_*), not (only) the publish token: the notice says so. */
  postingNeedsGrant?: boolean;
}

/**
 * The page's own modules, preloaded so the browser fetches them at once
 * instead of one import after another.
 */
const MODULES = [
  'wallcast-client.js',
  'shared-stream.js',
  'timeline.js',
  'authors.js',
  'relative-time.js',
  'compose.js',
  'unread.js',
  'announcer.js',
  'older-messages.js',
  'wall-switcher.js',
  'presence.js',
  'own-posts.js',
];

/**
 * The page of one wall: its messages grouped by day and author (each the
 * server's fragment, with its time), the cursor to go live from, the way to
 * older messages, and the form that posts without JavaScript.
 */
export function renderWallPage(wall: string, view: WallView, options: WallPageOptions): string {
  const clock = new PageClock(options.timeZone, options.nowMs ?? Date.now());
  const name = escapeHtml(wall);
  const canPost = !options.postingNeedsToken && (options.viewer?.canPost ?? true);
  const presence = options.viewer === undefined ? 'count' : 'members';
  const main = `<main id="inbox" class="inbox" data-wall="${name}" data-cursor="${escapeHtml(view.cursor)}" data-time-zone="${escapeHtml(clock.timeZone)}" data-presence="${presence}" tabindex="-1" aria-labelledby="inbox-heading">
<h2 id="inbox-heading" class="visually-hidden">Messages in #${name}</h2>
${olderEdge(wall, view)}
<div id="timeline" class="timeline">
${renderTimeline(view.messages, clock, options.viewer?.id)}
</div>
<p class="empty-state">No messages yet. ${canPost ? 'Write the first one below.' : 'New ones will appear here.'}</p>
${newerEdge(wall, view)}
<div id="announcer" class="visually-hidden" aria-live="polite" aria-atomic="true"></div>
</main>`;
  const after = `<div class="jump"><button type="button" id="new-messages" hidden>New messages</button></div>
${canPost ? composeForm(wall, options) : postingClosed(wall, options)}`;
  return renderShell({
    title: `#${wall} · wallcast`,
    wall,
    script: 'wall.js',
    modules: MODULES,
    barEnd: `<div id="presence" class="presence" hidden></div>
<p id="status" class="status" role="status" data-state="offline" title="Reload the page to see new messages.">Not live</p>`,
    skipTo: canPost
      ? { href: '#compose-body', text: 'Skip to the message box' }
      : { href: '#inbox', text: 'Skip to the messages' },
    content: `${main}\n${after}`,
    wallListServed: options.wallListServed,
    bodyClass: 'wall-page',
  });
}

/** The top of the messages: the way to older ones, or where the history begins. */
function olderEdge(wall: string, view: WallView): string {
  const notice = view.notice === undefined ? '' : `<p class="history-notice">${escapeHtml(view.notice)}</p>\n`;
  if (view.olderBefore !== undefined) {
    const href = `${wallPagePath(wall)}?before=${encodeURIComponent(view.olderBefore)}`;
    return `${notice}<p class="history-edge"><a class="older" href="${escapeHtml(href)}" data-before="${escapeHtml(view.olderBefore)}">Older messages</a></p>`;
  }
  if (view.messages.length === 0) return notice;
  return `${notice}<p class="history-edge start">This is the beginning of #${escapeHtml(wall)}.</p>`;
}

/** A page of the history ends with the way forward (the script hides it once it has brought the newer ones). */
function newerEdge(wall: string, view: WallView): string {
  if (view.newerAfter === undefined) return '';
  const page = wallPagePath(wall);
  const newer = `${page}?after=${encodeURIComponent(view.newerAfter)}`;
  return `<p class="history-edge newer"><a href="${escapeHtml(newer)}">Newer messages</a><a href="${escapeHtml(page)}">Jump to the newest</a></p>`;
}

/**
 * The form that posts without JavaScript (303 back to `next`, at the new
 * message). No `maxlength` on the body: it counts UTF-16 units, and would
 * refuse 1001 emoji that the server (counting code points) accepts. The
 * notes and errors sit above the box, in the form's own room: they push the
 * messages up, never cover them.
 */
function composeForm(wall: string, options: WallPageOptions): string {
  const name = escapeHtml(wall);
  const identity =
    options.viewer === undefined
      ? `<label class="identity" for="compose-author"><span>Name</span><input id="compose-author" name="author" dir="auto" placeholder="anonymous" autocomplete="nickname" enterkeyhint="next"></label>`
      : `<p class="identity posting-as">Posting as <b><bdi>${escapeHtml(options.viewer.name)}</bdi></b></p>`;
  return `<form id="compose" method="post" action="/api/walls/${name}/messages" class="compose" data-max-body-chars="${options.maxBodyChars}" aria-labelledby="compose-label">
<input type="hidden" name="next" value="${escapeHtml(wallPagePath(wall))}">
<input type="hidden" name="idempotency_key" value="${escapeHtml(options.postKey)}">
<p id="compose-note" class="note" aria-live="polite" hidden></p>
<p id="compose-error" class="error" role="alert" hidden></p>
<div class="compose-head"><label id="compose-label" for="compose-body">Message #${name}</label>${identity}</div>
<div class="compose-box">
<textarea id="compose-body" name="body" required dir="auto" rows="1" placeholder="Write a message" aria-describedby="compose-hint counter"></textarea>
<output id="counter" for="compose-body" hidden></output>
<button type="submit" class="send"><svg class="icon" viewBox="0 0 20 20" aria-hidden="true" focusable="false"><path d="M2.5 3.2 18 10 2.5 16.8 4.6 10.9 12 10 4.6 9.1z"/></svg><span class="send-label">Send</span></button>
</div>
<p id="compose-hint" class="compose-hint" hidden>Enter to send · Shift+Enter for a new line</p>
</form>`;
}

/** Instead of a form that would fail: why this page cannot post. */
function postingClosed(wall: string, options: WallPageOptions): string {
  const why = options.postingNeedsToken
    ? options.postingNeedsGrant
      ? 'Posting on this wall needs a token that may post to it, which this site gives its signed-in people; this page only shows messages.'
      : 'Posting on this wall needs a publish token, so this page only shows messages. Programs that have the token post through the API.'
    : (options.viewer?.cannotPost ??
      `You are signed in as ${options.viewer?.name ?? 'someone'}, but your token cannot post to #${wall}: you can read it.`);
  return `<section class="compose-closed" aria-label="Posting"><p id="compose-closed">${escapeHtml(why)}</p></section>`;
}
