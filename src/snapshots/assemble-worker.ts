// The thread that runs assembleFiles (assemble.ts) for a snapshot's repodata, so that
// the calling thread (a server's, say) stays free meanwhile.

import { parentPort } from 'node:worker_threads';
import { assembleFiles, PageReadError, type AssembledFile, type AssembleJob } from './assemble.ts';

export interface AssembleReply {
  files?: AssembledFile[];
  error?: string;
  /** The error was a missing or short page blob. */
  missingPage?: boolean;
}

parentPort?.on('message', (job: AssembleJob) => {
  let reply: AssembleReply;
  try {
    reply = { files: assembleFiles(job) };
  } catch (e) {
    reply = { error: (e as Error).message, missingPage: e instanceof PageReadError };
  }
  parentPort!.postMessage(reply);
});
