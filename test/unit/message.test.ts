import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.js';
import { validateAuthor, validateBody } from '../../src/posting.js';
import { linkify, renderMessageHtml } from '../../src/views/message-html.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof ApiError ? error.code : 'not an ApiError';
  }
  return undefined;
}

describe('body validation', () => {
  it('trims and normalises CR LF and lone CR to LF', () => {
    expect(validateBody('  a\r\nb\rc  ', 2000)).toBe('a\nb\nc');
  });

  it('keeps tabs and line breaks, refuses NUL and other C0 controls', () => {
    expect(validateBody('a\tb\nc', 2000)).toBe('a\tb\nc');
    for (const bad of ['a\u0000b', 'a\u0007b', 'a\u001bb', 'a\u000bb']) {
      expect(codeOf(() => validateBody(bad, 2000))).toBe('invalid_body');
    }
  });

  it('refuses empty, whitespace-only, missing and non-text bodies', () => {
    for (const bad of ['', '   \n ', undefined, 42, null, ['a']]) {
      expect(codeOf(() => validateBody(bad, 2000))).toBe('invalid_body');
    }
  });

  it('counts Unicode code points, not UTF-16 units', () => {
    expect(validateBody('😀'.repeat(5), 5)).toBe('😀'.repeat(5));
    expect(codeOf(() => validateBody('😀'.repeat(6), 5))).toBe('invalid_body');
  });

  it('refuses a lone surrogate, which cannot be sent as UTF-8', () => {
    expect(codeOf(() => validateBody('a\ud800b', 2000))).toBe('invalid_body');
  });
});

describe('author validation', () => {
  it('is optional, trimmed, at most 64 characters, one line', () => {
    expect(validateAuthor(undefined)).toBe('');
    expect(validateAuthor('  ann ')).toBe('ann');
    expect(validateAuthor('a'.repeat(64))).toBe('a'.repeat(64));
    expect(codeOf(() => validateAuthor('a'.repeat(65)))).toBe('invalid_author');
    expect(codeOf(() => validateAuthor('a\nb'))).toBe('invalid_author');
    expect(codeOf(() => validateAuthor(7))).toBe('invalid_author');
  });
});

describe('HTML rendering', () => {
  it('escapes every piece of user text', () => {
    const html = renderMessageHtml('abc', '<i>"x"</i>', `<script>alert('x')</script> & more`);
    expect(html).toBe(
      '<div class="message" id="mabc"><b class="author"><bdi>&lt;i&gt;&quot;x&quot;&lt;/i&gt;</bdi></b> ' +
        '<span class="body" dir="auto">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more</span></div>',
    );
  });

  it('marks a verified author in the fragment, so a typed name cannot pass for one', () => {
    expect(renderMessageHtml('abc', 'Ann', 'hi', true)).toContain('<b class="author verified"><bdi>Ann</bdi></b>');
    expect(renderMessageHtml('abc', 'Ann', 'hi')).toContain('<b class="author"><bdi>Ann</bdi></b>');
  });

  it('links http(s) URLs to a new tab with nofollow, leaving trailing punctuation outside', () => {
    expect(linkify('see https://example.com/a?b=1&c=2.')).toBe(
      'see <a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer nofollow">' +
        'https://example.com/a?b=1&amp;c=2</a>.',
    );
  });

  it('keeps balanced parentheses in a URL and links www. hosts, but not bare names or e-mail', () => {
    const html = linkify('https://en.wikipedia.org/wiki/Foo_(bar), www.example.org/a. example.com a@b.com');
    expect(html).toContain('href="https://en.wikipedia.org/wiki/Foo_(bar)"');
    expect(html).toMatch(/href="http:\/\/www.example.org\/a"[^>]*>www.example.org\/a<\/a>\./);
    expect(html).not.toContain('href="http://example.com"');
    expect(html).not.toContain('mailto:');
  });

  it('never lets a URL break out of its attribute or link other schemes', () => {
    const html = linkify('http://x.org/"onmouseover="alert(1) javascript:alert(1)');
    expect(html).not.toContain('"onmouseover');
    expect(html).not.toContain('href="javascript');
    expect(html).toContain('&quot;onmouseover=&quot;alert(1)');
  });
});
