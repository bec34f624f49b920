// Public surface of the web UI: server-rendered pages for people, over the core and the
// catalog. The server hands it a request it judged to be the UI's (wantsHtml, isUiPath)
// and the UI answers it whole: page, asset, or an HTML error page with the status the
// API would give.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalTxrepo } from '../core/index.ts';
import { SnapshotLookup } from '../snapshots/index.ts';
import type { Store } from '../store/index.ts';
import { assetAt } from './assets.ts';
import type { Query, UiContext } from './context.ts';
import { errorPage, layout } from './layout.ts';
import { listingPage } from './pages/listing.ts';
import { matchRoute, UI_ROUTES, type UiRoute } from './routes.ts';

export { escapeHtml, html, Html } from './html.ts';
export type { UiRoute } from './routes.ts';

/** The pages' own policy: our stylesheet and script only, nothing inline, nothing from elsewhere. */
export const UI_CSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Whether a client prefers HTML (a browser): dnf, curl and scripts never list text/html. */
export function wantsHtml(req: IncomingMessage): boolean {
  return /(^|,)\s*text\/html\s*(;|,|$)/i.test(String(req.headers.accept ?? ''));
}

/** Whether a request names a folder (its path ends in /): a browser then gets an index page of a tree's folder. */
export const isDirectoryRequest = (req: IncomingMessage) => (req.url ?? '').split('?')[0].endsWith('/');

/** Whether a path's segments are the UI's (/ui and under it). */
export const isUiPath = (segments: string[]) => segments[0] === 'ui';

export interface Ui {
  /** The route a UI path names (undefined: none, a 404), for the server's access check. */
  routeOf(segments: string[]): UiRoute | undefined;
  /** Answers a UI path (or `/` for a browser) whose access the server checked. */
  serve(req: IncomingMessage, res: ServerResponse, segments: string[]): Promise<void>;
  /** The index page of a folder of a snapshot tree (`path`: the URL's path, for the title). */
  serveListing(req: IncomingMessage, res: ServerResponse, t: { repo: string; snapshot: string; dir: string; path: string }): Promise<void>;
  /** Sends an HTML error page. */
  sendError(res: ServerResponse, status: number, message: string, headers?: Record<string, string>): void;
}

function sendHtml(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(text);
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(body.length), 'cache-control': 'no-store', 'content-security-policy': UI_CSP, ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function parseQuery(url: string): Query {
  const out: Query = {};
  for (const [k, v] of new URLSearchParams(url.split('?')[1] ?? '')) if (!(k in out)) out[k] = v;
  return out;
}

export function createUi(store: Store, lookup = new SnapshotLookup(store.catalog)): Ui {
  const ctx: UiContext = { store, tx: new LocalTxrepo(store, 'ui'), lookup };
  const routeOf = (segments: string[]) => (segments.length === 0 ? UI_ROUTES[0] : matchRoute(UI_ROUTES, segments)?.route);
  return {
    routeOf,
    async serveListing(req, res, t) {
      sendHtml(res, 200, layout(await listingPage(ctx, t)));
    },
    sendError: (res, status, message, headers) => sendHtml(res, status, errorPage(status, message), headers),
    async serve(req, res, segments) {
      const asset = segments[0] === 'ui' && segments[1] === 'assets' ? assetAt('/' + segments.join('/')) : undefined;
      if (asset) {
        res.writeHead(200, { 'content-type': asset.type, 'content-length': String(asset.body.length), 'cache-control': 'public, max-age=31536000, immutable' });
        res.end(req.method === 'HEAD' ? undefined : asset.body);
        return;
      }
      const found = segments.length === 0 ? { route: UI_ROUTES[0], params: {} } : matchRoute(UI_ROUTES, segments);
      if (!found) {
        sendHtml(res, 404, errorPage(404, 'no such page'));
        return;
      }
      const page = await found.route.page(ctx, found.params, parseQuery(req.url ?? ''));
      sendHtml(res, page.status ?? 200, layout(page));
    },
  };
}
