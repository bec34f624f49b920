// Public surface of the shared helpers: small, with no domain knowledge, used by
// several layers.
export { eachLimited } from './each-limited.ts';
export { fsyncDir, replaceFile } from './fs.ts';
