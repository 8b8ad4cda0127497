/**
 * Who a stream counts as on a wall (issue 17: people, not connections).
 *
 * A stream with a verified identity (a token's or ticket's `sub`, issue 16)
 * is a *member*: it is counted and may be listed by name. Without one, a
 * stream that names its browser with `?client=` is that browser: the
 * browser's tabs count once. Without either, the stream is a person of its
 * own. The kinds never collide: each key starts with its kind, so a client
 * id cannot pass for a member of the same spelling.
 */

/** A listed person: the token's `sub` and display `name`. */
export interface Member {
  readonly id: string;
  readonly name: string;
}

/** A stream's verified identity, as issue 16's token or ticket gives it (`name` is `sub` when the token has none). */
export interface Identity {
  readonly sub: string;
  readonly name: string;
}

export type Person =
  | { readonly kind: 'member'; readonly key: string; readonly member: Member }
  | { readonly kind: 'client'; readonly key: string }
  /** Counted once for itself: the tracker gives it a key no other stream has. */
  | { readonly kind: 'stream' };

const CLIENT_ID = /^[A-Za-z0-9_-]{8,64}$/;

/** For the 400 answer to a malformed `?client=`. */
export const CLIENT_ID_RULE = 'A client id is 8–64 characters of A-Z, a-z, 0-9, "_" and "-".';

/**
 * Whether `value` may be a client id. It is trusted for nothing but joining
 * counts: a browser that lies about it only merges or splits its own count.
 */
export function isClientId(value: string): boolean {
  return CLIENT_ID.test(value);
}

/**
 * The person a stream counts as: its identity's `sub` when it has one (a
 * client id beside it is then ignored), else its client id, else itself.
 * `clientId` must have passed `isClientId` (the route answers 400 otherwise).
 */
export function personOf(identity: Identity | undefined, clientId: string | undefined): Person {
  if (identity !== undefined) {
    return { kind: 'member', key: `u:${identity.sub}`, member: { id: identity.sub, name: identity.name } };
  }
  if (clientId !== undefined) {
    if (!isClientId(clientId)) throw new RangeError(`not a client id: ${JSON.stringify(clientId)}`);
    return { kind: 'client', key: `c:${clientId}` };
  }
  return { kind: 'stream' };
}
