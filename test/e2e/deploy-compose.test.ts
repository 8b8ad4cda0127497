/**
 * compose.yaml as it would come up (issue 19, point 5). No Docker engine runs
 * where the tests run, so `docker compose up` itself is not run: everything
 * short of it is. The compose file is parsed; nginx's config is rendered as
 * compose mounts it (its certificate made by the same entrypoint script) and
 * checked by a real nginx, then served; the image's healthcheck is run
 * against a real server.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { BlockList } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, SETTINGS } from '../../src/config.js';
import { until, within } from '../support/deadlines.js';
import { freePort } from '../support/ports.js';
import { spawnWallcast } from '../support/process.js';
import { NGINX, withoutNginx } from '../support/services.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Service {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  env_file?: { path: string; required?: boolean }[];
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  networks?: Record<string, { ipv4_address?: string }>;
}
interface Compose {
  services: Record<string, Service>;
  networks?: { default?: { ipam?: { config?: { subnet: string }[] } } };
  volumes?: Record<string, unknown>;
}

const compose = (): Compose => parse(read('compose.yaml')) as Compose;
const wallcasts = (c: Compose) => Object.entries(c.services).filter(([, s]) => s.build === '.');
/** The container's environment: the image's ENV lines, then the service's. */
function imageEnv(): Record<string, string> {
  const block = /^ENV ((?:.*\\\n)*.*)$/m.exec(read('Dockerfile'))?.[1] ?? '';
  return Object.fromEntries([...block.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1] as string, m[2] as string]));
}

/** The local nginx's version, as [major, minor, patch]. */
function nginxVersion(): number[] {
  const out = spawnSync(NGINX, ['-v'], { encoding: 'utf8' }).stderr;
  return (/nginx\/(\d+)\.(\d+)\.(\d+)/.exec(out) ?? []).slice(1).map(Number);
}
const atLeast = (version: number[], wanted: number[]) => {
  for (let i = 0; i < wanted.length; i++) {
    const [have, want] = [version[i] ?? 0, wanted[i] ?? 0];
    if (have !== want) return have > want;
  }
  return true;
};
/** `http2 on` is nginx 1.25.1's; before it, the same thing was `listen … ssl http2`. */
const HTTP2_ON = [1, 25, 1];

interface Rendered {
  dir: string;
  /** The container's file system as far as nginx sees it: the mounts, under `dir/root`. */
  root: string;
  config: string;
  httpPort: number;
  httpsPort: number;
  /** What the entrypoint scripts printed. */
  entrypoint: string;
}

/**
 * nginx's config as `compose.yaml` would give it to nginx: every bind mount
 * copied to its container path under a test root (keeping its mode, which a
 * bind mount keeps too), every named volume an empty folder there, then the
 * image's entrypoint step run (each executable `*.sh` in
 * /docker-entrypoint.d, in order, with the TLS folder pointed into the test
 * root). Then, for a test nginx, only what cannot be the container's: its
 * absolute paths under the root, the upstreams (compose services) on
 * `upstream` instead of their names, the listen ports on loopback, pid and
 * temp paths in the test folder, and on an nginx older than 1.25.1 the HTTP/2
 * line in the older form.
 */
