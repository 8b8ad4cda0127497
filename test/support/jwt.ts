/**
 * Real tokens for the auth tests: key pairs and signatures by jose, and a
 * JWK Set served over real HTTP on 127.0.0.1 whose keys a test can change,
 * make fail, make hang, and stop, counting every request it gets.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { type Logger, pino } from 'pino';

export type Algorithm = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

export interface KeyPair {
  alg: Algorithm;
  kid: string;
  privateKey: CryptoKey;
  /** The public key as a JWK, with `kid` and `alg`. */
  jwk: JWK;
  /** The public key as PEM (SPKI). */
  pem: string;
}

let kids = 0;

/** A fresh key pair; `kid` defaults to a new one per pair. */
export async function keyPair(alg: Algorithm, kid = `k${++kids}`): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg };
  return { alg, kid, privateKey, jwk, pem: await exportSPKI(publicKey) };
}

/** The same key pair for another algorithm of its type (an RSA key for RS256 and PS256). */
export async function asAlgorithm(pair: KeyPair, alg: Algorithm): Promise<KeyPair> {
  const privateKey = (await importJWK(await exportJWK(pair.privateKey), alg)) as CryptoKey;
  return { ...pair, alg, privateKey, jwk: { ...pair.jwk, alg } };
}

/** A shared secret of `bytes` bytes, as the text WALLCAST_JWT_SECRET would hold. */
export function secretText(bytes = 32): string {
  return 's'.repeat(bytes);
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Claims valid for an hour: `sub` u42 and whatever `extra` adds or overrides (undefined removes). */
export function claims(extra: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = { sub: 'u42', iat: nowSeconds(), exp: nowSeconds() + 3600, ...extra };
  for (const [name, value] of Object.entries(base)) if (value === undefined) delete base[name];
  return base as JWTPayload;
}

/** Signs `payload` with a key pair (its alg and kid unless `header` says otherwise). */
export function signWith(pair: KeyPair, payload: JWTPayload, header: { kid?: string | null } = {}): Promise<string> {
  const kid = header.kid === null ? {} : { kid: header.kid ?? pair.kid };
  return new SignJWT(payload).setProtectedHeader({ alg: pair.alg, ...kid }).sign(pair.privateKey);
}

/** Signs `payload` with an HMAC key given as text (a secret, or a public key's PEM in the confusion attack). */
export function signHmac(payload: JWTPayload, keyText: string, alg: 'HS256' | 'HS384' | 'HS512' = 'HS256') {
  return new SignJWT(payload).setProtectedHeader({ alg }).sign(new TextEncoder().encode(keyText));
}

/** `alg: none`: a token with no signature at all. */
export function unsigned(payload: JWTPayload): string {
  return new UnsecuredJWT(payload).encode();
}

/** Files for key-file settings, in a temp dir removed by `remove()`. */
export function keyFiles() {
  const dir = mkdtempSync(join(tmpdir(), 'wallcast-keys-'));
  let count = 0;
  return {
    write(content: string): string {
      const path = join(dir, `key-${++count}`);
      writeFileSync(path, content);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A logger whose lines a test can read (`lines`), for "it was logged" and "no secret was logged". */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
  return { log, lines };
}

type Mode = 'up' | 'failing' | 'hanging';

/** A JWK Set served on 127.0.0.1 at `url`. */
export interface JwksServer {
  readonly url: URL;
  /** Requests received so far, in every mode. */
  readonly requests: number;
  setKeys(keys: JWK[]): void;
  /** Serves a body as is (a test of what is not a key set). */
  setBody(body: string): void;
  /** `up` serves the set; `failing` answers 503; `hanging` never answers. */
  setMode(mode: Mode): void;
  stop(): Promise<void>;
}

export async function startJwksServer(keys: JWK[] = []): Promise<JwksServer> {
  let body = JSON.stringify({ keys });
  let mode: Mode = 'up';
  let requests = 0;
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((_request, response) => {
    requests++;
    if (mode === 'hanging') {
      hanging.add(response);
      return;
    }
    if (mode === 'failing') {
      response.writeHead(503).end('down');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`),
    get requests() {
      return requests;
    },
    setKeys: (next) => {
      body = JSON.stringify({ keys: next });
    },
    setBody: (next) => {
      body = next;
    },
    setMode: (next) => {
      mode = next;
    },
    stop: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
