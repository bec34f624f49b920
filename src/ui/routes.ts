// The UI's route table: each page's path under /ui with named parameters (a trailing
// `*name` takes the rest of the path), and the scope its data needs, the same as the
// API route that gives that data (src/api/routes.ts): a page shows nothing the API
// would not give the same client.

import type { Page } from './layout.ts';
import type { Query, UiContext } from './context.ts';
import { homePage } from './pages/home.ts';
import { packagePage } from './pages/package.ts';
import { repoPage } from './pages/repo.ts';
import { snapshotPage } from './pages/snapshot.ts';

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
