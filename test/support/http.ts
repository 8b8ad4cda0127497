/** JSON over real HTTP, as an API client would send it. */
import { expect } from 'vitest';
import type { Message } from '../../src/message.js';

export async function postJson(
  base: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; headers: Headers }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text), headers: response.headers };
}
export async function getJson(base: string, path: string): Promise<{ status: number; json: any }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, json: await response.json() };
}

/** Posts `body` to `wall` through the JSON API and expects it stored (`201`): the message as answered. */
export async function postMessage(base: string, wall: string, body: string): Promise<Message> {
  const { status, json } = await postJson(base, `/api/walls/${wall}/messages`, { body });
  expect(status).toBe(201);
  return json;
}
