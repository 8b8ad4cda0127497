// wallcast benchmark: the same scenarios against wallcast and, in the same
// run, the baselines (a raw node:http broadcaster and, when installed,
// nginx + nchan). Loopback only, bounded in count and time, stops by itself.
//
//   npm run bench                      # everything, writes BENCHMARKS.md
//   node bench/run.mjs --quick         # fewer subscribers, for a smoke run
import { execFileSync, fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';

const quick = process.argv.includes('--quick');
const SUBSCRIBERS = quick ? 1000 : 10_000;
const BURST_SUBSCRIBERS = quick ? 500 : 2000;
const BURST_POSTS = 500;
const STEADY_RATE = 5;
const STEADY_SECONDS = quick ? 4 : 10;
const REPLAY_BEHIND = 100;
const THROUGHPUT_SECONDS = 3;
const NGINX = '/usr/sbin/nginx';
const NCHAN = '/usr/lib/nginx/modules/ngx_nchan_module.so';
const root = new URL('..', import.meta.url).pathname;
const micros = () => Number(process.hrtime.bigint() / 1000n);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const TICK_MICROS = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

// ---------------------------------------------------------------- processes

/** utime and stime of a process, in µs. */
function cpuTimes(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(fields[11]) * TICK_MICROS, sys: Number(fields[12]) * TICK_MICROS };
}

function cpuMicros(pid) {
  const { user, sys } = cpuTimes(pid);
  return user + sys;
}

function rssBytes(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match[1]) * 1024;
}

async function startProcess(command, args, env = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start: ${out}`)), 15_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}: ${out}`)));
  });
  return { pid: child.pid, url, stop: () => child.kill('SIGKILL') };
}

async function startWallcast(store = 'memory') {
  const server = await startProcess(process.execPath, [join(root, 'dist/main.js')], {
    PORT: '0',
    WALLCAST_STORE: store,
    WALLCAST_HISTORY: '1000',
  });
  return {
    ...server,
    name: 'wallcast',
    subscribePath: '/api/walls/bench/events?backlog=0',
    pattern: '"body":"(\\d+):(\\d+)"',
    post: (agent, body) =>
      request(agent, server.url, '/api/walls/bench/messages', JSON.stringify({ body }), 'application/json'),
  };
}

async function startRaw() {
  const server = await startProcess(process.execPath, [join(root, 'bench/raw-broadcaster.mjs')], { PORT: '0' });
  return {
    ...server,
    name: 'raw node:http',
    subscribePath: '/sub',
    pattern: 'data: (\\d+):(\\d+)',
    post: (agent, body) => request(agent, server.url, '/pub', body, 'text/plain'),
  };
}

