// Public surface of the remote layer: txrepo's operations on a server, over HTTP.
export { RemoteTxrepo, RemoteError } from './client.ts';
export type { RemoteOptions } from './client.ts';
