/**
 * `WALLCAST_JWT_PUBLIC_KEY`: a file holding the public key tokens are
 * verified with: a PEM public key (SPKI, `-----BEGIN PUBLIC KEY-----`), a
 * JWK, or a JWK Set (issue 16, "Keys"). Read and checked once, at start, so
 * a bad file stops the server with one line instead of refusing every token.
 *
 * Checking a key needs a key parser that runs synchronously at start-up
 * (the settings are parsed synchronously); jose's importers are async, so
 * Node's own `createPublicKey` parses here. It only parses: the JWS itself
 * is verified by jose alone (token-verifier.ts), with the keys kept here
 * as public JWKs.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { JWK } from 'jose';

/**
 * The algorithms wallcast accepts with public keys (issue 16): a key allows
 * those of its type, or only its `alg` when its JWK names one.
 */
export const PUBLIC_KEY_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;

/** A key file is a few KB; anything much larger is the wrong file. */
const MAX_KEY_FILE_BYTES = 256 * 1024;

/** Keys of a JWK Set file. Each is checked at start, so the bound only keeps a wrong file from costing much. */
const MAX_FILE_KEYS = 100;

export interface PublicKey {
  /** The public key as a JWK (kid kept when the file had one). */
  readonly jwk: JWK;
  readonly algorithms: readonly string[];
}

export interface PublicKeyFile {
  readonly path: string;
  /** `set` for a JWK Set (keys chosen by `kid`); `single` for a PEM or one JWK (its `kid`, if any, is not needed). */
  readonly form: 'single' | 'set';
  readonly keys: readonly PublicKey[];
  /** Every algorithm of every key. */
  readonly algorithms: readonly string[];
  /** As the start-up log shows the setting: the path and the algorithms, not the key. */
  toJSON(): string;
}

/** Reads the file; throws an Error whose one-line message says what is wrong with it. */
export function readPublicKeyFile(path: string): PublicKeyFile {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_KEY_FILE_BYTES) throw new Error(`it is ${size} bytes, more than a key file's ${MAX_KEY_FILE_BYTES}`);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new Error(`${JSON.stringify(path)} cannot be read as a key file (${code ?? message})`);
  }
  const fail = (why: string): never => {
    throw new Error(`${JSON.stringify(path)} is not a usable public key: ${why}`);
  };
  const trimmed = text.trim();
  let keys: PublicKey[];
  let form: PublicKeyFile['form'] = 'single';
  if (trimmed.startsWith('-----BEGIN ')) {
    keys = [fromPem(trimmed, fail)];
  } else if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      return fail('it starts like JSON but is not JSON');
    }
    const object = json as { keys?: unknown; kty?: unknown };
    if (Array.isArray(object.keys)) {
      form = 'set';
      if (object.keys.length === 0) fail('the JWK Set has no keys');
      if (object.keys.length > MAX_FILE_KEYS) fail(`the JWK Set has more than ${MAX_FILE_KEYS} keys`);
      keys = object.keys.map((jwk, index) => fromJwk(jwk, (why) => fail(`key ${index + 1} of the set: ${why}`)));
    } else if (typeof object.kty === 'string') {
      keys = [fromJwk(object, fail)];
    } else {
      return fail('JSON, but neither a JWK (with "kty") nor a JWK Set (with "keys")');
    }
  } else {
    return fail('give a PEM public key (-----BEGIN PUBLIC KEY-----), a JWK or a JWK Set (JSON)');
  }
  const algorithms = [...new Set(keys.flatMap((key) => key.algorithms))];
  return { path, form, keys, algorithms, toJSON: () => `${path} (${algorithms.join(', ')})` };
}

function fromPem(pem: string, fail: (why: string) => never): PublicKey {
  const label = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
  if (label?.includes('PRIVATE')) fail('this is a private key: give the public key (openssl pkey -pubout)');
  if (label === 'CERTIFICATE') fail('this is a certificate: give its public key (openssl x509 -pubkey -noout)');
  if (label !== 'PUBLIC KEY') fail(`a PEM "${label}" block: give a "PUBLIC KEY" (SPKI) block`);
  if (pem.split('-----BEGIN ').length > 2) fail('the file holds several PEM blocks: give one public key');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (error) {
    return fail(`the PEM does not parse (${(error as Error).message})`);
  }
  return { jwk: key.export({ format: 'jwk' }) as JWK, algorithms: algorithmsOf(key, undefined, fail) };
}

function fromJwk(raw: unknown, fail: (why: string) => never): PublicKey {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('a JWK must be a JSON object');
  const jwk = raw as JWK;
  if (jwk.kty === 'oct') fail('an "oct" JWK is a shared secret: use WALLCAST_JWT_SECRET for HMAC');
  if (jwk.d !== undefined) fail('this JWK is a private key (it has "d"): give the public key only');
  if (jwk.use !== undefined && jwk.use !== 'sig') fail(`its "use" is ${JSON.stringify(jwk.use)}, not "sig"`);
  if (jwk.alg !== undefined && typeof jwk.alg !== 'string') fail('its "alg" must be text');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (error) {
    return fail(`the JWK does not parse (${(error as Error).message})`);
  }
  const exported = key.export({ format: 'jwk' }) as JWK;
  const kept: JWK = { ...exported, ...(jwk.kid === undefined ? {} : { kid: jwk.kid }) };
  if (jwk.alg !== undefined) kept.alg = jwk.alg;
  return { jwk: kept, algorithms: algorithmsOf(key, jwk.alg, fail) };
}

/** The algorithms a key may verify: those of its type, narrowed to its JWK `alg` when it has one. */
function algorithmsOf(key: KeyObject, alg: string | undefined, fail: (why: string) => never): string[] {
  const { asymmetricKeyType: type, asymmetricKeyDetails: details } = key;
  let algorithms: string[];
  if (type === 'rsa') {
    // jose refuses shorter RSA keys when verifying (RFC 7518 §3.3); say so now rather than on every token.
    if ((details?.modulusLength ?? 0) < 2048) fail(`an RSA key of ${details?.modulusLength} bits: use 2048 or more`);
    algorithms = ['RS256', 'PS256'];
  } else if (type === 'ec') {
    if (details?.namedCurve !== 'prime256v1') fail(`an EC key on ${details?.namedCurve}: use P-256 (ES256)`);
    algorithms = ['ES256'];
  } else if (type === 'ed25519') {
    algorithms = ['EdDSA'];
  } else {
    return fail(`a ${type} key: use RSA (RS256, PS256), EC P-256 (ES256) or Ed25519 (EdDSA)`);
  }
  if (alg === undefined) return algorithms;
  if (!algorithms.includes(alg)) {
    fail(`its "alg" is ${JSON.stringify(alg)}; this key can be used with ${algorithms.join(' or ')}`);
  }
  return [alg];
}
