// The server's metrics, served at /metrics in the Prometheus text format (prom-client;
// docs/http-api.md lists them). Three sources:
//
//   requests     every answer, by route class, method and status; its body bytes and
//                its latency (server.ts reports each one, where it writes the access log)
//   operations   deploy, sync, promote and gc, counted and timed by outcome: the API's
//                core (a LocalTxrepo) is wrapped here, so the lower layers know nothing
//   the catalog  repos, snapshots, live sets, the store's size: read when scraped, cached
//                for a moment
//
// With `serve --workers N` every worker counts its own requests; a scrape, whichever
// worker takes it, asks the supervising process to gather every worker's metrics and
// add them up (gatherWorkerMetrics), so it sees the whole server.

import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { kindOf, typeOf } from '../common/index.ts';
import type { LocalTxrepo } from '../core/index.ts';
import type { Catalog, CatalogCounts } from '../store/index.ts';

/**
 * What a request asked for, as a label: a few fixed values, never the path itself
 * (paths are the client's to choose; a label value per path would let anyone grow the
 * server's memory and every scrape without bound).
 */
export type RouteClass = 'root' | 'yum' | 'api' | 'ui' | 'metrics' | 'other' | 'invalid';

/** The class of a request by its path's segments; undefined: a path the server refused to read. */
export function routeClass(segments: string[] | undefined): RouteClass {
  if (segments === undefined) return 'invalid';
  if (segments.length === 0) return 'root';
  const [first] = segments;
  if (first === 'api' && segments[1] === 'v1') return 'api';
  if (first === 'repos' || first === 'sets' || first === 'keys') return 'yum';
  if (first === 'ui') return 'ui';
  if (isMetricsPath(segments)) return 'metrics';
  return 'other';
}

/** Whether a path is /metrics. */
export const isMetricsPath = (segments: string[]) => segments.length === 1 && segments[0] === 'metrics';

/** Methods kept as label values; any other (Node parses a few dozen) is 'other'. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The operations counted and timed: the Txrepo methods of the API that change the store at length. */
const OPERATIONS = ['deploy', 'sync', 'promote', 'gc'] as const;
type Operation = (typeof OPERATIONS)[number];

/** How long the catalog's counts are reused: a scrape every few seconds costs the catalog one read of them. */
const COUNTS_TTL_MS = 10_000;
/** How long the store's size is reused: the catalog scans every page entry for it. */
const SIZE_TTL_MS = 60_000;

const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const OPERATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800, 3600];

/** What gc's removals are counted in (the `what` label). */
const GC_REMOVED = ['snapshots', 'blobs', 'bytes'] as const;

/** The gauges of the last gc: with several workers, those of the worker that ran one last. */
const GC_LAST = 'txrepo_gc_last_';

/** A registry's metrics as JSON: what workers send their supervisor to add up. */
type Metrics = MetricObjectWithValues<MetricValue<string>>[];

/** One request, as the metrics count it. */
export interface RequestSample {
  route: RouteClass;
  method: string;
  status: number;
  /** Bytes of the response body sent. */
  bytes: number;
  seconds: number;
  /** Answered by the fast lane (fast-lane.ts), not node:http. */
  fastLane?: boolean;
}

export interface Scrape {
  contentType: string;
  text: string;
}

/** The catalog's counts, as last read: Catalog.counts, and the sets live now. */
interface Counts extends CatalogCounts {
  liveSets: number;
}

/**
 * A read of the catalog, reused for `ttlMs`; forgotten when it fails, and when this
 * process changed the store (a change made here shows at the next scrape).
 */
class CachedRead<T> {
  private readonly read: () => Promise<T>;
  private readonly ttlMs: number;
  private last?: { at: number; value: Promise<T> };
  constructor(read: () => Promise<T>, ttlMs: number) {
    this.read = read;
    this.ttlMs = ttlMs;
  }

  get(): Promise<T> {
    const now = Date.now();
    if (this.last && now - this.last.at < this.ttlMs) return this.last.value;
    const value = this.read();
    this.last = { at: now, value };
    value.catch(() => {
      if (this.last?.value === value) this.last = undefined;
    });
    return value;
  }

  forget(): void {
    this.last = undefined;
  }
}

