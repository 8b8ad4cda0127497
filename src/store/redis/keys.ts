/**
 * The names of a deployment's keys in Redis, every one under its prefix
 * (scripts.ts says what each holds). Keys of one wall share the hash tag
 * `{wall}`; the others are the deployment's own. Issue 19's partitions
 * (`{prefix}{pN}`) change these names here and nowhere else.
 */
export class RedisKeys {
  /** Every wall's events, for every instance's feed reader. */
  readonly feed: string;
  /** Names the Redis history that cursors are positions in. */
  readonly epoch: string;
  /** The walls with history, scored by the time of their newest event. */
  readonly active: string;
  /** wallcast 0.2's set of the walls with history, before `active` replaced it. */
  readonly wallSet: string;

  constructor(readonly prefix: string) {
    this.feed = `${prefix}feed`;
    this.epoch = `${prefix}epoch`;
    this.active = `${prefix}active`;
    this.wallSet = `${prefix}walls`;
  }

  /** The keys of one wall. */
  wall(wall: string): WallKeys {
    const tag = `${this.prefix}{${wall}}`;
    return { events: `${tag}:events`, meta: `${tag}:meta`, ids: `${tag}:ids`, keys: `${tag}:keys` };
  }
}

export interface WallKeys {
  /** The wall's stream of events. */
  events: string;
  /** Its head, where trimming stopped, its bytes. */
  meta: string;
  /** Message id → entry id. */
  ids: string;
  /** Idempotency key → entry id. */
  keys: string;
}
