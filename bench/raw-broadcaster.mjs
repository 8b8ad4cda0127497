// @ts-check
// The floor: a minimal node:http SSE broadcaster. GET /sub streams; POST /pub
// sends its body to every stream as one pre-encoded Buffer per response.
// No history, no replay, no validation: what any SSE server must at least do.
import http from 'node:http';

/** @type {Set<http.ServerResponse>} */
const clients = new Set();
let seq = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/sub')) {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.write(': hi\n\n');
    clients.add(res);
    res.on('close', () => clients.delete(res));
    return;
  }
  if (req.method === 'POST' && req.url?.startsWith('/pub')) {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const frame = Buffer.from(`id: ${++seq}\ndata: ${body}\n\n`);
      for (const client of clients) client.write(frame);
      res.writeHead(201).end();
    });
    return;
  }
  res.writeHead(404).end();
});
server.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1', backlog: 4096 }, () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`listening on http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => process.exit(0));
