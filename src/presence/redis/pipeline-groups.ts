import type { Cluster, Redis } from 'ioredis';
import { keySlot } from '../../store/redis/key-slot.js';

/**
 * `items` in the groups that one ioredis pipeline may carry: all of them on
 * one Redis; on a cluster (issue 19), those whose key (`keyOf`) is in a slot
 * the same node serves, as the client's slot map says. An item whose slot
 * the client does not know yet goes in a group of its slot's own.
 */
export function pipelineGroups<T>(redis: Redis | Cluster, items: T[], keyOf: (item: T) => string): T[][] {
  if (!redis.isCluster) return items.length === 0 ? [] : [items];
  const slots = (redis as Cluster).slots;
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const slot = keySlot(keyOf(item));
    const node = slots[slot]?.[0] ?? `slot ${slot}`;
    const group = groups.get(node);
    if (group === undefined) groups.set(node, [item]);
    else group.push(item);
  }
  return [...groups.values()];
}
