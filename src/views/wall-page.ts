import { escapeHtml } from '../message.js';
import { messagesOf, type ReadResult, resumeCursor } from '../store/store.js';
import { DEFAULT_WALL } from '../wall.js';

/**
 * The page of one wall: its newest messages, the cursor to go live from, and
 * the no-JS form. `postKey` is the form's idempotency key: posting twice from
 * one rendering of the page stores the message once.
 */
export function renderWallPage(wall: string, recent: ReadResult, maxBodyChars: number, postKey: string): string {
  const messages = messagesOf(recent.events).map((message) => message.html);
  const cursor = resumeCursor(recent);
  const path = wall === DEFAULT_WALL ? '/' : `/w/${wall}`;
  const name = escapeHtml(wall);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>#${name} · wallcast</title>
<link rel="stylesheet" href="/static/wall.css">
<script type="module" src="/static/wall.js"></script>
</head>
<body>
<header>
<h1>wallcast <span class="wall">#${name}</span></h1>
<p id="status" role="status" data-state="offline">Not live: reload to see new messages.</p>
</header>
<main id="inbox" data-wall="${name}" data-cursor="${escapeHtml(cursor)}" aria-live="polite">
${messages.join('\n')}
</main>
<form id="compose" method="post" action="/api/walls/${name}/messages">
<input type="hidden" name="next" value="${escapeHtml(path)}">
<input type="hidden" name="idempotency_key" value="${escapeHtml(postKey)}">
<input name="author" maxlength="64" placeholder="Your name (optional)" autocomplete="nickname" aria-label="Your name">
<textarea name="body" required maxlength="${maxBodyChars}" rows="2" placeholder="Write a message" aria-label="Message"></textarea>
<button type="submit">Post</button>
<p id="compose-error" class="error" role="alert" hidden></p>
</form>
</body>
</html>
`;
}
