// The UI's route table: each page's path under /ui with named parameters (a trailing
// `*name` takes the rest of the path), and the scope its data needs, the same as the
// API route that gives that data (src/api/routes.ts): a page shows nothing the API
// would not give the same client.

import type { Page } from './layout.ts';
import type { Query, UiContext } from './context.ts';
import { comparePage } from './pages/compare.ts';
import { homePage } from './pages/home.ts';
import { logPage } from './pages/log.ts';
import { packagePage } from './pages/package.ts';
import { repoPage } from './pages/repo.ts';
import { setPage, setsPage } from './pages/sets.ts';
import { snapshotPage } from './pages/snapshot.ts';
import { tagPage } from './pages/tag.ts';

export interface UiRoute {
  path: string;
  /** 'public': anyone (a token on a --private server); 'read': a token, as the API's history, log and set manifests. */
  scope: 'public' | 'read';
  page(ctx: UiContext, params: Record<string, string>, query: Query): Promise<Page>;
}

export const UI_ROUTES: UiRoute[] = [
  { path: '/ui', scope: 'public', page: (ctx) => homePage(ctx) },
  { path: '/ui/repos/:repo', scope: 'public', page: (ctx, p) => repoPage(ctx, { repo: p.repo }) },
  { path: '/ui/repos/:repo/snapshots/:id', scope: 'public', page: (ctx, p, q) => snapshotPage(ctx, { repo: p.repo, id: p.id }, q) },
  { path: '/ui/repos/:repo/snapshots/:id/packages/*href', scope: 'public', page: (ctx, p) => packagePage(ctx, { repo: p.repo, id: p.id, href: p.href }) },
  { path: '/ui/repos/:repo/tags/:tag', scope: 'read', page: (ctx, p) => tagPage(ctx, { repo: p.repo, tag: p.tag }) },
  { path: '/ui/compare', scope: 'public', page: (ctx, _p, q) => comparePage(ctx, q) },
  { path: '/ui/sets', scope: 'public', page: (ctx) => setsPage(ctx) },
  { path: '/ui/sets/:set', scope: 'read', page: (ctx, p) => setPage(ctx, { set: p.set }) },
  { path: '/ui/log', scope: 'read', page: (ctx, _p, q) => logPage(ctx, q) },
];

/** The route and parameters of a path's segments (decoded), if one matches. */
export function matchRoute(routes: UiRoute[], segments: string[]): { route: UiRoute; params: Record<string, string> } | undefined {
  for (const route of routes) {
    const pattern = route.path.slice(1).split('/');
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const part = pattern[i];
      if (part.startsWith('*')) {
        ok = segments.length > i;
        params[part.slice(1)] = segments.slice(i).join('/');
        if (ok) return { route, params };
      } else if (part.startsWith(':')) {
        ok = segments[i] !== undefined;
        params[part.slice(1)] = segments[i];
      } else ok = segments[i] === part;
    }
    if (ok && segments.length === pattern.length) return { route, params };
  }
  return undefined;
}
