import type { ApiError } from '../errors.js';
import { escapeHtml } from './message-html.js';
import { renderShell } from './page-shell.js';
import { wallInPath, wallMeant, wallPageOf, wallPagePath } from './wall-path.js';

/**
 * Where the error page's link goes when the path it came from is not known:
 * pages.ts sends it on to the wall of the page the error was shown at (its
 * Referer: a no-JS post that failed shows its error at the wall's API path).
 */
export const BACK_TO_THE_WALL = '/back';

/** A heading a person reads before the server's sentence. */
const HEADINGS: Record<number, string> = {
  400: 'That did not work',
  401: 'This needs a token',
  403: 'Not allowed',
  404: 'Nothing here',
  413: 'Too long',
  429: 'Slow down a little',
  503: 'Not available right now',
};

/**
 * The HTML page a browser gets for an error, in the wall's look: same
 * status, the server's sentence, and the way on: the wall the person meant
 * (`/w/Team`, `/w/team/` → `#team`, issue 18 point 6), the wall the request
 * came from, and for a 503 the same page again. `requestPath`, when given,
 * names that wall directly.
 */
export function renderErrorPage(error: ApiError, requestPath?: string): string {
  // A refusal of a wall's own page (a private wall) leads back to the default wall, not to the refused page.
  const refused = error.status === 401 || error.status === 403;
  const back =
    requestPath === undefined ? BACK_TO_THE_WALL : refused && isPage(requestPath) ? '/' : wallPageOf(requestPath);
  const meant = requestPath === undefined ? undefined : wallMeant(requestPath);
  const wall = requestPath === undefined ? undefined : wallInPath(requestPath);
  const heading =
    error.code === 'invalid_wall' ? 'That is not a wall name' : (HEADINGS[error.status] ?? 'Something went wrong');
  // A private wall refused to a reader without a token (issue 16): how access is given, not only that it is not.
  const access =
    refused && requestPath !== undefined && isPage(requestPath)
      ? '<p class="access">This wall is private. The site that runs it gives access to its people: sign in there (it gives your browser a token for this wall), then open this page again.</p>\n'
      : '';
  const suggestion =
    meant === undefined ? '' : `<p class="suggestion">Did you mean <b>#${escapeHtml(meant)}</b>?</p>\n`;
  const go =
    meant === undefined
      ? ''
      : `<a class="button" id="meant" href="${escapeHtml(wallPagePath(meant))}">Open #${escapeHtml(meant)}</a>`;
  const again =
    error.status === 503 && requestPath !== undefined && isPage(requestPath)
      ? `<a class="button" id="again" href="${escapeHtml(requestPath)}">Try again</a>`
      : '';
  const backText = back === '/' || back === BACK_TO_THE_WALL ? 'Back to the wall' : `Back to #${back.slice(3)}`;
  const content = `<main id="inbox" class="error" tabindex="-1">
<div class="error-card">
<h2><span class="status-code">${error.status}</span> ${escapeHtml(heading)}</h2>
<p class="reason" data-code="${escapeHtml(error.code)}">${escapeHtml(error.message)}</p>
${access}${suggestion}<p class="actions">${go}${again}<a id="back" href="${escapeHtml(back)}">${escapeHtml(backText)}</a></p>
</div>
</main>`;
  return renderShell({
    title: `${error.status} ${heading} · wallcast`,
    wall,
    script: 'error.js',
    modules: ['wall-switcher.js'],
    content,
    bodyClass: 'error-page',
  });
}

/** A page path a person can load again (not an API path). */
function isPage(path: string): boolean {
  return path === '/' || path.startsWith('/w/');
}
