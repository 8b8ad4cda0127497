/**
 * The names of a deployment's keys in Redis, every one under its prefix
 * (scripts.ts says what each holds). A wall's keys live in its partition
 * (partitions.ts) and carry the partition's hash tag, `{prefix}{pN}:…`, as
 * do the partition's feed, epoch and active set: every key one script
 * touches is in one hash slot of a cluster. The walls admitted against
 * `maxWalls` (wall-admission.ts) are the deployment's own, in a slot of
 * their own. A single Redis has the same keys: one layout everywhere.
 */
import { Partitions } from './partitions.js';

export class RedisKeys {
  readonly partitions: Partitions;
  readonly admission: AdmissionKeys;
  /** The keys of wallcast before partitions (0.2 and 0.3), which a single Redis adopts (adopt-legacy-layout.ts). */
  readonly legacy: LegacyKeys;
  readonly #partitionKeys: PartitionKeys[];

  constructor(
    readonly prefix: string,
    partitions: number,
  ) {
    this.partitions = new Partitions(partitions);
    this.#partitionKeys = this.partitions.tags.map((tag, index) => {
      const base = `${prefix}{${tag}}:`;
      return { index, base, epoch: `${base}epoch`, feed: `${base}feed`, active: `${base}active` };
    });
    const admission = `${prefix}{walls}:`;
    this.admission = { admitted: `${admission}admitted`, pending: `${admission}pending`, layout: `${admission}layout` };
    this.legacy = {
      epoch: `${prefix}epoch`,
      feed: `${prefix}feed`,
      active: `${prefix}active`,
      wallSet: `${prefix}walls`,
      wall: (wall) => wallKeys(`${prefix}{${wall}}:`),
    };
  }

  partition(index: number): PartitionKeys {
    const keys = this.#partitionKeys[index];
    if (keys === undefined) throw new RangeError(`no partition ${index}`);
    return keys;
  }

  /** The keys of one wall, and of its partition. */
  wall(wall: string): WallKeys & { partition: PartitionKeys } {
    const partition = this.partition(this.partitions.of(wall));
    return { ...wallKeys(`${partition.base}w:${wall}:`), partition };
  }
}

function wallKeys(base: string): WallKeys {
  return { events: `${base}events`, meta: `${base}meta`, ids: `${base}ids`, keys: `${base}keys` };
}

export interface PartitionKeys {
  index: number;
  /** `{prefix}{tag}:`, what every key of the partition starts with. */
  base: string;
  /** Names the history that cursors of the partition's walls are positions in. */
  epoch: string;
  /** The partition's walls' events, for every instance's feed reader. */
  feed: string;
  /** The partition's walls with history, scored by the time of their newest event. */
  active: string;
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

export interface AdmissionKeys {
  /** Every wall counted against `maxWalls`, scored by when it was admitted. */
  admitted: string;
  /** Walls admitted (or released) lately, to be settled against their partition once their posts are done. */
  pending: string;
  /** The number of partitions the data was written with. */
  layout: string;
}

export interface LegacyKeys {
  epoch: string;
  feed: string;
  active: string;
  /** wallcast 0.2's set of the walls with history, before `active` replaced it. */
  wallSet: string;
  wall(wall: string): WallKeys;
}