async function renderNginx(c: Compose, upstream: (port: number) => string): Promise<Rendered> {
  const dir = mkdtempSync(join(tmpdir(), 'wallcast-compose-'));
  const root = join(dir, 'root');
  const nginx = c.services.nginx as Service;
  for (const volume of nginx.volumes ?? []) {
    const [source = '', target = ''] = volume.split(':');
    const inRoot = join(root, target);
    if (source.startsWith('./')) {
      mkdirSync(dirname(inRoot), { recursive: true });
      copyFileSync(join(ROOT, source), inRoot);
    } else {
      mkdirSync(inRoot, { recursive: true });
    }
  }
  let entrypoint = '';
  const scripts = join(root, 'docker-entrypoint.d');
  for (const name of existsSync(scripts) ? readdirSync(scripts).sort() : []) {
    const path = join(scripts, name);
    // The image's /docker-entrypoint.sh skips a script that is not executable.
    if (!name.endsWith('.sh') || (statSync(path).mode & 0o111) === 0) continue;
    const run = spawnSync(path, [], {
      env: { ...process.env, WALLCAST_TLS_DIR: join(root, 'etc/nginx/tls') },
      encoding: 'utf8',
    });
    entrypoint += run.stdout + run.stderr;
    expect(run.status, `${name}: ${run.stderr}`).toBe(0);
  }
  const services = new Set(Object.keys(c.services));
  const httpPort = await freePort();
  const httpsPort = await freePort();
  let config = readFileSync(join(root, 'etc/nginx/nginx.conf'), 'utf8')
    .replaceAll(/(?<=[\s"])\/etc\/nginx\//g, `${root}/etc/nginx/`)
    .replaceAll(/server ([\w-]+):(\d+)/g, (line, host: string, port: string) =>
      services.has(host) ? `server ${upstream(Number(port))}` : line,
    )
    .replaceAll(/listen (\d+)([^;]*);/g, (line, port: string, rest: string) => {
      const local = { '80': httpPort, '443': httpsPort }[port];
      return local === undefined ? line : `listen 127.0.0.1:${local}${rest};`;
    })
    .replace(
      /http \{\n/,
      `http {\n${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};\n`).join('')}`,
    );
  if (!atLeast(nginxVersion(), HTTP2_ON)) {
    config = config.replace(/(listen [^;]* ssl);(\s*)http2 on;/, '$1 http2;$2');
  }
  writeFileSync(join(dir, 'nginx.conf'), config);
  return { dir, root, config, httpPort, httpsPort, entrypoint };
}

/** `nginx -t` on a rendered config, with the test folder as its prefix. */
function nginxTest(rendered: Rendered) {
  const { dir } = rendered;
  return spawnSync(
    NGINX,
    ['-t', '-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf'), '-g', `pid ${dir}/nginx.pid;`],
    { encoding: 'utf8' },
  );
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('compose.yaml', () => {
  it('parses, publishes nginx on the ports the README names, and reads the env file the README names', () => {
    const c = compose();
    expect(Object.keys(c.services).sort()).toEqual(['nginx', 'redis', 'wallcast-1', 'wallcast-2', 'wallcast-3']);
    const nginx = c.services.nginx as Service;
    expect(nginx.ports).toEqual(['8080:80', '8443:443']);
    // Only nginx is published: the instances and their metrics stay on the compose network.
    for (const [name, service] of Object.entries(c.services))
      if (name !== 'nginx') expect(service.ports).toBeUndefined();

    const readme = read('README.md');
    const published = new Set(nginx.ports?.map((p) => p.split(':')[0]));
    // Every localhost port that a README section about compose names is one compose publishes.
    const aboutCompose = readme.split(/^(?=##+ )/m).filter((section) => section.includes('compose'));
    for (const section of aboutCompose) {
      for (const [, port] of section.matchAll(/https?:\/\/localhost:(\d+)/g)) expect(published).toContain(port);
    }
    const envFile = /--env-file (\S+)/.exec(readme)?.[1];
    expect(envFile).toBe('wallcast.env');
    for (const [, service] of wallcasts(c)) {
      expect(service.env_file).toEqual([{ path: `./${envFile}`, required: false }]);
    }
    // The example the README tells people to copy, naming only real settings.
    const example = read('deploy/wallcast.env.example');
    const known = new Set(Object.values(SETTINGS).map((s) => s.variable));
    const named = [...example.matchAll(/^#? ?((?:WALLCAST_|PORT\b|HOST\b)\w*)=/gm)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(5);
    for (const variable of named) expect(known, `${variable} in the example`).toContain(variable);
    // Secrets in wallcast.env never reach an image.
    expect(read('.dockerignore')).toMatch(/^\*\*\/\*\.env$/m);
  });

  it('gives every instance nginx as its one trusted proxy and metrics on an unpublished port', () => {
    const c = compose();
    const nginxAddress = (c.services.nginx as Service).networks?.default?.ipv4_address as string;
    const subnet = c.networks?.default?.ipam?.config?.[0]?.subnet as string;
    const [network = '', bits = ''] = subnet.split('/');
    const inSubnet = new BlockList();
    inSubnet.addSubnet(network, Number(bits));
    expect(inSubnet.check(nginxAddress)).toBe(true);
    expect(wallcasts(c)).toHaveLength(3);
    for (const [name, service] of wallcasts(c)) {
      const env = { ...imageEnv(), ...service.environment };
      // The container's settings as the server reads them: valid, and what this deployment needs.
      const config = loadConfig(env, []);
      expect(config.trustProxy, name).toEqual([nginxAddress]);
      expect(config.metricsPort, name).toBe(9464);
      expect(service.expose).toEqual(['9464']);
      expect(config.host).toBe('0.0.0.0');
      // nginx's upstream for this service is on the port the server listens on.
      expect(read('deploy/nginx.conf')).toContain(`server ${name}:${config.port} `);
    }
  });

  it("uses nginx's current HTTP/2 form on an nginx image that knows it and has openssl", () => {
    const nginxConf = read('deploy/nginx.conf');
    expect(nginxConf).toMatch(/^\s*listen 443 ssl;\n\s*http2 on;$/m);
    expect(nginxConf).not.toMatch(/^\s*listen[^;#\n]*\bhttp2\b/m);
    const image = (compose().services.nginx as Service).image as string;
    const [, tag = ''] = image.split(':');
    // A Debian-based tag: the alpine ones have no openssl to make the certificate.
    expect(tag).toMatch(/^\d+\.\d+(\.\d+)?$/);
    expect(atLeast(tag.split('.').map(Number), HTTP2_ON)).toBe(true);
  });

  describe.skipIf(withoutNginx())('with nginx', () => {
    it('renders nginx config as compose mounts it, certificate made at first start, and nginx -t accepts it', async () => {
      const rendered = await renderNginx(compose(), (port) => `127.0.0.1:${port}`);
      dirs.push(rendered.dir);
      const test = nginxTest(rendered);
      expect(test.stderr).toContain('test is successful');
      expect(test.status).toBe(0);
      // The certificate nginx loaded is the one the entrypoint made, for the names browsers check.
      expect(rendered.entrypoint).toContain('made a self-signed certificate');
      const cert = join(rendered.root, 'etc/nginx/tls/wallcast.crt');
      expect(rendered.config).toContain(`ssl_certificate ${cert};`);
      const san = spawnSync('openssl', ['x509', '-in', cert, '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' });
      expect(san.stdout).toContain('DNS:localhost');
    });

    it('keeps a certificate already there (a restart, or the operator’s own) and refuses half a pair', () => {
      const dir = mkdtempSync(join(tmpdir(), 'wallcast-tls-'));
      dirs.push(dir);
      const script = join(ROOT, 'deploy/nginx-certificate.sh');
      const run = () => spawnSync(script, [], { env: { ...process.env, WALLCAST_TLS_DIR: dir }, encoding: 'utf8' });
      expect(run().status).toBe(0);
      const first = readFileSync(join(dir, 'wallcast.crt'), 'utf8');
      const again = run();
      expect(again.status).toBe(0);
      expect(again.stdout).toContain('using the certificate');
      expect(readFileSync(join(dir, 'wallcast.crt'), 'utf8')).toBe(first);
      // The key is for nginx's master (root) alone.
      expect(statSync(join(dir, 'wallcast.key')).mode & 0o077).toBe(0);
      rmSync(join(dir, 'wallcast.key'));
      const half = run();
      expect(half.status).not.toBe(0);
      expect(half.stderr).toContain('not both');
      expect(existsSync(join(dir, 'wallcast.key'))).toBe(false);
    });

    it('serves the instances through that config over HTTP and HTTPS, and answers 404 for /metrics on both', async () => {
      // Metrics on the public port, as an instance without WALLCAST_METRICS_PORT has them: nginx must hide them.
      const instance = await spawnWallcast({ WALLCAST_STORE: 'memory', WALLCAST_TRUST_PROXY: 'loopback' });
      const rendered = await renderNginx(compose(), () => new URL(instance.url).host);
      dirs.push(rendered.dir);
      const { dir } = rendered;
      let nginx: ChildProcess | undefined;
      let nginxExited: Promise<unknown> = Promise.resolve();
      try {
        expect(nginxTest(rendered).status).toBe(0);
        nginx = spawn(
          NGINX,
          [
            '-p',
            dir,
            '-e',
            join(dir, 'error.log'),
            '-c',
            join(dir, 'nginx.conf'),
            '-g',
            `daemon off; pid ${dir}/nginx.pid;`,
          ],
          { stdio: 'inherit' },
        );
        nginxExited = new Promise((resolve) => nginx?.once('exit', resolve));
        const http = `http://127.0.0.1:${rendered.httpPort}`;
        await until('nginx answers', 10_000, async () => (await fetch(`${http}/healthz`).catch(() => null))?.ok);
        expect((await fetch(`${instance.url}/metrics`)).status).toBe(200);
        expect((await fetch(`${http}/metrics`)).status).toBe(404);
        expect((await fetch(`${http}/metrics?x=1`)).status).toBe(404);

        // HTTPS with the made certificate, checked as a browser would once it trusts it.
        const ca = readFileSync(join(rendered.root, 'etc/nginx/tls/wallcast.crt'));
        const get = (path: string) =>
          within(
            `GET ${path} over HTTPS`,
            5000,
            new Promise<number>((resolve, reject) => {
              const req = request({ host: '127.0.0.1', port: rendered.httpsPort, path, ca }, (res) => {
                res.resume();
                resolve(res.statusCode ?? 0);
              });
              req.on('error', reject);
              req.end();
            }),
          );
        expect(await get('/healthz')).toBe(200);
        expect(await get('/metrics')).toBe(404);
      } finally {
        nginx?.kill('SIGQUIT');
        instance.child.kill('SIGTERM');
        await within('the instance stops', 10_000, instance.exited);
        await within('nginx stops', 10_000, nginxExited);
      }
    });
  });
});

describe("the image's healthcheck", () => {
  it('runs deploy/healthcheck.mjs, which the image has', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^HEALTHCHECK [^\n]*\\\n\s+CMD \["node", "deploy\/healthcheck\.mjs"\]$/m);
    expect(dockerfile).toContain('COPY deploy/healthcheck.mjs ./deploy/healthcheck.mjs');
  });

  it('checks /readyz on the port PORT gives, not on 8080', async () => {
    const server = await spawnWallcast({ WALLCAST_STORE: 'memory', HOST: '0.0.0.0' });
    try {
      const port = new URL(server.url).port;
      const check = (env: Record<string, string>) =>
        spawnSync(process.execPath, [join(ROOT, 'deploy/healthcheck.mjs')], {
          env: { ...process.env, HOST: '0.0.0.0', ...env },
          encoding: 'utf8',
          timeout: 10_000,
        });
      expect(check({ PORT: port }).status).toBe(0);
      const elsewhere = check({ PORT: String(await freePort()) });
      expect(elsewhere.status).toBe(1);
      expect(elsewhere.stderr).toContain('ECONNREFUSED');
    } finally {
      server.child.kill('SIGTERM');
      await within('the server stops', 10_000, server.exited);
    }
  });
});
