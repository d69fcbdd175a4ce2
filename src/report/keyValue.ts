/** Pure renderer for a small "label: value" result, used by `abtool stats` and `sample-size`. */
import Table from 'cli-table3';

export type Cell = string | number | null | undefined | readonly (number | null)[];

/** Format a number for people: 6 significant digits, scientific for tiny or huge values. */
export function fmt(v: Cell): string {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return `[${v.map((x) => (x === null ? 'unbounded' : fmt(x))).join(', ')}]`;
  if (typeof v === 'string') return v;
  const n = v as number;
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  const a = Math.abs(n);
  if (a !== 0 && (a < 1e-4 || a >= 1e9)) return n.toExponential(4);
  return String(Number(n.toPrecision(6)));
}

export function renderKeyValue(title: string, rows: ReadonlyArray<readonly [string, Cell]>, color = false): string {
  const table = new Table({
    head: [title, ''],
    style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] },
  });
  // a p-value below the smallest double is 0: said as what it means
  for (const [k, v] of rows) table.push([k, v === 0 && k.startsWith('p-value') ? '< 1e-300 (below what a double holds)' : fmt(v)]);
  return table.toString() + '\n';
}
