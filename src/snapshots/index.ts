// Public surface of the snapshots layer: repositories, snapshots, tags, deploy, export.
export { checkRepoName, checkTagName, InvalidNameError } from './names.ts';
export { parseRepoRef, parseTime, resolveRef, RefError } from './refs.ts';
export { deploy, packageHref, DeployInputError } from './deploy.ts';
export type { DeployOptions, DeployResult } from './deploy.ts';
export { exportSnapshot, ExportError } from './export.ts';
export { generateRepodata } from './repodata.ts';
