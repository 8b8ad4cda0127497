/**
 * What `/metrics` tells (Prometheus text, by prom-client): the process's own
 * metrics, what the server counts as it goes, and what the hub and the store
 * are at the moment of the scrape. Nothing here runs per delivery: the hub
 * counts deliveries itself and is read at scrape time, and delivery lag is
 * sampled once per wall per flush.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ErrorCode, UnavailableReason } from './errors.js';
import type { MessageStore } from './store/store.js';
import type { Hub } from './stream/hub.js';

/** Walls given a series of their own (the ones with the most streams): label sets stay bounded. */
const TOP_WALLS = 20;

/** Why a request was refused (the error code, with 503s told apart). */
export type RefusalReason = ErrorCode | UnavailableReason;

export class Metrics {
  readonly registry = new Registry();
  readonly posts = new Counter({ name: 'wallcast_posts_total', help: 'Messages stored.', registers: [this.registry] });
  readonly postsReplayed = new Counter({
    name: 'wallcast_posts_replayed_total',
    help: 'Posts answered with the message an earlier post with their Idempotency-Key stored.',
    registers: [this.registry],
  });
  readonly postsFailed = new Counter({
    name: 'wallcast_posts_failed_total',
    help: 'Posts refused because the store failed.',
    registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: 'wallcast_refusals_total',
    help: 'Requests refused, by reason: every 4xx and 5xx error code, with 503s told apart.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly postSeconds = new Histogram({
    name: 'wallcast_post_duration_seconds',
    help: 'From a post arriving to its answer, for posts that were stored (the store commit included).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly deliveryLagSeconds = new Histogram({
    name: 'wallcast_delivery_lag_seconds',
    help: 'From a message being posted to its write to the streams of its wall: one sample per wall and flush.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly streamsOpened = new Counter({
    name: 'wallcast_streams_opened_total',
    help: 'Event streams opened.',
    registers: [this.registry],
  });
  readonly replays = new Counter({
    name: 'wallcast_replays_total',
    help: 'Walls of streams that resumed from a cursor.',
    registers: [this.registry],
  });
  readonly resets = new Counter({
    name: 'wallcast_resets_total',
    help: 'Resumes answered with a reset.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Gauges named as counters (`_total`), which promtool's lint refuses; the rest of the
    // process and runtime metrics say what these would.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ]) {
      this.registry.removeSingleMetric(name);
    }
  }

  /** Where a scrape's text comes from: this registry, or (in a worker) every worker's, joined by the primary. */
  #source: (() => Promise<string>) | undefined;

  /** The text of a scrape. */
  text(): Promise<string> {
    return this.#source?.() ?? this.registry.metrics();
  }

  /** Scrapes come from `source` from now on (a worker: the primary's aggregate of every worker). */
  gatherFrom(source: () => Promise<string>): void {
    this.#source = source;
  }

  /** The headers of a `/metrics` answer (the content type Prometheus expects). */
  headers(): Record<string, string> {
    return { 'Content-Type': this.registry.contentType };
  }

  refused(reason: RefusalReason): void {
    this.refusals.inc({ reason });
  }

  /** The hub's and the store's state, read at each scrape. */
  observe(hub: Hub, store: MessageStore): void {
    new Gauge({
      name: 'wallcast_subscribers',
      help: 'Open event streams.',
      registers: [this.registry],
      collect() {
        this.set(hub.size);
      },
    });
    new Counter({
      name: 'wallcast_deliveries_total',
      help: 'Live events written to streams (a stream of several walls counts each of its walls).',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(hub.stats().deliveries);
      },
    });
    new Counter({
      name: 'wallcast_stream_writes_total',
      help: 'Writes of live events to streams: fewer than deliveries when events posted close together share a write.',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(hub.stats().writes);
      },
    });
    new Counter({
      name: 'wallcast_slow_client_disconnects_total',
      help: 'Streams closed for falling behind.',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(hub.stats().slowDisconnects);
      },
    });
    new Gauge({
      name: 'wallcast_wall_subscribers',
      help: `Open streams of the ${TOP_WALLS} walls with the most.`,
      labelNames: ['wall'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [wall, count] of hub.busiestWalls(TOP_WALLS)) this.set({ wall }, count);
      },
    });
    new Gauge({
      name: 'wallcast_store_ready',
      help: '1 when the store answers (the same check as /readyz), else 0.',
      // Across workers (one store, asked by each): 1 only when it answers every one of them.
      aggregator: 'min',
      registers: [this.registry],
      async collect() {
        this.set((await store.isReady().catch(() => false)) ? 1 : 0);
      },
    });
  }
}
