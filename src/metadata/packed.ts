// Rendered metadata packed into one buffer, UTF-8 encoded, so that a worker thread
// hands it back by transfer: no copy, and no strings cloned on the receiving thread.

/** Each item's parts, one after another; an item that failed has none. */
export interface PackedParts {
  buffer: ArrayBuffer;
  lengths: (number[] | undefined)[];
}

const byteLength = (t: string | Uint8Array) => (typeof t === 'string' ? Buffer.byteLength(t) : t.length);

export function packParts(items: ((string | Uint8Array)[] | undefined)[]): PackedParts {
  let total = 0;
  for (const parts of items) for (const t of parts ?? []) total += byteLength(t);
  const buffer = new ArrayBuffer(total);
  const bytes = Buffer.from(buffer);
  let at = 0;
  const lengths = items.map((parts) =>
    parts?.map((t) => {
      const n = typeof t === 'string' ? bytes.write(t, at) : (bytes.set(t, at), t.length);
      at += n;
      return n;
    }),
  );
  return { buffer, lengths };
}

/** The items again, each part a view into the one buffer (undefined where one failed). */
export function unpackParts({ buffer, lengths }: PackedParts): (Buffer[] | undefined)[] {
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
