// Bounded concurrency for I/O-bound loops (downloads, blob writes, page renders).

/**
 * Runs `fn` over items, `concurrency` at a time. The first failure stops the rest from
 * starting; it is thrown once the ones in flight have settled.
 */
export async function eachLimited<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failed !== undefined) throw failed.error;
}
