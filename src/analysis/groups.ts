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

/**
 * Per unit, the code a segment field has at every row of that unit (-1: missing at every one; -2: a
 * unit without rows), or null when some unit's rows have two codes (a missing value and a code are
 * two). When it is not null, every segment of the field holds all the rows of its units or none.
 */
export function unitSegments(unit: Int32Array, codes: Int32Array, unitCount: number): Int32Array | null {
  const seg = new Int32Array(unitCount).fill(-2);
  for (let i = 0; i < unit.length; i++) {
    const u = unit[i]!;
    if (u < 0) continue;
    const c = codes[i]!;
    const s = seg[u]!;
    if (s === c) continue;
    if (s !== -2) return null;
    seg[u] = c;
  }
  return seg;
}

/**
 * The code of a segment field's value named by its text, or undefined: also when two of the field's
 * values read as the same text (values that are not valid UTF-8 read with U+FFFD in place of the bad
 * bytes), as then a text does not name one code.
 */
export function segmentCode(col: DictColumn, text: string): number | undefined {
  return col.dict.index.size === col.dict.size ? col.dict.index.get(text) : undefined;
}

/** A segment's identity and counts without its rows (`n`: how many per model): what the report needs of a segment computed elsewhere. */
export type SegmentSummary = Omit<SegmentRows, 'rows'> & { n: [number, number] };

export function summaryOf(g: SegmentRows): SegmentSummary {
  const { rows, ...rest } = g;
  return { ...rest, n: [rows[0].length, rows[1].length] };
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
 *
 * `marksLimit`: the most bytes a field's per-unit, per-value marks may take (units x values), above
 * which its segments are gathered one by one (fieldGroupsEach) instead of all in two passes over the
 * rows (fieldGroups); the results are the same.
 */
export function segmentRows(
  store: ColumnStore,
  unitColumn: DictColumn,
  segmentFields: string[],
  modelMask: Uint8Array,
  excludeCrossed: boolean,
  want?: ReadonlySet<number>,
  marksLimit = Math.max(MARKS_MIN_LIMIT, MARKS_PER_ROW * store.length),
): (SegmentRows | null)[] {
  const { codes: unit } = unitColumn;
  const wanted = (gi: number): boolean => want === undefined || want.has(gi);
  const out: (SegmentRows | null)[] = [];
  out.push(wanted(0) ? overallRows(store, unit, modelMask, excludeCrossed) : null);
  let keep: Uint8Array | null = null;
  for (const field of segmentFields) {
    const col = segmentColumn(store, field);
    if (!col) continue;
    const counts = codeCounts(col);
    const order = presentCodes(col, counts);
    const first = out.length;
    const take = new Uint8Array(col.dict.values.length);
    order.forEach((c, j) => (take[c] = wanted(first + j) ? 1 : 0));
    if (!take.includes(1)) {
      for (let j = 0; j < order.length; j++) out.push(null);
      continue;
    }
    const input: FieldInput = { store, unit, codes: col.codes, take, modelMask, excludeCrossed };
    let groups: Map<number, SegmentRows>;
    if (modelMask.length * take.length <= marksLimit) {
      groups = fieldGroups(input);
    } else {
      keep ??= keptRows(store, unit, modelMask, excludeCrossed);
      groups = fieldGroupsEach(input, counts, keep);
    }
    for (const c of order) {
      const g = groups.get(c);
      out.push(g ? { ...g, segment: { [field]: col.dict.values[c]! } } : null);
    }
  }
  return out;
}

/**
 * The marks may take 16 MiB (2M units with 8 segment values), or 8 bytes per row of the store when
 * that is more (twice what the rows' indices take): 10M rows of 2.45M users and 8 regions take 20 MB.
 */
const MARKS_MIN_LIMIT = 16 * 1024 * 1024;
const MARKS_PER_ROW = 8;

/** Per row, 1 when its unit is known and not excluded as crossed. */
function keptRows(store: ColumnStore, unit: Int32Array, modelMask: Uint8Array, excludeCrossed: boolean): Uint8Array {
  const n = store.length;
  const keep = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const u = unit[i]!;
    keep[i] = u >= 0 && (!excludeCrossed || modelMask[u] !== 3) ? 1 : 0;
  }
  return keep;
}

/**
 * The overall segment: every row of a known unit, but crossed units' when excluded. Its units are
 * those of the mask (the models each unit was seen under, over every row).
 */
