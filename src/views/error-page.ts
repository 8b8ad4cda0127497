import type { ApiError } from '../errors.js';
import { escapeHtml } from './message-html.js';
import { wallPageOf } from './wall-path.js';

/**
 * Where the error page's link goes when the path it came from is not known:
 * pages.ts sends it on to the wall of the page the error was shown at (its
 * Referer: a no-JS post that failed shows its error at the wall's API path).
 */
export const BACK_TO_THE_WALL = '/back';

/**
 * The small HTML page a browser gets for an error: same status, same
 * message, and a way back to the wall it came from. `requestPath`, when
 * given, names that wall directly.
 */
export function renderErrorPage(error: ApiError, requestPath?: string): string {
  const back = requestPath === undefined ? BACK_TO_THE_WALL : wallPageOf(requestPath);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${error.status} · wallcast</title><link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/wall.css"></head>
<body><main class="error"><h1>${error.status}</h1><p data-code="${escapeHtml(error.code)}">${escapeHtml(error.message)}</p>
<p><a id="back" href="${escapeHtml(back)}">Back to the wall</a></p></main></body></html>
`;
}
