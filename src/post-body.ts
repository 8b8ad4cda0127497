import type { Context } from 'hono';
import { ApiError } from './errors.js';

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
export async function readPostFields(c: Context, maxBytes: number): Promise<PostFields> {
  const contentType = c.req.header('Content-Type') ?? '';
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!ACCEPTED_TYPES.has(type)) {
    throw new ApiError(
      'unsupported_media_type',
      'Send application/json, application/x-www-form-urlencoded or multipart/form-data.',
    );
  }
  const bytes = await readBody(c.req.raw, maxBytes);
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

async function readBody(request: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const tooLarge = () => new ApiError('payload_too_large', `The request body is over ${maxBytes} bytes.`);
  if (Number(request.headers.get('Content-Length') ?? 0) > maxBytes) throw tooLarge();
  if (request.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
