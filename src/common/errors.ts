// System errors as the user should see them.

/**
 * Names the file a system error is about when Node left it out (writes and fsyncs
 * through a handle or descriptor): "no space left on the device" must say where.
 * Returns the error, to rethrow.
 */
export function atPath(e: unknown, path: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (err instanceof Error && typeof err.errno === 'number' && typeof err.code === 'string' && err.path === undefined) err.path = path;
  return e;
}
