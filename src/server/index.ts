// Public surface of the server layer: txrepo serve.
export { accessLogLine, createTxrepoServer, startServer } from './server.ts';
export type { AccessLogEntry, ServerOptions, RunningServer } from './server.ts';
export { hashToken } from './tokens.ts';
