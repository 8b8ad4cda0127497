/**
 * A message's HTML fragment, rendered once when it is posted and stored with
 * it: every user character escaped, links made by linkify-it (which keeps
 * `https://en.wikipedia.org/wiki/Foo_(bar)` whole and finds `www.` links).
 */
import LinkifyIt, { type Match } from 'linkify-it';

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

/**
 * Web links only: no `mailto:`, `ftp:` or schema-less `//host`, no e-mail
 * addresses. Schema-less hosts are found (fuzzy links) but only those
 * written with `www.` are kept (`linkable`): "example.com" in prose stays text.
 */
const linkifier = new LinkifyIt().add('mailto:', null).add('ftp:', null).add('//', null).set({ fuzzyEmail: false });

function linkable(match: Match): boolean {
  return /^https?:\/\//i.test(match.url) && (match.schema !== '' || /^www\./i.test(match.text));
}

/**
 * Escapes `text` and turns its web links into links that open in a new tab
 * (the wall stays live) and pass nothing to the site they open.
 */
export function linkify(text: string): string {
  const matches = linkifier.match(text) ?? [];
  let html = '';
  let last = 0;
  for (const match of matches) {
    if (!linkable(match)) continue;
    html += escapeHtml(text.slice(last, match.index));
    html += `<a href="${escapeHtml(match.url)}" target="_blank" rel="noopener noreferrer nofollow">${escapeHtml(match.text)}</a>`;
    last = match.lastIndex;
  }
  return html + escapeHtml(text.slice(last));
}

/**
 * The seed's `message.html`, with the author when there is one (marked
 * `verified` when a token said who it is). Author and
 * body are each isolated for bidirectional text (`<bdi>`, `dir="auto"`): a
 * right-to-left override in one cannot reverse how the other reads.
 */
export function renderMessageHtml(id: string, author: string, body: string, verified = false): string {
  // A verified author (a token's name, issue 16) is told apart from anyone who types the same name.
  const who =
    author === '' ? '' : `<b class="author${verified ? ' verified' : ''}"><bdi>${escapeHtml(author)}</bdi></b> `;
  return `<div class="message" id="m${escapeHtml(id)}">${who}<span class="body" dir="auto">${linkify(body)}</span></div>`;
}
