import { openStore } from './src/store/index.ts';
import { ingestFiles, commitPackages } from './src/snapshots/index.ts';
const t0 = performance.now();
const lap = (s: string) => console.error(s, (performance.now() - t0).toFixed(0));
const [storeDir, ...files] = process.argv.slice(2);
const store = await openStore(storeDir); lap('open');
const pk = await ingestFiles(store, files); lap('ingest');
const r = await commitPackages(store, { repo: 'big', packages: pk, actor: 'x' }); lap('commit');
await store.close(); lap('close');
