/**
 * The partitions walls are hashed into (issue 19). Every key a script
 * touches must be in one hash slot of a Redis Cluster, and an append
 * touches its wall and a feed: so the walls are split into a fixed number
 * of partitions, each with its own feed, epoch and active set, and every
 * key of a partition, its walls' too, carries the partition's hash tag
 * (keys.ts). An append or a delete then stays one atomic script.
 *
 * The tags are chosen, not numbered: the tag of partition i is the first
 * of `p{i}`, `p{i}.1`, `p{i}.2`, … whose hash slot lies in the i-th of
 * `count` equal ranges of the slots. A cluster whose masters hold even
 * slot ranges (what `redis-cli --cluster create` makes) then holds
 * `count / masters` partitions each, give or take one, where hashing
 * `p0`…`p15` would put 4, 5 and 7 on three masters. The choice depends on
 * nothing but `count`, so every instance, and every version, finds the
 * same tags: the number of partitions is fixed for the life of the data.
 */
import { crc16, HASH_SLOTS, keySlot } from './key-slot.js';

export class Partitions {
  /** The hash tag of each partition, without its braces. */
  readonly tags: readonly string[];

  constructor(readonly count: number) {
    this.tags = Array.from({ length: count }, (_, i) => tagOf(i, count));
  }

  /** The partition a wall's keys live in. */
  of(wall: string): number {
    return crc16(wall) % this.count;
  }

  /** Every partition's index. */
  all(): number[] {
    return Array.from({ length: this.count }, (_, i) => i);
  }
}

/** The first tag of partition `index` whose slot is in its range (about `count` tries). */
function tagOf(index: number, count: number): string {
  const low = Math.floor((index * HASH_SLOTS) / count);
  const high = Math.floor(((index + 1) * HASH_SLOTS) / count);
  for (let attempt = 0; ; attempt++) {
    const tag = attempt === 0 ? `p${index}` : `p${index}.${attempt}`;
    const slot = keySlot(`{${tag}}`);
    if (slot >= low && slot < high) return tag;
  }
}