/**
 * The process's own metrics (CPU, memory, event loop, ...): one registry a process,
 * however many servers it runs (tests run several), since they describe the process.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class ServerMetrics {
  private readonly registry = new Registry();
  private readonly requests = new Counter({ name: 'txrepo_http_requests_total', help: 'HTTP requests answered, by route class, method and status', labelNames: ['route', 'method', 'status'], registers: [this.registry] });
  private readonly bytes = new Counter({ name: 'txrepo_http_response_bytes_total', help: 'Bytes of response bodies sent, by route class', labelNames: ['route'], registers: [this.registry] });
  private readonly fastLane = new Counter({ name: 'txrepo_http_fast_lane_requests_total', help: 'Requests of txrepo_http_requests_total that the fast lane answered (plain GETs of small local files)', registers: [this.registry] });
  private readonly latency = new Histogram({ name: 'txrepo_http_request_duration_seconds', help: 'Time from a request to its answer, by route class', labelNames: ['route'], buckets: REQUEST_BUCKETS, registers: [this.registry] });
  private readonly operations = new Counter({ name: 'txrepo_operations_total', help: "Operations this server ran for its clients (deploy, sync, promote, gc; gc's dry runs not counted), by outcome: ok or the failure's type", labelNames: ['operation', 'outcome'], registers: [this.registry] });
  private readonly operationTime = new Histogram({ name: 'txrepo_operation_duration_seconds', help: 'How long the operations took, by outcome', labelNames: ['operation', 'outcome'], buckets: OPERATION_BUCKETS, registers: [this.registry] });
  private readonly gcRemoved = new Counter({ name: 'txrepo_gc_removed_total', help: "What this server's gc runs removed: snapshots, blobs, bytes (of blobs)", labelNames: ['what'], registers: [this.registry] });
  private readonly gcLast = {
    at: new Gauge({ name: `${GC_LAST}run_timestamp_seconds`, help: 'When the last gc this server ran finished (Unix time)', registers: [this.registry], aggregator: 'first' }),
    removed: new Gauge({ name: `${GC_LAST}removed`, help: 'What the last gc this server ran removed: snapshots, blobs, bytes', labelNames: ['what'], registers: [this.registry], aggregator: 'first' }),
  };
  /** request()'s series by route class, method and status: a fixed, small set (routeClass, METHODS, statuses). */
  private readonly series = new Map<string, { requests: { inc(v?: number): void }; bytes: { inc(v?: number): void }; latency: { observe(v: number): void } }>();
  private readonly counts: CachedRead<Counts>;
  private readonly size: CachedRead<{ count: number; bytes: number }>;

  constructor(catalog: Catalog) {
    this.counts = new CachedRead(() => readCounts(catalog), COUNTS_TTL_MS);
    this.size = new CachedRead(() => catalog.storedPackages(), SIZE_TTL_MS);
    this.catalogGauges();
    // Series that exist from the start: a first deploy or gc is an increase from 0 to
    // Prometheus's rate() and increase(), not a series that appears from nowhere.
    for (const operation of OPERATIONS) this.operations.inc({ operation, outcome: 'ok' }, 0);
    for (const what of GC_REMOVED) this.gcRemoved.inc({ what }, 0);
    if (cluster.isWorker) this.answerSupervisor();
  }

  /** Counts one answered request. */
  request(r: RequestSample): void {
    const method = METHODS.has(r.method) ? r.method : 'other';
    // The series of a route class, method and status, looked up once: prom-client
    // hashes a label object on every call, a few microseconds a request.
    const key = `${r.route} ${method} ${r.status}`;
    let series = this.series.get(key);
    if (!series) {
      series = { requests: this.requests.labels(r.route, method, String(r.status)), bytes: this.bytes.labels(r.route), latency: this.latency.labels(r.route) };
      this.series.set(key, series);
    }
    series.requests.inc();
    if (r.bytes > 0) series.bytes.inc(r.bytes);
    series.latency.observe(r.seconds);
    if (r.fastLane) this.fastLane.inc();
    // A change made here shows at the next scrape, not a TTL later.
    if (r.route === 'api' && method !== 'GET' && method !== 'HEAD') {
      this.counts.forget();
      this.size.forget();
    }
  }

  /** `tx` with its long operations counted and timed (and gc's removals added up). */
  instrument(tx: LocalTxrepo): LocalTxrepo {
    const timed = Object.create(tx) as LocalTxrepo;
    timed.deploy = (r, progress) => this.time('deploy', () => tx.deploy(r, progress));
    timed.sync = (r, progress) => this.time('sync', () => tx.sync(r, progress));
    timed.promote = (r) => this.time('promote', () => tx.promote(r));
    timed.gc = async (r) => {
      // A dry run removes nothing: it is a question, not a gc.
      if (r.dryRun) return tx.gc(r);
      const report = await this.time('gc', () => tx.gc(r));
      const removed: Record<(typeof GC_REMOVED)[number], number> = { snapshots: report.snapshots.length, blobs: report.blobs, bytes: report.bytes };
      for (const [what, n] of Object.entries(removed)) {
        this.gcRemoved.inc({ what }, n);
        this.gcLast.removed.set({ what }, n);
      }
      this.gcLast.at.set(Date.now() / 1000);
      return report;
    };
    return timed;
  }

  private async time<T>(operation: Operation, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await run();
    } catch (e) {
      outcome = typeOf(kindOf(e));
      throw e;
    } finally {
      const labels = { operation, outcome };
      this.operations.inc(labels);
      this.operationTime.observe(labels, (performance.now() - started) / 1000);
    }
  }

  /** The gauges read from the catalog when scraped; every worker reads the same catalog, so one worker's figures stand for all. */
  private catalogGauges(): void {
    const gauge = <T>(name: string, help: string, read: CachedRead<T>, pick: (f: T) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        aggregator: 'first',
        collect: async () => {
          // A catalog that cannot be read leaves the last figures, and says so in txrepo_catalog_up.
          const f = await read.get().catch(() => undefined);
          if (f) (this.registry.getSingleMetric(name) as Gauge).set(pick(f));
        },
      });
    gauge('txrepo_repos', 'Repositories', this.counts, (f) => f.repos);
    gauge('txrepo_snapshots', 'Snapshots, of all repositories', this.counts, (f) => f.snapshots);
    gauge('txrepo_latest_packages', "Packages in the repositories' latest snapshots, added up", this.counts, (f) => f.packagesInLatest);
    gauge('txrepo_sets', 'Sets, live or not (released and expired ones until gc)', this.counts, (f) => f.sets);
    gauge('txrepo_sets_live', 'Sets whose lease holds now (they keep their snapshots from gc)', this.counts, (f) => f.liveSets);
    gauge('txrepo_store_packages', 'Packages the store holds for its snapshots, each counted once', this.size, (f) => f.count);
    gauge('txrepo_store_package_bytes', 'Bytes of those packages (the bulk of the blob store)', this.size, (f) => f.bytes);
    new Gauge({
      name: 'txrepo_catalog_up',
      help: "Whether the last read of the catalog's figures worked (1) or not (0)",
      registers: [this.registry],
      aggregator: 'min',
      collect: async () => {
        const ok = await Promise.all([this.counts.get(), this.size.get()]).then(() => 1, () => 0);
        (this.registry.getSingleMetric('txrepo_catalog_up') as Gauge).set(ok);
      },
    });
  }

  /** This process's metrics, as JSON for the supervisor to add up (with those of the other workers). */
  async asJson(): Promise<Metrics> {
    return [...(await processMetrics().getMetricsAsJSON()), ...(await this.registry.getMetricsAsJSON())];
  }

  /** What /metrics answers: this process's metrics, or with workers, the whole server's. */
  async scrape(): Promise<Scrape> {
    const text = cluster.isWorker ? await askSupervisor() : await Registry.merge([processMetrics(), this.registry]).metrics();
    return { contentType: this.registry.contentType, text: asExposition(text) };
  }

  /** In a worker: answers the supervisor's requests for this process's metrics. */
  private answerSupervisor(): void {
    process.on('message', (m: { type?: string; id?: number }) => {
      if (m?.type !== GATHER) return;
      this.asJson().then(
        (metrics) => process.send?.({ type: GATHERED, id: m.id, metrics }),
        (e: Error) => process.send?.({ type: GATHERED, id: m.id, error: e.message }),
      );
    });
    // A worker still starting (or one replaced) is not waited for: it has counted nothing yet.
    process.send?.({ type: COUNTING });
  }
}

