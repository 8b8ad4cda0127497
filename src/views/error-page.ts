import type { ApiError } from '../errors.js';
import { escapeHtml } from '../message.js';

/** The small HTML page a browser gets for an error: same status, same message. */
export function renderErrorPage(error: ApiError): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${error.status} · wallcast</title><link rel="stylesheet" href="/static/wall.css"></head>
<body><main class="error"><h1>${error.status}</h1><p data-code="${escapeHtml(error.code)}">${escapeHtml(error.message)}</p>
<p><a href="/">Back to the wall</a></p></main></body></html>
`;
}
