import type { ResetReason } from './store.js';

/** The order of two cursors of one wall's history: by seq (needs no store, so a cluster worker has it too). */
export function compareEpochCursors(a: string, b: string): number {
  return Number(a.slice(a.lastIndexOf('-') + 1)) - Number(b.slice(b.lastIndexOf('-') + 1));
}

/**
 * Cursors of the form `{epoch}-{seq}`, as the memory and SQLite stores issue
 * them. `seq` is a position that never goes back; `epoch` names the history
 * it is a position in, so a cursor from another history (a restarted memory
 * store, a recreated database file) is told apart instead of misread.
 */
export class EpochCursors {
  readonly #shape: RegExp;

  /** `epochShape` is a regular expression source matching every epoch this store draws. */
  constructor(
    readonly epoch: string,
    epochShape: string,
  ) {
    // Up to 16 digits: positions stay exact as JavaScript numbers.
    this.#shape = new RegExp(`^(${epochShape})-(0|[1-9][0-9]{0,15})$`);
  }

  format(seq: number): string {
    return `${this.epoch}-${seq}`;
  }

  /** The seq of a cursor this store issued (one that `position` accepted). */
  seqOf(cursor: string): number {
    return Number(cursor.slice(cursor.lastIndexOf('-') + 1));
  }

  compare(a: string, b: string): number {
    return compareEpochCursors(a, b);
  }

  /** The cursor just before `cursor`: resuming after it yields `cursor`'s event first. */
  before(cursor: string): string {
    return this.format(this.seqOf(cursor) - 1);
  }

  /**
   * The seq `cursor` names when it can be resumed: from `oldest` (the seq
   * just before the first event kept) up to `newest` (the head). Otherwise
   * why not, for the reader's `reset`.
   */
  position(cursor: string, oldest: number, newest: number): number | { reset: ResetReason } {
    const match = this.#shape.exec(cursor);
    if (match === null) return { reset: 'malformed' };
    if (match[1] !== this.epoch) return { reset: 'epoch' };
    const seq = Number(match[2]);
    if (seq > newest) return { reset: 'unknown' };
    if (seq < oldest) return { reset: 'trimmed' };
    return seq;
  }
}
