// Public surface of the inject layer: yum config rewriting with mirror URLs.
export { injectMirrors, IniError } from './ini.ts';
export type { InjectOptions, InjectResult } from './ini.ts';
export { loadMirrors, loadMirrorList, MirrorsError } from './mirrors.ts';
export type { MirrorList } from './mirrors.ts';
