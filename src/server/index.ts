// Public surface of the server layer: txrepo serve.
export { createTxrepoServer, startServer } from './server.ts';
export type { ServerOptions, RunningServer } from './server.ts';
export { hashToken } from './api.ts';