async function startNchan() {
  const prefix = mkdtempSync(join(os.tmpdir(), 'wallcast-nchan-'));
  const port = await freePort();
  const conf = readFileSync(join(root, 'bench/nchan.conf'), 'utf8')
    .replaceAll('PREFIX', prefix)
    .replace('127.0.0.1:PORT', `127.0.0.1:${port}`);
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const master = spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  let worker;
  for (let i = 0; i < 100 && worker === undefined; i++) {
    await sleep(50);
    const children = readFileSync(`/proc/${master.pid}/task/${master.pid}/children`, 'utf8').trim();
    if (children) worker = Number(children.split(' ')[0]);
  }
  await sleep(200);
  return {
    pid: worker,
    url,
    name: 'nginx + nchan',
    subscribePath: '/sub/bench',
    pattern: 'data: (\\d+):(\\d+)',
    post: (agent, body) => request(agent, url, '/pub/bench', body, 'text/plain'),
    // SIGTERM: nginx's fast shutdown ends the workers with the master.
    stop: async () => {
      const exited = new Promise((resolve) => master.once('exit', resolve));
      master.kill('SIGTERM');
      await exited;
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

async function freePort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function request(agent, base, path, body, type) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${path}`,
      { method: 'POST', agent, headers: { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------- load generator

function startLoadgen() {
  const child = fork(join(root, 'bench/loadgen.mjs'), [], { stdio: 'inherit' });
  let next = 0;
  const waiting = new Map();
  child.on('message', ({ id, result, error }) => {
    const entry = waiting.get(id);
    waiting.delete(id);
    if (error) entry.reject(new Error(error));
    else entry.resolve(result);
  });
  return {
    pid: child.pid,
    call: (cmd, args) =>
      new Promise((resolve, reject) => {
        const id = next++;
        waiting.set(id, { resolve, reject });
        child.send({ id, cmd, args });
      }),
    stop: () => child.kill(),
  };
}

const targetOf = (server) => {
  const url = new URL(server.url);
  return { host: url.hostname, port: Number(url.port), path: server.subscribePath, pattern: server.pattern };
};

// ---------------------------------------------------------------- scenarios

async function idleAndSteady(server, loadgen, agent) {
  const rssBefore = rssBytes(server.pid);
  const connected = await loadgen.call('connect', { target: targetOf(server), count: SUBSCRIBERS });
  await sleep(1500);
  const rssAfter = rssBytes(server.pid);
  const idle = { open: connected.open, bytesPerConnection: (rssAfter - rssBefore) / SUBSCRIBERS };

  await loadgen.call('reset');
  const before = cpuTimes(server.pid);
  const posts = STEADY_RATE * STEADY_SECONDS;
  const started = micros();
  for (let i = 0; i < posts; i++) {
    const due = started + (i * 1e6) / STEADY_RATE;
    const wait = due - micros();
    if (wait > 0) await sleep(wait / 1000);
    await server.post(agent, `${i}:${micros()}`);
  }
  await loadgen.call('drain', { expected: posts, timeoutMs: 10_000 });
  const after = cpuTimes(server.pid);
  const stats = await loadgen.call('stats', { expected: posts });
  await loadgen.call('close');
  const per = (micros) => micros / Math.max(1, stats.delivered);
  return {
    idle,
    steady: {
      ...stats,
      posts,
      cpuPerDelivery: per(after.user + after.sys - before.user - before.sys),
      userPerDelivery: per(after.user - before.user),
      sysPerDelivery: per(after.sys - before.sys),
    },
  };
}

async function burst(server, loadgen, agent) {
  await loadgen.call('connect', { target: targetOf(server), count: BURST_SUBSCRIBERS });
  await sleep(500);
  await loadgen.call('reset');
  const cpuBefore = cpuMicros(server.pid);
  const started = micros();
  let seq = 0;
  const posters = Array.from({ length: 8 }, async () => {
    while (seq < BURST_POSTS) {
      const i = seq++;
      await server.post(agent, `${i}:${micros()}`);
    }
  });
  await Promise.all(posters);
  const { lastReceiveMicros } = await loadgen.call('drain', { expected: BURST_POSTS, timeoutMs: 30_000 });
  const cpu = cpuMicros(server.pid) - cpuBefore;
  const stats = await loadgen.call('stats', { expected: BURST_POSTS });
  await loadgen.call('close');
  const seconds = (lastReceiveMicros - started) / 1e6;
  return { ...stats, seconds, deliveriesPerSecond: stats.delivered / seconds, cpuPerDelivery: cpu / stats.delivered };
}

async function replayStorm(loadgen, agent) {
  const server = await startWallcast();
  try {
    const marker = JSON.parse((await server.post(agent, `-1:${micros()}`)).text);
    for (let i = 0; i < REPLAY_BEHIND; i++) await server.post(agent, `${i}:${micros()}`);
    const target = { ...targetOf(server), headers: { 'Last-Event-ID': marker.cursor } };
    const cpuBefore = cpuMicros(server.pid);
    const { open, startedMicros } = await loadgen.call('storm', { target, count: SUBSCRIBERS });
    const { lastReceiveMicros } = await loadgen.call('drain', { expected: REPLAY_BEHIND, timeoutMs: 30_000 });
    const stats = await loadgen.call('stats', { expected: REPLAY_BEHIND });
    const cpu = cpuMicros(server.pid) - cpuBefore;
    await loadgen.call('close');
    return { open, ...stats, seconds: (lastReceiveMicros - startedMicros) / 1e6, cpuSeconds: cpu / 1e6 };
  } finally {
    server.stop();
  }
}

async function postThroughput(server, agent) {
  const end = Date.now() + THROUGHPUT_SECONDS * 1000;
  let accepted = 0;
  let refused = 0;
  const started = micros();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (Date.now() < end) {
        const { status } = await server.post(agent, `0:${micros()}`);
        if (status === 201) accepted++;
        else refused++;
      }
    }),
  );
  return { postsPerSecond: accepted / ((micros() - started) / 1e6), refused };
}

// ---------------------------------------------------------------- main

const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const ms = (us) => fmt(us / 1000, 1);

async function main() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const loadgen = startLoadgen();
  const haveNchan = existsSync(NGINX) && existsSync(NCHAN);
  const starters = [['wallcast', startWallcast], ['raw', startRaw], ...(haveNchan ? [['nchan', startNchan]] : [])];
  const results = {};
  try {
    for (const [key, start] of starters) {
      const server = await start();
      try {
        console.log(`bench: ${server.name}: idle + steady (${SUBSCRIBERS} subscribers)`);
        const { idle, steady } = await idleAndSteady(server, loadgen, agent);
        console.log(`bench: ${server.name}: burst (${BURST_SUBSCRIBERS} subscribers × ${BURST_POSTS} posts)`);
        const burstResult = await burst(server, loadgen, agent);
        results[key] = { name: server.name, idle, steady, burst: burstResult };
      } finally {
        await server.stop();
        await sleep(300);
      }
    }
    console.log(`bench: wallcast: replay storm (${SUBSCRIBERS} × ${REPLAY_BEHIND} behind)`);
    results.replay = await replayStorm(loadgen, agent);

    console.log('bench: post throughput');
    const dir = mkdtempSync(join(os.tmpdir(), 'wallcast-bench-'));
    const stores = [
      ['memory', 'memory'],
      ['sqlite', `sqlite:${join(dir, 'bench.db')}`],
      ['redis', `redis://127.0.0.1:6379/0?prefix=wallcast-bench-${process.pid}:`],
    ];
    results.throughput = {};
    const raw = await startRaw();
    results.throughput.raw = await postThroughput(raw, agent);
    raw.stop();
    for (const [name, store] of stores) {
      const server = await startWallcast(store).catch((error) => ({ error }));
      if (server.error) {
        results.throughput[name] = { error: String(server.error.message).split('\n')[0] };
        continue;
      }
      results.throughput[name] = await postThroughput(server, agent);
      server.stop();
    }
    rmSync(dir, { recursive: true, force: true });
    try {
      execFileSync(
        'sh',
        ['-c', `redis-cli --scan --pattern 'wallcast-bench-${process.pid}:*' | xargs -r redis-cli del`],
        {
          stdio: 'ignore',
        },
      );
    } catch {}
  } finally {
    loadgen.stop();
    agent.destroy();
  }
  const report = render(results, haveNchan);
  console.log(report);
  if (!quick) writeFileSync(join(root, 'BENCHMARKS.md'), report);
}

