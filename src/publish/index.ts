// Public surface of the publish layer: static yum trees with history for web servers.
export { publish, PublishError } from './publish.ts';
export type { PublishOptions, PublishResult, PublishSource, PublishedFile } from './publish.ts';
export { storeSource, serverSource } from './sources.ts';
export { checkPublished } from './check.ts';
export type { PublishedReport } from './check.ts';
