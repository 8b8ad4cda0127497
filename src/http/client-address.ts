/**
 * Who a request comes from, as the rate limit counts clients.
 *
 * - The socket's peer, unless that peer is a trusted proxy
 *   (`WALLCAST_TRUST_PROXY`): then the nearest address in `X-Forwarded-For`
 *   that is not a trusted proxy itself (the right-most untrusted one; what a
 *   client writes further left is not believed).
 * - An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is the IPv4 address.
 * - An IPv6 client is its /64: one subscriber line gets a whole /64, so
 *   keying on the full address would give each of its addresses a fresh
 *   budget.
 */
import { BlockList, isIP } from 'node:net';

export class ClientAddresses {
  readonly #trusted: BlockList | undefined;

  /** `trusted`: addresses, CIDR blocks, or `loopback` (as config.ts validated them). */
  constructor(trusted: readonly string[]) {
    if (trusted.length === 0) return;
    const list = new BlockList();
    for (const entry of trusted) {
      if (entry === 'loopback') {
        list.addSubnet('127.0.0.0', 8, 'ipv4');
        list.addAddress('::1', 'ipv6');
        continue;
      }
      const [address = '', prefix] = entry.split('/');
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) list.addAddress(address, type);
      else list.addSubnet(address, Number(prefix), type);
    }
    this.#trusted = list;
  }

  /** The rate-limit key of a request from `peer` that says `forwardedFor`. */
  keyOf(peer: string | undefined, forwardedFor: string | string[] | undefined): string {
    let client = unmap(peer ?? '');
    if (this.#trusted !== undefined && this.#isTrusted(client) && forwardedFor !== undefined) {
      const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
        .split(',')
        .map((hop) => unmap(hop.trim()))
        .filter((hop) => isIP(hop) !== 0);
      for (let i = hops.length - 1; i >= 0; i--) {
        client = hops[i] as string;
        if (!this.#isTrusted(client)) break;
      }
    }
    return isIP(client) === 6 ? prefix64(client) : client;
  }

  #isTrusted(address: string): boolean {
    const type = isIP(address);
    return type !== 0 && (this.#trusted?.check(address, type === 6 ? 'ipv6' : 'ipv4') ?? false);
  }
}

/** `::ffff:192.0.2.1` → `192.0.2.1`; anything else as it is. */
function unmap(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? address;
}

/** The /64 an IPv6 address is in, as `a:b:c:d::/64` with each group in plain hex. */
export function prefix64(address: string): string {
  const [head = '', tail] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail takes two groups; only the first four groups matter here.
  const missing = 8 - left.length - right.length - (right.at(-1)?.includes('.') ? 1 : 0);
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, missing)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group || '0', 16).toString(16))
    .join(':')}::/64`;
}
