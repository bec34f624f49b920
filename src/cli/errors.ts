// How a failure reaches the user: one screen of message (no stack unless it is a bug),
// with the CLI's advice (advice.ts); its type and exit status follow from its kind
// (src/common/failures.ts).

import { exitStatusOf, Failure, fileSizeLimit, kindOf, typeOf, type FailureType } from '../common/index.ts';
import { messageWithAdvice } from './advice.ts';

/** Wrong command-line usage; exit status 2 like createrepo_c and most tools. */
export class UsageError extends Failure {
  override name = 'UsageError';
  readonly kind = 'usage';
}

const SYSTEM_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files in this process; raise the limit (ulimit -n) and run the command again',
  ENFILE: 'too many open files on this system',
};

/** EFBIG: a file size limit on this process (ulimit -f) is the usual cause, and the user's to raise. */
function fileTooLarge(): string {
  const limit = fileSizeLimit();
  return limit === undefined
    ? 'file too large for the file system'
    : `file too large: this process may not write files over ${limit} bytes (ulimit -f); raise the limit (ulimit -f unlimited) and run the command again`;
}

export interface DescribedFailure {
  type: FailureType;
  message: string;
  status: number;
}

/** The message of a system error: the file and the problem, in words. */
function systemMessage(err: NodeJS.ErrnoException): string | undefined {
  if (typeof err.code !== 'string' || !err.path) return undefined;
  // A copy's error names its source, but a full or read-only disk is its destination's.
  const dest = (err as { dest?: string }).dest;
  const where = dest && ['ENOSPC', 'EDQUOT', 'EROFS'].includes(err.code) ? dest : err.path;
  return `${where}: ${err.code === 'EFBIG' ? fileTooLarge() : (SYSTEM_PROBLEMS[err.code] ?? err.code)}`;
}

/** Turns any failure into a one-screen message, its type and exit status (by its kind). */
export function describeFailure(e: unknown): DescribedFailure {
  const kind = kindOf(e);
  const type = typeOf(kind);
  const status = exitStatusOf(kind);
  // A bug of this process's: the stack, for the report. A server's bug came with its
  // kind and a message that says so (its log has the stack).
  if (type === 'internal' && !(e instanceof Error && 'kind' in e)) {
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    return { type, status, message: `unexpected failure (this is a bug in txrepo, please report it):\n${msg}` };
  }
  const err = e as Error;
  // A system error, also one carried back from a worker thread (its code and file cross with it).
  return { type, status, message: (type === 'io' ? systemMessage(err) : undefined) ?? messageWithAdvice(err) };
}
