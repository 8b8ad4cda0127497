/**
 * What every HTML page of the site shares, the wall page and the error
 * pages alike: the head, the bar at the top, and the list of walls (a
 * sidebar on a wide screen, a panel behind the bar's "Walls" button on a
 * phone, which `:target` opens without JavaScript).
 */
import { escapeHtml } from './message-html.js';
import { wallPagePath } from './wall-path.js';

export interface ShellParts {
  /** The document's title, as text. */
  title: string;
  /** The wall the page is about: named in the bar, marked in the list. */
  wall?: string;
  /** The page's entry module under /static/, and the modules it imports (preloaded). */
  script: string;
  modules?: readonly string[];
  /** The end of the bar: presence and the connection state. */
  barEnd?: string;
  /** Where "skip to …" goes: the message box when there is one. */
  skipTo?: { href: string; text: string };
  /** The page's content after the list of walls: its `<main>`, and what follows it. */
  content: string;
  /** `GET /api/walls` is served: the list asks it for the server's walls (issue 18, point 3). */
  wallListServed?: boolean;
  /** The `<body>`'s class. */
  bodyClass: string;
}

/** The menu icon of the bar's "Walls" button on a phone. */
const MENU_ICON =
  '<svg class="icon" viewBox="0 0 20 20" aria-hidden="true" focusable="false"><path d="M3 5h14v2H3zm0 4h14v2H3zm0 4h14v2H3z"/></svg>';

export function renderShell(parts: ShellParts): string {
  const modules = (parts.modules ?? [])
    .map((module) => `<link rel="modulepreload" href="/static/${escapeHtml(module)}">`)
    .join('\n');
  const heading = parts.wall === undefined ? 'wallcast' : `#${parts.wall}`;
  const skip =
    parts.skipTo === undefined
      ? ''
      : `<a class="skip-link" href="${escapeHtml(parts.skipTo.href)}">${escapeHtml(parts.skipTo.text)}</a>\n`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, interactive-widget=resizes-content">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(parts.title)}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/wall.css">
<script type="module" src="/static/${escapeHtml(parts.script)}"></script>
${modules}
</head>
<body class="${escapeHtml(parts.bodyClass)}">
${skip}<header class="bar">
<a class="walls-toggle" id="walls-toggle" href="#walls" aria-controls="walls">${MENU_ICON}<span class="visually-hidden">Walls</span></a>
<h1 class="title"><span class="wall-name">${escapeHtml(heading)}</span></h1>
<div class="bar-end">${parts.barEnd ?? ''}</div>
</header>
${wallsNav(parts)}
${parts.content}
</body>
</html>
`;
}

/**
 * The list of walls. Without JavaScript: the box that opens any wall by
 * name (`GET /w?wall=…`). With it (public/wall-switcher.js): this
 * browser's recent walls, and the server's when it serves the list.
 */
function wallsNav(parts: ShellParts): string {
  const listed = parts.wallListServed ? ' data-wall-list="/api/walls"' : '';
  const current = parts.wall === undefined ? '' : ` data-current="${escapeHtml(parts.wall)}"`;
  return `<nav id="walls" class="walls" aria-label="Walls"${listed}${current}>
<div class="walls-head"><a class="brand" href="${wallPagePath('main')}"><img src="/static/favicon.svg" alt="" width="28" height="28"><span>wallcast</span></a>
<a class="walls-close" href="#" id="walls-close"><span aria-hidden="true">✕</span><span class="visually-hidden">Close the list of walls</span></a></div>
<form class="open-wall" id="open-wall" method="get" action="/w">
<label for="open-wall-name">Open a wall</label>
<div class="field-row"><input id="open-wall-name" name="wall" required maxlength="80" placeholder="e.g. team" autocomplete="off" autocapitalize="none" spellcheck="false" enterkeyhint="go" aria-describedby="open-wall-error"><button type="submit">Open</button></div>
<p id="open-wall-error" class="field-error" hidden></p>
</form>
<section class="wall-list" id="recent-walls" aria-labelledby="recent-walls-heading" hidden><h2 id="recent-walls-heading">Recent</h2><ul></ul></section>
<section class="wall-list" id="active-walls" aria-labelledby="active-walls-heading" hidden><h2 id="active-walls-heading">Active walls</h2><ul></ul><button type="button" class="more-walls" hidden>More walls</button></section>
</nav>`;
}
