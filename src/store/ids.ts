// Snapshot ids: YYYYMMDD-HHMMSS-NNNN in UTC, e.g. 20261124-132320-0001. They sort in
// commit order, read as a time, and are never reused: each id is greater than the
// last one ever issued (kept in the catalog), even if the clock goes back or two
// snapshots are made in the same second.

const ID = /^(\d{8})-(\d{6})-(\d{4,})$/;

export function isSnapshotId(s: string): boolean {
  return ID.test(s);
}

function stamp(t: Date): string {
  const iso = t.toISOString(); // 2026-11-24T13:23:20.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/** Compares ids by time, then by sequence (which may outgrow four digits). */
export function compareIds(a: string, b: string): number {
  const ma = ID.exec(a);
  const mb = ID.exec(b);
  if (!ma || !mb) return a < b ? -1 : a > b ? 1 : 0;
  const ta = ma[1] + ma[2];
  const tb = mb[1] + mb[2];
  if (ta !== tb) return ta < tb ? -1 : 1;
  return Number(ma[3]) - Number(mb[3]);
}

export function nextSnapshotId(now: Date, last: string | undefined): string {
  const candidate = `${stamp(now)}-0001`;
  if (!last || compareIds(candidate, last) > 0) return candidate;
  const m = ID.exec(last);
  if (!m) return candidate;
  // Same second (or a clock that went back): keep the last time, bump the sequence.
  return `${m[1]}-${m[2]}-${String(Number(m[3]) + 1).padStart(4, '0')}`;
}