function overallRows(store: ColumnStore, unit: Int32Array, modelMask: Uint8Array, excludeCrossed: boolean): SegmentRows {
  const n = store.length;
  const model = store.model;
  let n1 = 0;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const u = unit[i]!;
    if (u < 0 || (excludeCrossed && modelMask[u] === 3)) continue;
    kept++;
    n1 += model[i]!;
  }
  const rows: [Int32Array, Int32Array] = [new Int32Array(kept - n1), new Int32Array(n1)];
  let f0 = 0;
  let f1 = 0;
  for (let i = 0; i < n; i++) {
    const u = unit[i]!;
    if (u < 0 || (excludeCrossed && modelMask[u] === 3)) continue;
    if (model[i] === 0) rows[0][f0++] = i;
    else rows[1][f1++] = i;
  }
  const units: [number, number] = [0, 0];
  let seen = 0;
  let crossed = 0;
  for (let u = 0; u < modelMask.length; u++) {
    const bits = modelMask[u]!;
    if (bits === 0) continue;
    seen++;
    if (bits === 3) {
      crossed++;
      if (excludeCrossed) continue;
    }
    if (bits & 1) units[0]++;
    if (bits & 2) units[1]++;
  }
  return { segment: {}, rows, units, crossedUnits: crossed, totalUnits: seen };
}

/** What gathering one field's segments reads: the field's codes, and take[c] = 1 for each code to gather. */
interface FieldInput {
  store: ColumnStore;
  unit: Int32Array;
  codes: Int32Array;
  take: Uint8Array;
  modelMask: Uint8Array;
  excludeCrossed: boolean;
}

/**
 * The segments of one field whose code has take[c] = 1, in two passes over the rows (count, then
 * gather), marking per unit and value the models it was seen under (one byte each: units x values).
 */
function fieldGroups({ store, unit, codes, take, modelMask, excludeCrossed }: FieldInput): Map<number, SegmentRows> {
  const n = store.length;
  const model = store.model;
  const k = take.length;
  const sizes = new Int32Array(2 * k);
  for (let i = 0; i < n; i++) {
    const c = codes[i]!;
    const u = unit[i]!;
    if (c < 0 || u < 0 || take[c] === 0 || (excludeCrossed && modelMask[u] === 3)) continue;
    sizes[2 * c + model[i]!]!++;
  }
  const rows: Int32Array[] = [];
  for (let j = 0; j < 2 * k; j++) rows.push(new Int32Array(take[j >> 1] ? sizes[j]! : 0));
  const fill = new Int32Array(2 * k);
  const marks = new Uint8Array(modelMask.length * k);
  for (let i = 0; i < n; i++) {
    const c = codes[i]!;
    const u = unit[i]!;
    if (c < 0 || u < 0 || take[c] === 0) continue;
    const m = model[i]!;
    marks[u * k + c]! |= 1 << m;
    if (excludeCrossed && modelMask[u] === 3) continue;
    const j = 2 * c + m;
    rows[j]![fill[j]!++] = i;
  }
  const units = new Int32Array(2 * k);
  const crossed = new Int32Array(k);
  const total = new Int32Array(k);
  for (let u = 0; u < modelMask.length; u++) {
    const cross = modelMask[u] === 3;
    const base = u * k;
    for (let c = 0; c < k; c++) {
      const bits = marks[base + c]!;
      if (bits === 0) continue;
      total[c]!++;
      if (cross) {
        crossed[c]!++;
        if (excludeCrossed) continue;
      }
      if (bits & 1) units[2 * c]!++;
      if (bits & 2) units[2 * c + 1]!++;
    }
  }
  const out = new Map<number, SegmentRows>();
  for (let c = 0; c < k; c++) {
    if (take[c] === 0) continue;
    out.set(c, { segment: {}, rows: [rows[2 * c]!, rows[2 * c + 1]!], units: [units[2 * c]!, units[2 * c + 1]!], crossedUnits: crossed[c]!, totalUnits: total[c]! });
  }
  return out;
}

/** fieldGroups for a field with too many values for the marks: the segments one by one, each over its own rows. */
function fieldGroupsEach({ store, unit, codes, take, modelMask, excludeCrossed }: FieldInput, counts: Int32Array, keep: Uint8Array): Map<number, SegmentRows> {
  const n = store.length;
  const k = take.length;
  const starts = new Int32Array(k + 1);
  for (let c = 0; c < k; c++) starts[c + 1] = starts[c]! + counts[c]!;
  const idx = new Int32Array(starts[k]!);
  const fill = starts.slice(0, k);
  for (let i = 0; i < n; i++) {
    const c = codes[i]!;
    if (c >= 0) idx[fill[c]!++] = i;
  }
  const out = new Map<number, SegmentRows>();
  for (let c = 0; c < k; c++) {
    if (take[c]) out.set(c, build({}, idx.subarray(starts[c]!, starts[c + 1]!), store, unit, keep, modelMask, excludeCrossed));
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
