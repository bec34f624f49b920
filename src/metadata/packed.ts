// Rendered metadata packed into one buffer, UTF-8 encoded, so that a worker thread
// hands it back by transfer: no copy, and no strings cloned on the receiving thread.

import type { RenderedPackage } from './repodata-writer.ts';

/** The three texts of each item, one after another; an item that failed has none. */
export interface PackedTexts {
  buffer: ArrayBuffer;
  lengths: ([number, number, number] | undefined)[];
}

const byteLength = (t: string | Uint8Array) => (typeof t === 'string' ? Buffer.byteLength(t) : t.length);

function put(bytes: Buffer, t: string | Uint8Array, at: number): number {
  if (typeof t === 'string') return bytes.write(t, at);
  bytes.set(t, at);
  return t.length;
}

export function packRendered(items: (RenderedPackage | undefined)[]): PackedTexts {
  let total = 0;
  for (const r of items) if (r) total += byteLength(r.primary) + byteLength(r.filelists) + byteLength(r.other);
  const buffer = new ArrayBuffer(total);
  const bytes = Buffer.from(buffer);
  let at = 0;
  const lengths = items.map((r): [number, number, number] | undefined => {
    if (!r) return undefined;
    const p = put(bytes, r.primary, at);
    const f = put(bytes, r.filelists, at + p);
    const o = put(bytes, r.other, at + p + f);
    at += p + f + o;
    return [p, f, o];
  });
  return { buffer, lengths };
}

/** The items again, each text a view into the one buffer (undefined where one failed). */
export function unpackRendered({ buffer, lengths }: PackedTexts): (RenderedPackage | undefined)[] {
  const bytes = Buffer.from(buffer);
  let at = 0;
  return lengths.map((l) => {
    if (!l) return undefined;
    const [p, f, o] = l;
    const r = { primary: bytes.subarray(at, at + p), filelists: bytes.subarray(at + p, at + p + f), other: bytes.subarray(at + p + f, at + p + f + o) };
    at += p + f + o;
    return r;
  });
}
