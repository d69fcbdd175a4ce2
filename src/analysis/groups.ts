/**
 * Who is in which group: rows per segment and model, units per model, and sticky-assignment
 * breakage (a unit seen under both models). Pure functions over the column store.
 */
import type { ColumnStore, DictColumn } from './aggregate.js';

export interface SegmentRows {
  /** {} for overall, e.g. {"country": "BR"} */
  segment: Record<string, string>;
  /** row indices per model code (0 = control, 1 = treatment), after excluding crossed units */
  rows: [Int32Array, Int32Array];
  /** distinct units per model code */
  units: [number, number];
  /** units of this segment seen under both models (their rows are excluded) */
  crossedUnits: number;
  totalUnits: number;
}

export function dictColumn(store: ColumnStore, name: string): DictColumn | null {
  const c = store.columns.get(name);
  return c && c.kind === 'dict' ? c : null;
}

/**
 * Units seen under both models. With `exclude` (canary and ab), their rows are dropped from every
 * group; in shadow mode both models score every request, so nothing is excluded.
 */
export function crossedUnitMask(store: ColumnStore, unitColumn: DictColumn): Uint8Array {
  const mask = new Uint8Array(unitColumn.dict.size);
  const { codes } = unitColumn;
  const model = store.model;
  for (let i = 0; i < store.length; i++) {
    const u = codes[i]!;
    if (u >= 0) mask[u]! |= 1 << model[i]!;
  }
  return mask;
}

/** A segment's identity and counts, without its rows: what the report needs of a segment computed elsewhere. */
export interface SegmentSummary {
  segment: Record<string, string>;
  /** rows per model code, after excluding crossed units */
  n: [number, number];
  units: [number, number];
  crossedUnits: number;
  totalUnits: number;
}

export function summaryOf(g: SegmentRows): SegmentSummary {
  return { segment: g.segment, n: [g.rows[0].length, g.rows[1].length], units: g.units, crossedUnits: g.crossedUnits, totalUnits: g.totalUnits };
}

/** The segments in report order: the overall one ({}), then per segment field its values in text order. */
export function segmentList(store: ColumnStore, segmentFields: string[]): Record<string, string>[] {
  const out: Record<string, string>[] = [{}];
  for (const field of segmentFields) {
    const col = segmentColumn(store, field);
    if (col) for (const c of presentCodes(col, codeCounts(col))) out.push({ [field]: col.dict.values[c]! });
  }
  return out;
}

/** The codes of a segment column that occur (count > 0), in the order of their texts. */
function presentCodes(col: { dict: { values: string[] } }, counts: Int32Array): number[] {
  return [...col.dict.values.keys()].filter((c) => counts[c]! > 0).sort((x, y) => compareText(col.dict.values[x]!, col.dict.values[y]!));
}

function codeCounts(col: { codes: Int32Array; dict: { values: string[] } }): Int32Array {
  const counts = new Int32Array(col.dict.values.length);
  const codes = col.codes;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c >= 0) counts[c]!++;
  }
  return counts;
}

/**
 * Partitions rows into the overall segment and one segment per value of each segment field, in the
 * order of segmentList. With `want` (indices into that list), only those segments' rows are gathered;
 * the others are null.
 */
export function segmentRows(
  store: ColumnStore,
  unitColumn: DictColumn,
  segmentFields: string[],
  modelMask: Uint8Array,
  excludeCrossed: boolean,
  want?: ReadonlySet<number>,
): (SegmentRows | null)[] {
  const n = store.length;
  const keep = new Uint8Array(n);
  const { codes: unit } = unitColumn;
  for (let i = 0; i < n; i++) {
    const u = unit[i]!;
    keep[i] = u >= 0 && (!excludeCrossed || modelMask[u] !== 3) ? 1 : 0;
  }
  const wanted = (gi: number): boolean => want === undefined || want.has(gi);
  const out: (SegmentRows | null)[] = [];
  out.push(wanted(0) ? build({}, null, store, unit, keep, modelMask, excludeCrossed) : null);
  for (const field of segmentFields) {
    const col = segmentColumn(store, field);
    if (!col) continue;
    const k = col.dict.values.length;
    const counts = codeCounts(col);
    const order = presentCodes(col, counts);
    const first = out.length;
    if (!order.some((_, j) => wanted(first + j))) {
      for (let j = 0; j < order.length; j++) out.push(null);
      continue;
    }
    const starts = new Int32Array(k + 1);
    for (let c = 0; c < k; c++) starts[c + 1] = starts[c]! + counts[c]!;
    const idx = new Int32Array(starts[k]!);
    const fill = starts.slice(0, k);
    for (let i = 0; i < n; i++) {
      const c = col.codes[i]!;
      if (c >= 0) idx[fill[c]!++] = i;
    }
    for (const c of order) {
      out.push(
        wanted(out.length) ? build({ [field]: col.dict.values[c]! }, idx.subarray(starts[c]!, starts[c + 1]!), store, unit, keep, modelMask, excludeCrossed) : null,
      );
    }
  }
  return out;
}

