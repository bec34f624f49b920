// Public surface of the shared helpers: small, with no domain knowledge, used by
// several layers.
export { eachLimited } from './each-limited.ts';
export { atPath } from './errors.ts';
export { readSmallFile, replaceFile, writeAll, writeAllSync } from './fs.ts';
export { fileCreated, fsyncDir, linkEntry, makeDir, makeDirDurable, renameEntry, syncFd, syncFile, syncFileSystem } from './durable.ts';
export { crashPoint } from './crash.ts';
export { GlobError, globMatcher, type GlobOptions } from './glob.ts';
export { fileSizeLimit, processAlive } from './process.ts';
export { checkOneLine, checkXmlText, describeChar, forTerminal, InvalidTextError, XML_UNSAFE } from './text.ts';
export { errorDocument, exitStatusOf, Failure, FAILURE_KINDS, FAILURE_TYPES, httpStatusOf, isFailureKind, isWithheld, kindOf, kindOfStatus, retryOf, typeOf, type ErrorDocument, type FailureKind, type FailureType, type Retry } from './failures.ts';
export { hasCredentials, maskCredentials } from './urls.ts';
