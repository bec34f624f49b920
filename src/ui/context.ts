// What every page reads through: the core (as the CLI does), and the store's catalog
// where a page needs only part of a large list (a page of a snapshot's packages).

import type { LocalTxrepo } from '../core/index.ts';
import type { SnapshotLookup } from '../snapshots/index.ts';
import type { Store } from '../store/index.ts';

export interface UiContext {
  store: Store;
  tx: LocalTxrepo;
  lookup: SnapshotLookup;
}

/** A page's query parameters: one value each (the first given). */
export type Query = Record<string, string | undefined>;
