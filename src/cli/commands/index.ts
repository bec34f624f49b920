// The commands: name, one-line summary, and the module that runs it. Modules load on
// demand, so that a command pays only for the layers it uses (start-up time counts
// for a CLI that CI jobs call many times).

export interface Command {
  help: string;
  run(argv: string[]): Promise<number>;
}

export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  createrepo: { summary: 'make yum/dnf metadata (repodata/) for a directory of RPMs', load: () => import('./createrepo.ts') },
  modifyrepo: { summary: 'add, replace or remove updateinfo, comps, modules... in a repo', load: () => import('./modifyrepo.ts') },
  init: { summary: 'make a store (or check that one is there)', load: () => import('./init.ts') },
  repo: { summary: 'create, list, show or delete repositories in the store', load: () => import('./repo.ts') },
  deploy: { summary: 'add packages to a repository as a new snapshot (moves latest)', load: () => import('./deploy.ts') },
  remove: { summary: 'take packages out of a repository as a new snapshot (moves latest)', load: () => import('./remove.ts') },
  copy: { summary: "copy packages (and with --with-deps what they need) from a snapshot into a repository", load: () => import('./copy.ts') },
  sync: { summary: 'mirror an upstream yum repo into a repository (no snapshot if unchanged)', load: () => import('./sync.ts') },
  snapshots: { summary: "list a repository's snapshots, oldest first", load: () => import('./snapshots.ts') },
  show: { summary: 'show a snapshot: its id, parent, author, message and files', load: () => import('./show.ts') },
  diff: { summary: 'packages added, removed, upgraded and downgraded between two snapshots', load: () => import('./diff.ts') },
  tag: { summary: 'point a tag at a snapshot (compare-and-swap with --expect)', load: () => import('./tag.ts') },
  tags: { summary: "list a repository's tags, or every tag move with --history", load: () => import('./tags.ts') },
  export: { summary: 'write a snapshot out as a plain yum repo directory', load: () => import('./export.ts') },
  fsck: { summary: 'check the catalog and the blobs against each other', load: () => import('./fsck.ts') },
  set: { summary: 'pin one snapshot per repository for a run, with a lease', load: () => import('./set.ts') },
  inject: { summary: "point yum/reposync configs at a set's or a mirror list's snapshots", load: () => import('./inject.ts') },
  promote: { summary: "move a tag in every repository of a set, in one transaction", load: () => import('./promote.ts') },
  publish: { summary: 'refresh a static yum tree for a web server, keeping history', load: () => import('./publish.ts') },
  gc: { summary: 'remove what retention, tags and live sets do not keep', load: () => import('./gc.ts') },
  log: { summary: 'the audit log of every change', load: () => import('./log.ts') },
  serve: { summary: 'serve repositories to yum/dnf and the API over HTTP', load: () => import('./serve.ts') },
  token: { summary: "create, list or revoke the server's access tokens", load: () => import('./token.ts') },
  key: { summary: "import, list or remove the keys that sign the store's snapshots", load: () => import('./key.ts') },
};
