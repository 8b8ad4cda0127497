/**
 * A real nginx running deploy/nginx.conf in front of instances the suite
 * started: the file's upstream servers, listen addresses, certificate paths
 * and temporary directories swapped for the test's, nothing else. Started
 * and stopped by the suite, by pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './deadlines.js';
import { freePort } from './ports.js';
import { NGINX } from './services.js';
import { selfSignedCertificate } from './tls.js';

export class OwnNginx {
  private constructor(
    private readonly process: ChildProcess,
    private readonly dir: string,
    /** Plain HTTP. */
    readonly url: string,
    /** HTTPS with HTTP/2 (a self-signed certificate). */
    readonly tlsUrl: string,
  ) {}

  /** nginx in front of `upstreams` (`host:port` each), once it answers `/healthz` through them. */
  static async start(upstreams: string[]): Promise<OwnNginx> {
    const dir = mkdtempSync(join(tmpdir(), 'wallcast-nginx-'));
    const port = await freePort();
    const tlsPort = await freePort();
    const { cert, key } = selfSignedCertificate(dir);
    const servers = upstreams.map((host) => `    server ${host} max_fails=1 fail_timeout=2s;`).join('\n');
    const config = readFileSync(new URL('../../deploy/nginx.conf', import.meta.url), 'utf8')
      .replace(/( {4}server wallcast-\d:8080[^\n]*\n)+/, `${servers}\n`)
      .replace('listen 80;', `listen 127.0.0.1:${port};`)
      // Debian 12's nginx (1.22) predates `http2 on` (1.25.1): the older form of the same.
      .replace(/listen 443 ssl;(\s*)http2 on;/, `listen 127.0.0.1:${tlsPort} ssl http2;$1`)
      .replace('/etc/nginx/tls/wallcast.crt', cert)
      .replace('/etc/nginx/tls/wallcast.key', key)
      .replace('worker_processes auto;', `worker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;`)
      .replace(
        'access_log off;',
        `access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n  fastcgi_temp_path ${dir}/fastcgi;\n  uwsgi_temp_path ${dir}/uwsgi;\n  scgi_temp_path ${dir}/scgi;`,
      );
    for (const expected of [`listen 127.0.0.1:${port};`, `listen 127.0.0.1:${tlsPort} ssl http2;`, servers]) {
      if (!config.includes(expected))
        throw new Error(`deploy/nginx.conf changed: the test's "${expected}" is not in it`);
    }
    mkdirSync(join(dir, 'logs'), { recursive: true });
    writeFileSync(join(dir, 'nginx.conf'), config);
    const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'inherit' });
    const nginx = new OwnNginx(child, dir, `http://127.0.0.1:${port}`, `https://127.0.0.1:${tlsPort}`);
    await until('nginx answers', 10_000, async () => (await fetch(`${nginx.url}/healthz`).catch(() => null))?.ok);
    return nginx;
  }

  /** Fast shutdown (SIGTERM): a graceful one would wait for every open stream. */
  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    if (this.process.exitCode === null) this.process.kill('SIGTERM');
    await exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
