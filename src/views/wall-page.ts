import type { Message } from '../message.js';
import { messagesOf, type ReadResult, resumeCursor } from '../store/store.js';
import { escapeHtml } from './message-html.js';
import { wallPagePath } from './wall-path.js';

export interface WallPageOptions {
  /** Longest body, in code points as the server counts them; the page counts the same way. */
  maxBodyChars: number;
  /** The no-JS form's idempotency key: posting twice from one rendering of the page stores the message once. */
  postKey: string;
  /** Posting needs the publish token, which a browser form cannot send: the page says so instead of a form. */
  postingNeedsToken: boolean;
}

/**
 * The page's own modules, preloaded so the browser fetches them at once
 * instead of one import after another.
 */
const MODULES = ['wallcast-client.js', 'shared-stream.js', 'timeline.js', 'relative-time.js', 'compose.js'];

/**
 * The page of one wall: its newest messages (each the server's fragment,
 * with its time), the cursor to go live from, and the no-JS form.
 */
export function renderWallPage(wall: string, recent: ReadResult, options: WallPageOptions): string {
  const messages = messagesOf(recent.events).map(withTime);
  const cursor = resumeCursor(recent);
  const name = escapeHtml(wall);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, interactive-widget=resizes-content">
<title>#${name} · wallcast</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/wall.css">
<script type="module" src="/static/wall.js"></script>
${MODULES.map((module) => `<link rel="modulepreload" href="/static/${module}">`).join('\n')}
</head>
<body class="wall-page">
<header>
<h1>wallcast <span class="wall">#${name}</span></h1>
<p id="status" role="status" data-state="offline">Not live: reload to see new messages.</p>
</header>
<main id="inbox" data-wall="${name}" data-cursor="${escapeHtml(cursor)}" aria-live="polite">
<p class="empty-state">No messages yet. ${options.postingNeedsToken ? 'New ones will appear here.' : 'Write the first one below.'}</p>
${messages.join('\n')}
</main>
<div class="jump"><button type="button" id="new-messages" hidden>New messages</button></div>
${options.postingNeedsToken ? tokenNotice() : composeForm(wall, options)}
</body>
</html>
`;
}

/**
 * The form that posts without JavaScript (303 back to `next`, at the new
 * message). No `maxlength` on the body: it counts UTF-16 units, and would
 * refuse 1001 emoji that the server (counting code points) accepts.
 */
function composeForm(wall: string, options: WallPageOptions): string {
  const name = escapeHtml(wall);
  return `<form id="compose" method="post" action="/api/walls/${name}/messages" data-max-body-chars="${options.maxBodyChars}">
<input type="hidden" name="next" value="${escapeHtml(wallPagePath(wall))}">
<input type="hidden" name="idempotency_key" value="${escapeHtml(options.postKey)}">
<input name="author" dir="auto" placeholder="Your name (optional)" autocomplete="nickname" aria-label="Your name">
<textarea id="compose-body" name="body" required dir="auto" rows="2" placeholder="Write a message" aria-label="Message" aria-describedby="counter"></textarea>
<button type="submit">Post</button>
<output id="counter" for="compose-body" hidden></output>
<p id="compose-note" class="note" aria-live="polite" hidden></p>
<p id="compose-error" class="error" role="alert" hidden></p>
</form>`;
}

function tokenNotice(): string {
  return `<p id="compose-closed" class="compose-closed">Posting on this wall needs a publish token, so this page only shows messages. Programs that have the token post through the API.</p>`;
}

/**
 * The message's fragment with its time, inside the fragment's root so it
 * goes wherever the message goes: exact (UTC) for a page without
 * JavaScript; the page's script makes it relative ("2 minutes ago").
 */
function withTime(message: Message): string {
  const close = '</div>';
  if (!message.html.endsWith(close)) return message.html;
  const exact = `${message.createdAt.slice(0, 10)} ${message.createdAt.slice(11, 16)} UTC`;
  const time = `<time datetime="${escapeHtml(message.createdAt)}" title="${escapeHtml(exact)}">${escapeHtml(exact)}</time>`;
  return `${message.html.slice(0, -close.length)}${time}${close}`;
}
