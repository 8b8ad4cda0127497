// @ts-check
// The image's HEALTHCHECK: exit 0 when this container's server answers
// /readyz with 200, 1 otherwise. Its port, address and scheme come from the
// same settings the server read (PORT, HOST, WALLCAST_TLS_CERT), through the
// server's own config.js: a container run with PORT=9000 is checked on 9000.
// test/e2e/deploy-compose.test.ts runs it against a real server.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { loadConfig } from '../dist/config.js';

/** Inside the HEALTHCHECK's --timeout=3s, so a hung server is "unhealthy", not "timed out". */
const TIMEOUT_MS = 2500;

const config = loadConfig(process.env, []);
// A server on every address is reached on loopback; one on a single address, there.
const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
const request = config.tlsCert === undefined ? httpRequest : httpsRequest;
// Its own certificate may be for a public name, or self-signed: this checks liveness, not TLS.
const req = request({ host, port: config.port, path: '/readyz', timeout: TIMEOUT_MS, rejectUnauthorized: false }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error(`no answer in ${TIMEOUT_MS} ms`)));
req.on('error', (error) => {
  console.error(`healthcheck: ${host}:${config.port}/readyz: ${error.message}`);
  process.exit(1);
});
req.end();
