/** The wall scripts (scripts.ts) as commands of an ioredis client or pipeline, with the replies they give. */
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './connect.js';
import type { FeedEntry } from './entries.js';
import { APPEND, DELETE, EXPIRE, FIND, LIST_WALLS, READ } from './scripts.js';

type KeysThenArgs = (string | number)[];

export type Appended =
  | [status: 'stored', epoch: string, entry: string]
  | [status: 'replayed', epoch: string, entry: string, json: string]
  | [status: 'admit', epoch: string];

/** What the read script answered: the direction asked for, or the newest messages (with why, on a reset). */
export type ReadStatus = 'after' | 'before' | 'newest' | 'epoch' | 'unknown' | 'trimmed';

export interface WallCommands {
  wallAppend(...keysThenArgs: KeysThenArgs): Promise<Appended>;
  wallRead(
    ...keysThenArgs: KeysThenArgs
  ): Promise<[status: ReadStatus, epoch: string, head: string, entries: FeedEntry[], more: 0 | 1]>;
  wallDelete(...keysThenArgs: KeysThenArgs): Promise<[epoch: string, entry: string] | null>;
  wallExpire(...keysThenArgs: KeysThenArgs): Promise<number>;
  wallList(...keysThenArgs: KeysThenArgs): Promise<[epoch: string, wallsAndMs: string[]]>;
  wallFind(...keysThenArgs: KeysThenArgs): Promise<[epoch: string, entry: string, fields: string[]] | null>;
}

/** A client with the wall scripts; its pipelines have them too. */
export type ScriptedClient = RedisClient & WallCommands;
export type ScriptedPipeline = ChainableCommander & { [name in keyof WallCommands]: (...a: KeysThenArgs) => unknown };

export function defineWallCommands(client: RedisClient): ScriptedClient {
  client.defineCommand('wallAppend', { numberOfKeys: 7, lua: APPEND });
  client.defineCommand('wallRead', { numberOfKeys: 3, lua: READ });
  client.defineCommand('wallDelete', { numberOfKeys: 7, lua: DELETE });
  client.defineCommand('wallExpire', { numberOfKeys: 5, lua: EXPIRE });
  client.defineCommand('wallList', { numberOfKeys: 2, lua: LIST_WALLS });
  client.defineCommand('wallFind', { numberOfKeys: 3, lua: FIND });
  return client as ScriptedClient;
}
