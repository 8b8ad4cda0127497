/**
 * The position of a stream that follows several walls: the cursor it has
 * reached in each. As an SSE id it is `wall:cursor` pairs joined by commas,
 * in the order the stream lists its walls (`main:k3j2-5,dev:k3j2-9`); wall
 * names never contain `:` or `,`, and store cursors neither (store.ts).
 */
/** No store issues a cursor with NUL (store.ts): resuming from it is always a `malformed` reset. */
const NOT_A_CURSOR = '\u0000';

export class WallCursors {
  /** Where each wall's stream stands: what its id says. */
  readonly #cursors = new Map<string, string>();
  /** Where the client asked each wall to resume from. */
  readonly #asked = new Map<string, string>();

  constructor(readonly walls: readonly string[]) {}

  /**
   * The position a client asked to resume from (its Last-Event-ID): the
   * cursor of each listed wall it names. A wall it does not name starts
   * fresh. An id that is no such list names a cursor no store issued for
   * every wall, so each is answered with a reset instead of a guess.
   */
  static resume(walls: readonly string[], lastEventId: string | undefined): WallCursors {
    const cursors = new WallCursors(walls);
    if (lastEventId === undefined) return cursors;
    const pairs = lastEventId.split(',').map((pair) => {
      const colon = pair.indexOf(':');
      return colon > 0 ? [pair.slice(0, colon), pair.slice(colon + 1)] : ['', ''];
    });
    const wellFormed = pairs.every(([wall, cursor]) => wall !== '' && cursor !== '' && !cursor?.includes(':'));
    for (const wall of walls) {
      if (!wellFormed) {
        // Not a list (a single wall's cursor, say): it is no position in any of these walls.
        cursors.#asked.set(wall, NOT_A_CURSOR);
        continue;
      }
      const cursor = pairs.find(([named]) => named === wall)?.[1];
      if (cursor === undefined) continue;
      cursors.#asked.set(wall, cursor);
      // Until this wall's replay moves it, the stream stands where the client did.
      cursors.set(wall, cursor);
    }
    return cursors;
  }

  /** Where the client asked `wall` to resume from; undefined: start it fresh. */
  resumeFrom(wall: string): string | undefined {
    return this.#asked.get(wall);
  }

  set(wall: string, cursor: string): void {
    this.#cursors.set(wall, cursor);
  }

  /** The SSE id: every wall with a position, in the stream's order. */
  id(): string {
    let id = '';
    for (const wall of this.walls) {
      const cursor = this.#cursors.get(wall);
      if (cursor !== undefined) id += `${id === '' ? '' : ','}${wall}:${cursor}`;
    }
    return id;
  }
}
