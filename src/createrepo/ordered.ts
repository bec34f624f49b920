// Runs an async function over items, at most `concurrency` at a time, and yields the
// settled results in input order. At most `window` results are held ahead of the
// consumer, so memory stays bounded however long the list.

export async function* orderedMap<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
  window = concurrency * 4,
): AsyncGenerator<PromiseSettledResult<R>> {
  let active = 0;
  const queue: (() => void)[] = [];
  const limited = async (item: T, index: number): Promise<R> => {
    if (active >= concurrency) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await fn(item, index);
    } finally {
      active--;
      queue.shift()?.();
    }
  };
  const pending = new Map<number, Promise<PromiseSettledResult<R>>>();
  let started = 0;
  for (let i = 0; i < items.length; i++) {
    while (started < items.length && started < i + window) {
      const n = started++;
      pending.set(
        n,
        limited(items[n], n).then(
          (value): PromiseSettledResult<R> => ({ status: 'fulfilled', value }),
          (reason): PromiseSettledResult<R> => ({ status: 'rejected', reason }),
        ),
      );
    }
    const result = await pending.get(i)!;
    pending.delete(i);
    yield result;
  }
}
