import type { IncomingMessage } from 'node:http';
import { ApiError } from '../errors.js';

export interface PostFields {
  /** Field values as sent; validation happens in message.ts. */
  fields: Record<string, unknown>;
  /** A form post (urlencoded or multipart): `next` applies and the origin is checked. */
  isForm: boolean;
}

/**
 * Reads a POST body of one of the three accepted types, refusing more than
 * `maxBytes` whether or not the client announced a length.
 */
export async function readPostFields(incoming: IncomingMessage, maxBytes: number): Promise<PostFields> {
  const contentType = incoming.headers['content-type'] ?? '';
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!ACCEPTED_TYPES.has(type)) {
    throw new ApiError(
      'unsupported_media_type',
      'Send application/json, application/x-www-form-urlencoded or multipart/form-data.',
    );
  }
  const bytes = await readBody(incoming, maxBytes);
  const text = () => new TextDecoder().decode(bytes);
  switch (type) {
    case 'application/json': {
      let value: unknown;
      try {
        value = JSON.parse(text());
      } catch {
        throw new ApiError('invalid_json', 'The request body is not valid JSON.');
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new ApiError('invalid_json', 'The request body must be a JSON object such as {"body":"hello"}.');
      }
      return { fields: value as Record<string, unknown>, isForm: false };
    }
    case 'application/x-www-form-urlencoded':
      return { fields: Object.fromEntries(new URLSearchParams(text())), isForm: true };
    case 'multipart/form-data': {
      let form: FormData;
      try {
        form = await new Response(new Uint8Array(bytes), { headers: { 'Content-Type': contentType } }).formData();
      } catch {
        throw new ApiError('invalid_body', 'The multipart form could not be read.');
      }
      const fields: Record<string, unknown> = {};
      for (const [name, value] of form) {
        if (!(name in fields)) fields[name] = typeof value === 'string' ? value : { file: true };
      }
      return { fields, isForm: true };
    }
    default:
      throw new Error(`unreachable: ${type}`);
  }
}

const ACCEPTED_TYPES = new Set(['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']);

/**
 * Reads the Node request stream itself: building a web Request and its
 * ReadableStream for a 100-byte post costs more than the rest of the post.
 * Past the limit it stops reading without destroying the stream, so the 413
 * reaches the client and node-server drains (boundedly) what is left.
 */
function readBody(incoming: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new ApiError('payload_too_large', `The request body is over ${maxBytes} bytes.`);
  if (Number(incoming.headers['content-length'] ?? 0) > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error?: Error) => {
      incoming.off('data', onData).off('end', onEnd).off('error', onGone).off('close', onGone);
      // One chunk (the usual short post) is used as it is, not copied.
      if (error === undefined) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
      else reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      incoming.pause();
      finish(tooLarge());
    };
    const onEnd = () => finish();
    // A client that goes away mid-body (Node reports it as an `aborted` error, then a close)
    // is not a server error: nothing is stored, nothing logged.
    const onGone = () => finish(new ApiError('invalid_body', 'The request body was cut off.'));
    incoming.on('data', onData).once('end', onEnd).once('error', onGone).once('close', onGone);
  });
}