/**
 * prom-client's text as the format (0.0.4) has it: NaN spelled so (prom-client writes
 * "Nan", which Prometheus reads but stricter parsers refuse), and a line feed at the end
 * of the last line too.
 */
function asExposition(text: string): string {
  const spelled = text.replace(/ Nan$/gm, ' NaN');
  return spelled.endsWith('\n') ? spelled : spelled + '\n';
}

async function readCounts(catalog: Catalog): Promise<Counts> {
  // Sets are few (one per test run, until gc): listing the live ones is cheap.
  const [counts, live] = await Promise.all([catalog.counts(), catalog.listSets({ liveAt: new Date().toISOString() })]);
  return { ...counts, liveSets: live.length };
}

// The messages between workers and their supervisor (node:cluster's IPC channel).
const SCRAPE = 'txrepo:metrics-scrape'; // worker → supervisor: a client asks for /metrics
const SCRAPED = 'txrepo:metrics-scraped'; // supervisor → worker: the whole server's text
const COUNTING = 'txrepo:metrics-counting'; // worker → supervisor: it counts (its server is made)
const GATHER = 'txrepo:metrics-gather'; // supervisor → every worker that counts: your metrics, please
const GATHERED = 'txrepo:metrics-gathered'; // worker → supervisor: its metrics as JSON

