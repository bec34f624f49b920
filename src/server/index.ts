// Public surface of the server layer: txrepo serve.
export { accessLogLine, createTxrepoServer, startServer } from './server.ts';
export type { AccessLogEntry, ServerOptions, RunningServer } from './server.ts';
export { hashToken } from './tokens.ts';

/** In the supervisor of `serve --workers N`: a scrape of /metrics sees every worker's (metrics.ts, loaded only here). */
export async function gatherWorkerMetrics(): Promise<void> {
  (await import('./metrics.ts')).gatherWorkerMetrics();
}
