// @ts-check
// How the report writes numbers and table rows: one place, so that every
// table rounds alike and a missing figure reads "n/a" everywhere.

/** @typedef {import('../loadgen-client.mjs').Stats} Stats */

export const fmt = (/** @type {number} */ n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
/** µs → ms */
export const ms = (/** @type {number} */ us) => fmt(us / 1000, 1);
/** bytes → KB */
export const kb = (/** @type {number} */ bytes) => fmt(bytes / 1024, 1);
export const times = (/** @type {number} */ x) => (Number.isFinite(x) ? `${fmt(x, 2)}×` : 'n/a');
export const count = (/** @type {number} */ n) => n.toLocaleString('en-US');
/** a / b, NaN (shown "n/a") when either was not measured. */
export const ratio = (/** @type {number | undefined} */ a, /** @type {number | undefined} */ b) =>
  a !== undefined && b !== undefined && b > 0 ? a / b : Number.NaN;
export const row = (/** @type {string[]} */ cells) => `| ${cells.join(' | ')} |`;
/** @param {Stats | undefined} s */
export const faults = (s) => (s ? `${s.lost} / ${s.dups} / ${s.closed}` : 'n/a');
/** @param {Stats | undefined} s */
export const faultCount = (s) => (s ? s.lost + s.dups + s.closed : Number.NaN);
/** @param {Stats | undefined} s */
export const clean = (s) => s !== undefined && s.lost + s.dups + s.closed === 0;

/**
 * @template T
 * @param {Record<number, T>} record
 * @returns {[number, T][]} largest scale first
 */
export const byScale = (record) =>
  Object.entries(record)
    .map(([n, v]) => /** @type {[number, T]} */ ([Number(n), v]))
    .sort((a, b) => b[0] - a[0]);

/**
 * GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
 * @param {string} heading
 */
export const anchorOf = (heading) =>
  `#${heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replaceAll(' ', '-')}`;
