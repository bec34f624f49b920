// Rendered metadata packed into one buffer, UTF-8 encoded, so that a worker thread
// hands it back by transfer: no copy, and no strings cloned on the receiving thread.

/** Each item's parts, one after another; an item that failed has none. */
export interface PackedParts {
  buffer: ArrayBuffer;
  lengths: (number[] | undefined)[];
}

const FIRST_SIZE = 64 * 1024;

/**
 * Makes each task's parts and packs them at once, before the next task: the texts of a
 * batch are never all alive together. (Rendering a batch of 24 small packages first
 * and packing after kept their texts alive through the young generation's collections:
 * a third of a reader thread's time went to the garbage collector, against a tenth;
 * issue 19.) `make` returns the parts, or the task's failure (not an array).
 */
export function packEach<T, F extends object>(tasks: readonly T[], make: (task: T) => (string | Uint8Array)[] | F): { parts: PackedParts; failures: (F | undefined)[] } {
  let bytes = Buffer.from(new ArrayBuffer(FIRST_SIZE));
  let at = 0;
  /** Room for `n` more bytes, the buffer doubled (and copied) as often as needed. */
  const room = (n: number) => {
    if (at + n <= bytes.length) return;
    let size = bytes.length * 2;
    while (size < at + n) size *= 2;
    const grown = Buffer.from(new ArrayBuffer(size));
    grown.set(bytes.subarray(0, at));
    bytes = grown;
  };
  const put = (t: string | Uint8Array): number => {
    if (typeof t !== 'string') {
      room(t.length);
      bytes.set(t, at);
      return t.length;
    }
    // A UTF-16 code unit takes at most 3 bytes in UTF-8: a sure fit needs no measuring.
    if (at + t.length * 3 > bytes.length) room(Buffer.byteLength(t));
    return bytes.write(t, at);
  };
  const lengths: (number[] | undefined)[] = [];
  const failures: (F | undefined)[] = [];
  for (const task of tasks) {
    const made = make(task);
    if (!Array.isArray(made)) {
      lengths.push(undefined);
      failures.push(made);
      continue;
    }
    lengths.push(
      made.map((t) => {
        const n = put(t);
        at += n;
        return n;
      }),
    );
    failures.push(undefined);
  }
  // The unused tail is not sent: transfer() to the used length moves the bytes (or trims in place).
  return { parts: { buffer: bytes.buffer.transfer(at), lengths }, failures };
}

/**
 * What packEach() made, as the pool's outcomes: each task's value made of its parts
 * (views into the one buffer) by `value`, or its failure.
 */
export function unpackEach<V, F>(packed: { parts: PackedParts; failures: (F | undefined)[] }, value: (parts: Buffer[]) => V): ({ ok: true; value: V } | { ok: false; failure: F })[] {
  return unpackParts(packed.parts).map((parts, i) => (parts ? { ok: true, value: value(parts) } : { ok: false, failure: packed.failures[i]! }));
}

/** The items again, each part a view into the one buffer (undefined where one failed). */
function unpackParts({ buffer, lengths }: PackedParts): (Buffer[] | undefined)[] {
  const bytes = Buffer.from(buffer);
  let at = 0;
  return lengths.map((parts) =>
    parts?.map((n) => {
      const part = bytes.subarray(at, at + n);
      at += n;
      return part;
    }),
  );
}
