// Public surface of the publish layer: static yum trees with history, in a directory
// or an S3-compatible bucket.
export { publish, PublishError } from './publish.ts';
export type { PublishOptions, PublishResult, PublishSource, PublishedFile, PublishTarget } from './publish.ts';
export { storeSource, serverSource } from './sources.ts';
export { checkPublished } from './check.ts';
export type { PublishedReport } from './check.ts';
export { openTarget } from './open-target.ts';
