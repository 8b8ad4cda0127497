/**
 * Holds real responses to docs/openapi.yaml: the operation is looked up by
 * method and path template, the status must be one it documents, and the
 * body and the documented headers must match their schemas (ajv, JSON
 * Schema 2020-12, formats checked). It also records which documented
 * statuses were seen, so a test can ask for every one of them.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { expect } from 'vitest';
import { parse } from 'yaml';
import { within } from './deadlines.js';

export const OPENAPI_YAML = new URL('../../docs/openapi.yaml', import.meta.url);

/** The parts of an OpenAPI document this checker reads. */
export interface OpenApiDocument {
  openapi: string;
  info: { version: string };
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Schema>; responses: Record<string, ResponseObject> };
}
type Schema = Record<string, unknown>;
interface Reference {
  $ref: string;
}
interface HeaderObject {
  required?: boolean;
  schema: Schema;
}
export interface ResponseObject {
  headers?: Record<string, HeaderObject | Reference>;
  content?: Record<string, { schema: Schema }>;
}
interface Operation {
  operationId: string;
  responses: Record<string, ResponseObject | Reference>;
}

/** One response as the server sent it: for an event stream, its first frame only. */
export interface Observed {
  status: number;
  headers: Headers;
  text: string;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Where the components live for ajv: `#/components/schemas/X` becomes `{COMPONENTS_ID}#/$defs/X`. */
const COMPONENTS_ID = 'https://wallcast.local/openapi/components';

/** Each request's response (and an event stream's first frame) arrives within this. */
const EXCHANGE_DEADLINE_MS = 5000;

export function loadOpenApi(): OpenApiDocument {
  return parse(readFileSync(OPENAPI_YAML, 'utf8')) as OpenApiDocument;
}

export class OpenApiChecker {
  /** `GET /api/walls/{wall}/messages 200`, for every response checked. */
  readonly seen = new Set<string>();
  // Bodies are checked strictly as typed; header values are text on the wire, so they are coerced.
  readonly #bodies = withComponents(new Ajv2020({ allErrors: true }));
  readonly #headers = withComponents(new Ajv2020({ allErrors: true, coerceTypes: true }));
  readonly #compiled = new WeakMap<Ajv2020, Map<Schema, ValidateFunction>>();
  readonly #templates: { template: string; pattern: RegExp }[];

  constructor(readonly document: OpenApiDocument) {
    const schemas = rewriteRefs(document.components.schemas) as Record<string, Schema>;
    for (const ajv of [this.#bodies, this.#headers]) ajv.addSchema({ $id: COMPONENTS_ID, $defs: schemas });
    this.#templates = Object.keys(document.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}/]+\}/g, '[^/]+')}$`),
    }));
  }

  /** Every `METHOD template status` the document lists. */
  documented(): string[] {
    return Object.entries(this.document.paths).flatMap(([template, item]) =>
      METHODS.filter((method) => method in item).flatMap((method) =>
        Object.keys((item[method] as Operation).responses).map(
          (status) => `${method.toUpperCase()} ${template} ${status}`,
        ),
      ),
    );
  }

  /** The operation `method path` falls under: exactly one template must match the path. */
  operation(method: string, path: string): { template: string; operation: Operation } {
    const pathname = new URL(path, 'http://wallcast.invalid').pathname;
    const matches = this.#templates.filter(({ pattern }) => pattern.test(pathname));
    expect(
      matches.map((m) => m.template),
      `one path template for ${pathname}`,
    ).toHaveLength(1);
    const template = (matches[0] as { template: string }).template;
    const operation = this.document.paths[template]?.[method.toLowerCase()] as Operation | undefined;
    expect(operation, `${method} ${template} is documented`).toBeDefined();
    return { template, operation: operation as Operation };
  }

  /** Fails unless `observed` is a documented response of `method path`, body and headers included. */
  check(method: string, path: string, observed: Observed): void {
    const { template, operation } = this.operation(method, path);
    const label = `${method} ${template} ${observed.status}`;
    const response = operation.responses[String(observed.status)];
    expect(
      response,
      `${label}: not a documented status (documented: ${Object.keys(operation.responses)})`,
    ).toBeDefined();
    this.checkAgainst(label, this.resolve(response as ResponseObject | Reference), observed, method === 'HEAD');
    this.seen.add(label);
  }

