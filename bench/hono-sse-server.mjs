// @ts-check
// Peer: Hono's own SSE helper (`streamSSE` from hono/streaming) on
// @hono/node-server. GET /sub opens a stream and keeps its writer in a Set
// until the client goes away; POST /pub writes the posted text with
// `writeSSE` to every writer, with the post's seq as the event id.
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';

/** @typedef {Parameters<Parameters<typeof streamSSE>[1]>[0]} SSEStream */

/** @type {Set<SSEStream>} */
const writers = new Set();
let seq = 0;
const app = new Hono();

app.get('/sub', (c) =>
  streamSSE(c, async (stream) => {
    // node-server sends the head with the first chunk: a comment opens the stream at once.
    await stream.write(': hi\n\n');
    writers.add(stream);
    // Returning ends the stream: hold it open until the client aborts it.
    await new Promise((resolve) => stream.onAbort(() => resolve(undefined)));
    writers.delete(stream);
  }),
);

app.post('/pub', async (c) => {
  const body = await c.req.text();
  const id = String(++seq);
  // Not awaited one by one: a slow stream must not hold up the others.
  for (const stream of writers) stream.writeSSE({ data: body, id });
  return c.body(null, 201);
});

// The same listen backlog as wallcast and the raw broadcaster: connects come in batches of hundreds.
const server = createAdaptorServer({ fetch: app.fetch });
server.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1', backlog: 4096 }, () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`listening on http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => process.exit(0));