function render(r, haveNchan) {
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const nginxVersion = existsSync(NGINX)
    ? spawnSync(NGINX, ['-v'], { encoding: 'utf8' }).stderr.trim() + (haveNchan ? ' with nchan' : '')
    : 'no nginx';
  const w = r.wallcast;
  const baseline = haveNchan ? r.nchan : r.raw;
  const servers = ['wallcast', 'raw', ...(haveNchan ? ['nchan'] : [])].map((k) => r[k]);
  const row = (cells) => `| ${cells.join(' | ')} |`;
  const lines = [];
  lines.push('# Benchmarks', '');
  lines.push(
    `Measured ${new Date().toISOString()} with \`npm run bench\` on ${os.cpus().length} × ${cpuModel}, ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${nginxVersion.replace(/^nginx version: /, '')}.`,
  );
  lines.push(
    'All servers ran one after another in the same run; ratios compare numbers from this run only.',
    'The machine is shared and noisy: compare ratios, not absolute numbers, across runs.',
    '',
  );
  lines.push('## Fan-out', '');
  lines.push(
    row([
      'server',
      'bytes/event',
      'steady CPU µs/delivery',
      'steady p50 / p99 / max ms',
      'steady lost / dup / dropped',
      'burst deliveries/s',
      'burst CPU µs/delivery',
      'burst lost / dup / dropped',
      'idle KB/conn',
    ]),
  );
  lines.push(row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const s of servers) {
    lines.push(
      row([
        s.name,
        fmt(s.steady.bytes / Math.max(1, s.steady.delivered), 0),
        fmt(s.steady.cpuPerDelivery, 2),
        `${ms(s.steady.p50)} / ${ms(s.steady.p99)} / ${ms(s.steady.max)}`,
        `${s.steady.lost} / ${s.steady.dups} / ${s.steady.closed}`,
        fmt(s.burst.deliveriesPerSecond, 0),
        fmt(s.burst.cpuPerDelivery, 2),
        `${s.burst.lost} / ${s.burst.dups} / ${s.burst.closed}`,
        fmt(s.idle.bytesPerConnection / 1024, 1),
      ]),
    );
  }
  lines.push(
    '',
    `steady: ${SUBSCRIBERS} subscribers, ${STEADY_RATE} posts/s for ${STEADY_SECONDS} s. ` +
      `burst: ${BURST_SUBSCRIBERS} subscribers, ${BURST_POSTS} posts from 8 concurrent posters, as fast as accepted. ` +
      `idle: RSS growth of the server process over ${SUBSCRIBERS} idle streams. CPU: utime+stime of the server process ` +
      '(the nginx worker for nchan) over the scenario, divided by events delivered. bytes/event: what a ' +
      'subscriber received per event (wallcast sends the whole message JSON with its HTML; the baselines send ' +
      'only the posted text).',
    '',
  );
  const ratio = (a, b) => (b > 0 ? a / b : Number.NaN);
  const targets = [
    [
      'steady CPU per delivery ≤ 1.0× baseline',
      ratio(w.steady.cpuPerDelivery, baseline.steady.cpuPerDelivery),
      (x) => x <= 1.0,
    ],
    ['steady p99 latency ≤ baseline', ratio(w.steady.p99, baseline.steady.p99), (x) => x <= 1.0],
    ['steady: 0 lost, 0 duplicated, 0 dropped', w.steady.lost + w.steady.dups + w.steady.closed, (x) => x === 0],
    ['burst: 0 lost, 0 duplicated, 0 dropped', w.burst.lost + w.burst.dups + w.burst.closed, (x) => x === 0],
    [
      'burst deliveries/s ≥ 2× baseline',
      ratio(w.burst.deliveriesPerSecond, baseline.burst.deliveriesPerSecond),
      (x) => x >= 2,
    ],
    ['idle memory ≤ 12 KB per connection', w.idle.bytesPerConnection / 1024, (x) => x <= 12],
    [`replay storm: all ${SUBSCRIBERS} caught up within 3 s`, r.replay.seconds, (x) => x <= 3],
    ['replay storm: 0 lost, 0 duplicated, 0 dropped', r.replay.lost + r.replay.dups + r.replay.closed, (x) => x === 0],
  ];
  lines.push(`## Targets (baseline: ${baseline.name})`, '');
  lines.push(row(['target', 'measured', 'met']), row(['---', '---:', ':---:']));
  for (const [name, value, ok] of targets) lines.push(row([name, fmt(value, 2), ok(value) ? 'yes' : '**no**']));
  lines.push(
    '',
    'Ratios are wallcast / baseline. Against the raw node:http broadcaster (the floor for a Node server): ' +
      `steady CPU ${fmt(ratio(w.steady.cpuPerDelivery, r.raw.steady.cpuPerDelivery), 2)}×, ` +
      `burst deliveries/s ${fmt(ratio(w.burst.deliveriesPerSecond, r.raw.burst.deliveriesPerSecond), 2)}×.`,
    '',
  );
  lines.push('## Where the time goes (steady)', '');
  lines.push(row(['server', 'user µs/delivery', 'kernel µs/delivery']), row(['---', '---:', '---:']));
  for (const s of servers) lines.push(row([s.name, fmt(s.steady.userPerDelivery, 2), fmt(s.steady.sysPerDelivery, 2)]));
  lines.push(
    '',
    'Most of each delivery is the kernel: one write(2) per subscriber per event, which on loopback also runs the ' +
      "receiver's TCP input and wake-up. A --cpu-prof of wallcast in the burst scenario puts 58% of samples in " +
      'writeBuffer (that syscall) and about 10% in JavaScript: no JavaScript change can move steady much further, ' +
      'and coalescing (the burst column) is the only way below one syscall per event.',
    '',
  );
  lines.push('## Replay storm', '');
  lines.push(
    `${r.replay.open} of ${SUBSCRIBERS} clients connected at once with a Last-Event-ID ${REPLAY_BEHIND} messages behind: ` +
      `all caught up in ${fmt(r.replay.seconds, 2)} s, ${r.replay.delivered} events delivered, ${r.replay.lost} lost, ` +
      `${r.replay.dups} duplicated, ${fmt(r.replay.cpuSeconds, 2)} s of server CPU.`,
    '',
  );
  lines.push('## Post throughput (no subscribers)', '');
  lines.push(row(['server / store', 'posts/s', 'ratio to raw']), row(['---', '---:', '---:']));
  for (const [name, t] of Object.entries(r.throughput)) {
    lines.push(
      row([
        name === 'raw' ? 'raw node:http (no store)' : `wallcast ${name}`,
        t.error ? t.error : fmt(t.postsPerSecond, 0),
        t.error ? '' : fmt(ratio(t.postsPerSecond, r.throughput.raw.postsPerSecond), 2),
      ]),
    );
  }
  lines.push(
    '',
    '32 concurrent keep-alive posters for 3 s. SQLite commits with synchronous=FULL (group commit); Redis is the local server.',
    '',
  );
  return `${lines.join('\n')}\n`;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