/** A segment field as dictionary codes; a numeric column (a flag also used as a metric) is encoded here. */
function segmentColumn(store: ColumnStore, field: string): { codes: Int32Array; dict: { values: string[] } } | null {
  const c = store.columns.get(field);
  if (!c) return null;
  if (c.kind === 'dict') return c;
  const index = new Map<number, number>();
  const values: string[] = [];
  const codes = new Int32Array(c.values.length);
  for (let i = 0; i < c.values.length; i++) {
    const v = c.values[i]!;
    if (Number.isNaN(v)) {
      codes[i] = -1;
      continue;
    }
    let k = index.get(v);
    if (k === undefined) {
      k = values.length;
      index.set(v, k);
      values.push(String(v));
    }
    codes[i] = k;
  }
  return { codes, dict: { values } };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Per-unit marks shared by every segment build: which build last saw the unit, and under which models. */
interface UnitMarks {
  stamp: Int32Array;
  bits: Uint8Array;
  next: number;
}

let marks: UnitMarks | null = null;

function unitMarks(size: number): UnitMarks {
  if (!marks || marks.stamp.length < size) marks = { stamp: new Int32Array(size), bits: new Uint8Array(size), next: 0 };
  return marks;
}

function build(
  segment: Record<string, string>,
  candidates: Int32Array | null,
  store: ColumnStore,
  unit: Int32Array,
  keep: Uint8Array,
  modelMask: Uint8Array,
  excludeCrossed: boolean,
): SegmentRows {
  // candidates: the rows to consider, ascending; null for every row of the store
  const size = candidates ? candidates.length : store.length;
  const model = store.model;
  const counts = [0, 0];
  for (let j = 0; j < size; j++) {
    const i = candidates ? candidates[j]! : j;
    if (keep[i]) counts[model[i]!]!++;
  }
  const rows: [Int32Array, Int32Array] = [new Int32Array(counts[0]!), new Int32Array(counts[1]!)];
  let f0 = 0;
  let f1 = 0;
  // distinct units of this segment and the models each was seen under here, marked by a stamp
  const m = unitMarks(modelMask.length);
  const stamp = ++m.next;
  const seenUnits = new Int32Array(Math.min(size, modelMask.length));
  let seen = 0;
  let crossed = 0;
  for (let j = 0; j < size; j++) {
    const i = candidates ? candidates[j]! : j;
    const u = unit[i]!;
    if (u < 0) continue;
    const mo = model[i]!;
    if (m.stamp[u] !== stamp) {
      m.stamp[u] = stamp;
      m.bits[u] = 0;
      seenUnits[seen++] = u;
      if (modelMask[u] === 3) crossed++;
    }
    m.bits[u]! |= 1 << mo;
    if (!keep[i]) continue;
    if (mo === 0) rows[0][f0++] = i;
    else rows[1][f1++] = i;
  }
  const units: [number, number] = [0, 0];
  for (let k = 0; k < seen; k++) {
    const u = seenUnits[k]!;
    // crossed units whose rows were excluded count in neither arm
    if (excludeCrossed && modelMask[u] === 3) continue;
    const bits = m.bits[u]!;
    if (bits & 1) units[0]++;
    if (bits & 2) units[1]++;
  }
  return { segment, rows, units, crossedUnits: crossed, totalUnits: seen };
}