  /** Fails unless `observed` matches one response object (for answers no operation owns, such as an unknown route's 404). */
  checkAgainst(label: string, response: ResponseObject, observed: Observed, headOnly = false): void {
    const problems: string[] = [];
    for (const [name, declared] of Object.entries(response.headers ?? {})) {
      const header = this.resolve(declared);
      const value = observed.headers.get(name);
      if (value === null) {
        if (header.required === true) problems.push(`header ${name} is missing`);
        continue;
      }
      const validate = this.#validator(this.#headers, {
        type: 'object',
        properties: { value: header.schema },
      });
      if (!validate({ value })) problems.push(`header ${name}: ${JSON.stringify(value)} ${errorsOf(validate)}`);
    }
    if (response.content === undefined) {
      if (observed.text !== '')
        problems.push(`no body is documented, got ${JSON.stringify(observed.text.slice(0, 80))}`);
    } else {
      const contentType = observed.headers.get('content-type') ?? '';
      const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
      const media = response.content[mediaType];
      if (media === undefined) {
        problems.push(`content type ${contentType} is not one of ${Object.keys(response.content)}`);
      } else if (!headOnly) {
        const body = mediaType.endsWith('json') ? parseJson(observed.text, problems) : observed.text;
        const validate = this.#validator(this.#bodies, media.schema);
        if (!validate(body)) problems.push(`body ${errorsOf(validate)}: ${observed.text.slice(0, 300)}`);
      }
    }
    expect(problems, label).toEqual([]);
  }

  /** Fails unless `value` is an instance of the component schema `name`. */
  checkSchema(name: string, value: unknown): void {
    const validate = this.#validator(this.#bodies, { $ref: `${COMPONENTS_ID}#/$defs/${name}` });
    expect(validate(value) ? [] : [errorsOf(validate)], `${name}: ${JSON.stringify(value)}`).toEqual([]);
  }

  /** A reusable component in place of its `$ref` (responses and headers; schemas stay refs for ajv). */
  resolve<T>(value: T | Reference): T {
    if (typeof value !== 'object' || value === null || !('$ref' in value)) return value as T;
    const path = value.$ref.replace(/^#\//, '').split('/');
    let target: unknown = this.document;
    for (const key of path) target = (target as Record<string, unknown>)[key];
    expect(target, `${value.$ref} resolves`).toBeDefined();
    return this.resolve(target as T | Reference);
  }

  #validator(ajv: Ajv2020, schema: Schema): ValidateFunction {
    let cache = this.#compiled.get(ajv);
    if (cache === undefined) this.#compiled.set(ajv, (cache = new Map()));
    let validate = cache.get(schema);
    if (validate === undefined) cache.set(schema, (validate = ajv.compile(rewriteRefs(schema) as Schema)));
    return validate;
  }
}

/**
 * A real request, its whole answer read within a deadline. An event stream
 * never ends: its first frame (the `retry:` field and its blank line) is
 * read, then the request is cut.
 */
export async function exchange(base: string, method: string, path: string, init: RequestInit = {}): Promise<Observed> {
  const abort = new AbortController();
  return within(
    `${method} ${path}`,
    EXCHANGE_DEADLINE_MS,
    (async () => {
      const response = await fetch(`${base}${path}`, { ...init, method, redirect: 'manual', signal: abort.signal });
      const isStream = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
      if (!isStream || method === 'HEAD')
        return { status: response.status, headers: response.headers, text: await response.text() };
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let text = '';
      while (!text.includes('\n\n')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      abort.abort();
      const end = text.indexOf('\n\n');
      return { status: response.status, headers: response.headers, text: end === -1 ? text : text.slice(0, end + 2) };
    })(),
  ).finally(() => abort.abort());
}

function withComponents(ajv: Ajv2020): Ajv2020 {
  formats.default(ajv);
  return ajv;
}

/** Copies `value` with every `#/components/schemas/...` ref pointing at the components registered with ajv. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) =>
      key === '$ref' && typeof inner === 'string' && inner.startsWith('#/components/schemas/')
        ? [key, `${COMPONENTS_ID}#/$defs/${inner.slice('#/components/schemas/'.length)}`]
        : [key, rewriteRefs(inner)],
    ),
  );
}

function parseJson(text: string, problems: string[]): unknown {
  try {
    return JSON.parse(text);
  } catch {
    problems.push(`body is not JSON: ${text.slice(0, 80)}`);
    return undefined;
  }
}

function errorsOf(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
}
