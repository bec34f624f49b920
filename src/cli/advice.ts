// What a user can do about a failure, in the CLI's words. The lower layers say only
// what is missing and where one may look (a NotFoundError's remedy); the commands to
// run are the CLI's, and so are the words: this file adds them, for the CLI's own
// messages and for the server's (txrepo serve hands it to the server), so that a
// failure reads the same on a local store and through --server.

import type { Remedy } from '../store/index.ts';

function adviceFor(remedy: Remedy): string {
  if ('createRepo' in remedy) return `create it with 'txrepo repo create ${remedy.createRepo}${remedy.upstream ? ' --upstream URL' : ''}'`;
  switch (remedy.list) {
    case 'repos':
      return "see 'txrepo repo list'";
    case 'sets':
      return "see 'txrepo set list'";
    case 'tokens':
      return "see 'txrepo token list'";
    case 'keys':
      return "see 'txrepo key list'";
    case 'tags':
      return `see 'txrepo tags ${remedy.repo}'`;
    case 'snapshots':
      return `see 'txrepo snapshots ${remedy.repo}'`;
  }
}

/** A failure's message with the advice its remedy calls for, if any. */
export function messageWithAdvice(e: Error): string {
  const remedy = (e as { remedy?: Remedy }).remedy;
  return remedy ? `${e.message}; ${adviceFor(remedy)}` : e.message;
}
