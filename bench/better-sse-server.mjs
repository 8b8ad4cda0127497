// @ts-check
// Peer: better-sse on node:http, used as its docs intend. GET /sub creates a
// session and registers it in one Channel; POST /pub broadcasts the posted
// text on that channel, which pushes it to every registered session. The
// event id is the post's seq (not better-sse's default random UUID), like
// every other server in the benchmark.
import http from 'node:http';
import { createChannel, createSession } from 'better-sse';

const channel = createChannel();
let seq = 0;

/**
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 */
async function subscribe(req, res) {
  const session = await createSession(req, res);
  channel.register(session);
}

/**
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 */
function publish(req, res) {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    channel.broadcast(body, 'message', { eventId: String(++seq) });
    res.writeHead(201).end();
  });
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/sub')) {
    subscribe(req, res).catch(() => res.destroy());
    return;
  }
  if (req.method === 'POST' && req.url?.startsWith('/pub')) {
    publish(req, res);
    return;
  }
  res.writeHead(404).end();
});
server.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1', backlog: 4096 }, () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`listening on http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => process.exit(0));
