/**
 * Where a stream stands: for each wall it follows, the cursor of the last
 * event it sent (or of where it resumed, or the wall's head once its replay
 * found nothing new). Its SSE id says the same to the client, which sends it
 * back as Last-Event-ID to resume exactly.
 *
 * One wall: the id is that wall's cursor. Several walls: `wall:cursor`
 * pairs joined by commas, in the order the stream lists its walls
 * (`main:k3j2-5,dev:k3j2-9`); wall names never contain `:` or `,`, and
 * store cursors neither (store.ts).
 */

/** No store issues a cursor with NUL (store.ts): resuming from it is always a `malformed` reset. */
const NOT_A_CURSOR = '\u0000';

export class StreamPosition {
  /*
   * One wall: its cursor in a field, no map (a stream's position is kept for
   * every idle stream, so it stays small). Several walls: a map each.
   */
  #cursor: string | undefined;
  #asked: string | undefined;
  #cursors: Map<string, string> | undefined;
  #askedOf: Map<string, string> | undefined;

  private constructor(
    readonly walls: readonly string[],
    /** Whether ids name each wall (a stream of several walls) or are the one wall's cursor. */
    readonly several: boolean,
  ) {
    if (several) {
      this.#cursors = new Map();
      this.#askedOf = new Map();
    }
  }

  /**
   * The position a client asked to resume from (its Last-Event-ID). One
   * wall: the id is its cursor. Several: the cursor of each listed wall the
   * id names; a wall it does not name starts fresh, and an id that is no
   * such list names a cursor no store issued for every wall, so each is
   * answered with a reset instead of a guess.
   */
  static resume(walls: readonly string[], several: boolean, lastEventId: string | undefined): StreamPosition {
    const position = new StreamPosition(walls, several);
    if (lastEventId === undefined) return position;
    const cursors = position.#cursors;
    const asked = position.#askedOf;
    if (cursors === undefined || asked === undefined) {
      position.#asked = position.#cursor = lastEventId;
      return position;
    }
    const pairs = lastEventId.split(',').map((pair) => {
      const colon = pair.indexOf(':');
      return colon > 0 ? [pair.slice(0, colon), pair.slice(colon + 1)] : ['', ''];
    });
    const wellFormed = pairs.every(([wall, cursor]) => wall !== '' && cursor !== '' && !cursor?.includes(':'));
    for (const wall of walls) {
      if (!wellFormed) {
        // Not a list (a single wall's cursor, say): it is no position in any of these walls.
        asked.set(wall, NOT_A_CURSOR);
        continue;
      }
      const cursor = pairs.find(([named]) => named === wall)?.[1];
      if (cursor === undefined) continue;
      asked.set(wall, cursor);
      // Until this wall's replay moves it, the stream stands where the client did.
      cursors.set(wall, cursor);
    }
    return position;
  }

  /** Where the client asked `wall` to resume from; undefined: start it fresh. */
  resumeFrom(wall: string): string | undefined {
    return this.#askedOf === undefined ? this.#asked : this.#askedOf.get(wall);
  }

  /** Where `wall` stands; undefined until its replay gave it a place. */
  of(wall: string): string | undefined {
    return this.#cursors === undefined ? this.#cursor : this.#cursors.get(wall);
  }

  set(wall: string, cursor: string): void {
    if (this.#cursors === undefined) this.#cursor = cursor;
    else this.#cursors.set(wall, cursor);
  }

  /** The SSE id of the whole position ('' while no wall has a place). */
  id(): string {
    const cursors = this.#cursors;
    if (cursors === undefined) return this.#cursor ?? '';
    let id = '';
    for (const wall of this.walls) {
      const cursor = cursors.get(wall);
      if (cursor !== undefined) id += `${id === '' ? '' : ','}${wall}:${cursor}`;
    }
    return id;
  }

  /** The id the position will have once `wall` moves to `cursor` (the id of an event of that wall). */
  idWith(wall: string, cursor: string): string {
    const cursors = this.#cursors;
    if (cursors === undefined) return cursor;
    let id = '';
    for (const each of this.walls) {
      const at = each === wall ? cursor : cursors.get(each);
      if (at !== undefined) id += `${id === '' ? '' : ','}${each}:${at}`;
    }
    return id;
  }
}