/** How long a scrape waits for the workers; one stuck longer fails the scrape (a sum without it would look like a reset). */
const GATHER_TIMEOUT_MS = 5000;

let scrapes = 0;

/** In a worker: the whole server's metrics, from the supervisor. */
function askSupervisor(): Promise<string> {
  const id = scrapes++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error('the server processes did not report their metrics in time')), GATHER_TIMEOUT_MS + 1000);
    const onMessage = (m: { type?: string; id?: number; text?: string; error?: string }) => {
      if (m?.type === SCRAPED && m.id === id) done(m.error === undefined ? undefined : new Error(m.error), m.text);
    };
    function done(error?: Error, text?: string) {
      clearTimeout(timer);
      process.off('message', onMessage);
      if (error) reject(error);
      else resolve(text ?? '');
    }
    process.on('message', onMessage);
    process.send?.({ type: SCRAPE, id });
  });
}

/**
 * In the supervisor of `serve --workers N`: answers a worker's scrape with every
 * worker's metrics added up (counters and histograms summed; the catalog's gauges,
 * the same in every worker, taken once; the last gc's, from the worker that ran it).
 */
export function gatherWorkerMetrics(): void {
  const counting = new Set<Worker>();
  const gathers = new Set<Gather>();
  cluster.on('exit', (worker) => {
    counting.delete(worker);
    // Its counts are gone with it (to Prometheus, a reset): the others' still add up.
    for (const g of gathers) g.answered(worker);
  });
  cluster.on('message', (worker, m: WorkerMessage) => {
    if (m?.type === COUNTING) counting.add(worker);
    else if (m?.type === GATHERED) for (const g of gathers) g.answered(worker, m);
    else if (m?.type === SCRAPE) {
      const reply = (answer: { text?: string; error?: string }) => {
        if (worker.isConnected()) worker.send({ type: SCRAPED, id: m.id, ...answer });
      };
      gathers.add(new Gather([...counting].filter((w) => w.isConnected()), gathers, reply));
    }
  });
}

type WorkerMessage = { type?: string; id?: number; metrics?: Metrics; error?: string } | undefined;

let gatherIds = 0;

/** One scrape's gathering: asks each worker for its metrics, and replies with their sum once all answered. */
class Gather {
  private readonly id = gatherIds++;
  private readonly waiting: Set<Worker>;
  private readonly metrics: Metrics[] = [];
  private readonly all: Set<Gather>;
  private readonly reply: (answer: { text?: string; error?: string }) => void;
  private readonly timer: NodeJS.Timeout;

  constructor(workers: Worker[], all: Set<Gather>, reply: (answer: { text?: string; error?: string }) => void) {
    this.waiting = new Set(workers);
    this.all = all;
    this.reply = reply;
    this.timer = setTimeout(() => this.finish({ error: 'the server processes did not report their metrics in time' }), GATHER_TIMEOUT_MS);
    for (const w of workers) w.send({ type: GATHER, id: this.id });
  }

  /** A worker answered (with its metrics, or a failure), or is gone (no message). */
  answered(worker: Worker, m?: WorkerMessage): void {
    if ((m && m.id !== this.id) || !this.waiting.delete(worker)) return;
    if (m?.error !== undefined) return this.finish({ error: m.error });
    if (m) this.metrics.push(m.metrics ?? []);
    if (this.waiting.size === 0) {
      AggregatorRegistry.aggregate(lastGcOnly(this.metrics))
        .metrics()
        .then((text) => this.finish({ text }), (e: Error) => this.finish({ error: e.message }));
    }
  }

  private finish(answer: { text?: string; error?: string }): void {
    if (!this.all.delete(this)) return;
    clearTimeout(this.timer);
    this.reply(answer);
  }
}

/** The workers' metrics, with the last gc's gauges kept only from the worker whose gc finished last. */
function lastGcOnly(perWorker: Metrics[]): Metrics[] {
  const at = (metrics: Metrics) => metrics.find((x) => x.name === `${GC_LAST}run_timestamp_seconds`)?.values[0]?.value ?? 0;
  const latest = perWorker.reduce((best, m) => (at(m) > at(best) ? m : best), perWorker[0] ?? []);
  return perWorker.map((metrics) => (metrics === latest ? metrics : metrics.filter((x) => !x.name.startsWith(GC_LAST))));
}
