/**
 * Redis stream entry ids, `{ms}-{seq}`: two unsigned 64-bit integers. They
 * are the Redis store's cursors, so they are checked and compared here, as
 * digit strings: a JavaScript number is exact only up to 2^53.
 */

const STREAM_ID = /^(0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,19})$/;
const U64_MAX = '18446744073709551615';

/** Whether `text` is an id Redis could have issued (both parts within 64 bits). */
export function isStreamId(text: string): boolean {
  const match = STREAM_ID.exec(text);
  return match !== null && fitsU64(match[1] as string) && fitsU64(match[2] as string);
}

function fitsU64(digits: string): boolean {
  return digits.length < U64_MAX.length || (digits.length === U64_MAX.length && digits <= U64_MAX);
}

/** Negative, zero or positive as `a` is before, at or after `b` (both valid ids). */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = '', aSeq = ''] = a.split('-');
  const [bMs = '', bSeq = ''] = b.split('-');
  return compareDigits(aMs, bMs) || compareDigits(aSeq, bSeq);
}

/** Digit strings without leading zeros compare by length, then lexically. */
function compareDigits(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** The id just before `id`: resuming after it yields `id` first. */
export function streamIdBefore(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  if (seq !== '0') return `${ms}-${BigInt(seq) - 1n}`;
  if (ms === '0') return '0-0';
  return `${BigInt(ms) - 1n}-${U64_MAX}`;
}
