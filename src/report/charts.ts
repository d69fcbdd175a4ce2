/**
 * The HTML report's charts as inline SVG strings (pure: report data in, markup out).
 *
 * - forestPlot: every metric's change with its confidence interval, one row per segment, grouped by
 *   metric (each metric on its own axis: relative change in %, or the absolute change when the test
 *   gives no relative interval), the zero line, and a guardrail's tolerated change on its bad side.
 * - rollbackRatioChart / rollbackQuantileChart: the canary rule's per-window challenger/champion
 *   quantile ratio against max_ratio, and the moment the rule fired.
 * - barChart: horizontal bars with optional interval whiskers and limit ticks (shadow agreement,
 *   drift KS, latency per model); shareChart: planned vs observed traffic shares (SRM).
 */
import { confidencePercent } from './format.js';
import type { CdfReport, HistogramReport, MetricReport, RollbackReport, Verdict } from './model.js';
import { DASH, clip, coord, el, esc, int, isNum, line, linear, niceDomain, num, parseTime, percent, signed, svg, text, ticks, timeText, timeTicks, type Scale } from './svg.js';

export const COLOR = {
  green: '#1a7f37',
  red: '#cf222e',
  amber: '#9a6700',
  purple: '#8250df',
  grey: '#57606a',
  light: '#8c959f',
  faint: '#d0d7de',
  band: '#f6f8fa',
  ink: '#1f2328',
  control: '#0969da',
  treatment: '#e16f24',
} as const;

export const VERDICT_COLOR = {
  win: COLOR.green,
  pass: COLOR.green,
  loss: COLOR.red,
  fail: COLOR.red,
  inconclusive: COLOR.amber,
  flat: COLOR.grey,
  'no-data': COLOR.light,
} as const satisfies Record<Verdict, string>;

const verdictColor = (v: string): string => (VERDICT_COLOR as Record<string, string>)[v] ?? COLOR.grey;

/** Colour of a model: the champion blue, the challenger orange, any other grey. */
export function modelColor(model: string, control: string, treatment: string): string {
  return model === control ? COLOR.control : model === treatment ? COLOR.treatment : COLOR.grey;
}

const W = 1000;

// ---------------------------------------------------------------------------------------------
// forest plot

export interface ForestEntry {
  segment: string;
  metric: MetricReport;
}

interface ForestRow {
  segment: string;
  m: MetricReport;
  pt: number | null;
  /** null: no interval; an end of null: unbounded on that side */
  ci: [number | null, number | null] | null;
  /** the tolerated change, signed towards the bad side */
  tol: number | null;
}

/** Finite ends stay, anything else is unbounded. */
const end = (x: number | null | undefined): number | null => (isNum(x) ? x : null);

function forestRows(entries: ForestEntry[], relative: boolean): ForestRow[] {
  return entries.map(({ segment, metric: m }) => {
    const pt = relative ? m.relative_change : m.estimate;
    const ci = relative ? m.relative_ci : m.ci;
    const t = relative ? m.tolerance?.relative : m.tolerance?.absolute;
    const tol = m.role === 'guardrail' && isNum(t) ? (m.direction === 'decrease' ? Math.abs(t) : -Math.abs(t)) : null;
    return { segment, m, pt: isNum(pt) ? pt : null, ci: ci && isNum(pt) ? [end(ci[0]), end(ci[1])] : null, tol };
  });
}

/** Relative when every segment with an estimate has a relative change and its interval. */
function usesRelative(entries: ForestEntry[]): boolean {
  const tested = entries.filter(({ metric: m }) => isNum(m.estimate) || isNum(m.relative_change));
  return tested.length > 0 && tested.every(({ metric: m }) => isNum(m.relative_change) && Array.isArray(m.relative_ci));
}

/** How a change on this axis is labelled: factor and unit. */
function axisUnit(relative: boolean, m: MetricReport): { factor: number; unit: string } {
  if (relative) return { factor: 100, unit: '%' };
  if (m.type === 'proportion') return { factor: 100, unit: ' pts' };
  return { factor: 1, unit: '' };
}

const LX = 10;
const PX0 = 270;
const PX1 = 680;
const TX = 700;
const VX = 990;

function arrow(x: number, y: number, dir: -1 | 1, color: string): string {
  return el('path', { d: `M${coord(x)},${coord(y)} l${-dir * 7},-4.5 l0,9 z`, fill: color });
}

function forestGroup(entries: ForestEntry[], top: number): { body: string; height: number } {
  const first = entries[0]!.metric;
  const relative = usesRelative(entries);
  const rows = forestRows(entries, relative);
  const { factor, unit } = axisUnit(relative, first);
  const fmt = (v: number | null, digits = 3) => (v === null ? DASH : signed(v, factor, unit, digits));

  // the domain covers no change, every estimate and interval, and the tolerances unless one is far
  // off the data (an absolute tolerance of a rare event can be +500% relative): that one is drawn
  // as a labelled arrow at the edge so the intervals stay readable
  const values: (number | null)[] = [0];
  let openLow = false;
  let openHigh = false;
  for (const r of rows) {
    values.push(r.pt);
    if (r.ci) {
      values.push(r.ci[0], r.ci[1]);
      if (r.ci[0] === null) openLow = true;
      if (r.ci[1] === null) openHigh = true;
    }
  }
  const [v0, v1] = niceDomain(values, 6);
  const reach = 3 * (v1 - v0);
  const onScale = (t: number | null) => t !== null && t >= v0 - reach && t <= v1 + reach;
  let [d0, d1] = niceDomain([...values, ...rows.map((r) => (onScale(r.tol) ? r.tol : null))], 6);
  const span = d1 - d0;
  if (openLow || rows.some((r) => r.tol !== null && !onScale(r.tol) && r.tol < 0)) d0 -= span * 0.08;
  if (openHigh || rows.some((r) => r.tol !== null && !onScale(r.tol) && r.tol > 0)) d1 += span * 0.08;
  const x = linear([d0, d1], [PX0, PX1]);

  const HEAD = 40;
  const ROW = 24;
  const rowsTop = top + HEAD;
  const rowsBottom = rowsTop + rows.length * ROW;
  const out: string[] = [];

  // header: metric, role, direction, tolerance; column titles
  const better = first.direction === 'decrease' ? 'lower is better' : 'higher is better';
  const tols = [...new Set(rows.map((r) => r.tol).filter(isNum))];
  const tolText = first.role === 'guardrail' ? (tols.length === 1 ? ` · tolerates ${fmt(tols[0]!)}` : tols.length > 1 ? ' · tolerance per segment' : ' · no tolerance') : '';
  out.push(text(LX, top + 17, clip(first.name, 36), { class: 'fp-metric' }));
  out.push(text(LX, top + 33, clip(`${first.role} · ${better}${tolText}`, 52), { class: 'fp-sub' }));
  const conf = isNum(first.confidence) ? `${confidencePercent(first.confidence)} CI` : 'CI';
  const scaleName = relative ? 'relative change' : first.type === 'proportion' ? 'change in points' : 'absolute change';
  out.push(text(TX, top + 33, `change [${conf}]`, { class: 'fp-sub' }));
  out.push(text(VX, top + 33, 'verdict', { class: 'fp-sub', 'text-anchor': 'end' }));

  // zebra bands, grid, zero line
  rows.forEach((_, i) => {
    if (i % 2 === 0) out.push(el('rect', { x: 0, y: rowsTop + i * ROW, width: W, height: ROW, fill: COLOR.band }));
  });
  const tickValues = ticks(x.domain[0], x.domain[1], 6);
  for (const t of tickValues) out.push(line(x(t), rowsTop, x(t), rowsBottom, { stroke: COLOR.faint, 'stroke-width': 1 }));
  out.push(line(x(0), rowsTop - 4, x(0), rowsBottom, { stroke: COLOR.ink, 'stroke-width': 1.2, class: 'fp-zero' }));

  // tolerated change, per row (segments of one metric may differ for absolute tolerances)
  let tolLabelled = false;
  rows.forEach((r, i) => {
    if (r.tol === null) return;
    const rowTop = rowsTop + i * ROW;
    if (!onScale(r.tol)) {
      const edge = r.tol > 0 ? x.range[1] : x.range[0];
      out.push(el('path', { d: `M${coord(edge)},${coord(rowTop + ROW / 2)} l${r.tol > 0 ? -8 : 8},-5 l0,10 z`, fill: COLOR.red, class: 'fp-tol' }));
      if (!tolLabelled) {
        tolLabelled = true;
        out.push(text(edge, rowsTop - 5, r.tol > 0 ? `tolerated ${fmt(r.tol)} ▸` : `◂ tolerated ${fmt(r.tol)}`, { class: 'fp-tol-label', 'text-anchor': r.tol > 0 ? 'end' : 'start' }));
      }
      return;
    }
    const tx = x(r.tol);
    out.push(line(tx, rowTop, tx, rowTop + ROW, { stroke: COLOR.red, 'stroke-width': 1.6, 'stroke-dasharray': '5 3', class: 'fp-tol' }));
    if (!tolLabelled) {
      tolLabelled = true;
      const anchorEnd = tx > PX1 - 70 || (r.tol < 0 && tx > PX0 + 70);
      out.push(text(anchorEnd ? tx - 3 : tx + 3, rowsTop - 5, 'tolerated', { class: 'fp-tol-label', 'text-anchor': anchorEnd ? 'end' : 'start' }));
    }
  });

  rows.forEach((r, i) => {
    const cy = rowsTop + i * ROW + ROW / 2;
    const color = verdictColor(r.m.verdict);
    out.push(el('text', { x: LX + 8, y: cy + 4, class: 'fp-seg' }, `<title>${esc(r.segment)}</title>${esc(clip(r.segment, 40))}`));
    if (r.pt === null) {
      out.push(text(PX0 + 6, cy + 4, 'not tested', { class: 'fp-none' }));
      out.push(text(TX, cy + 4, DASH, { class: 'fp-val' }));
    } else {
      if (r.ci) {
        const lo = r.ci[0] === null ? x.range[0] : x(r.ci[0]);
        const hi = r.ci[1] === null ? x.range[1] : x(r.ci[1]);
        out.push(line(lo, cy, hi, cy, { stroke: color, 'stroke-width': 2.5, class: 'fp-ci' }));
        if (r.ci[0] === null) out.push(arrow(lo, cy, -1, color));
        else out.push(line(lo, cy - 5, lo, cy + 5, { stroke: color, 'stroke-width': 2 }));
        if (r.ci[1] === null) out.push(arrow(hi, cy, 1, color));
        else out.push(line(hi, cy - 5, hi, cy + 5, { stroke: color, 'stroke-width': 2 }));
      }
      const px = x(r.pt);
      if (r.m.role === 'primary') out.push(el('path', { d: `M${coord(px)},${coord(cy - 7)} l7,7 l-7,7 l-7,-7 z`, fill: color, stroke: '#fff', 'stroke-width': 1, class: 'fp-pt' }));
      else out.push(el('circle', { cx: px, cy, r: 5.5, fill: color, stroke: '#fff', 'stroke-width': 1, class: 'fp-pt' }));
      const ci = r.ci ? ` [${r.ci[0] === null ? '−∞' : fmt(r.ci[0], 2)}, ${r.ci[1] === null ? '+∞' : fmt(r.ci[1], 2)}]` : '';
      out.push(text(TX, cy + 4, `${fmt(r.pt)}${ci}`, { class: 'fp-val' }));
    }
    out.push(el('text', { x: VX, y: cy + 4, 'text-anchor': 'end', fill: color, class: 'fp-verdict' }, `<title>${esc(r.m.reason)}</title>${esc(r.m.verdict)}`));
  });

  // axis
  const axisY = rowsBottom + 2;
  out.push(line(PX0, axisY, PX1, axisY, { stroke: COLOR.grey, 'stroke-width': 1 }));
  for (const t of tickValues) {
    out.push(line(x(t), axisY, x(t), axisY + 4, { stroke: COLOR.grey }));
    out.push(text(x(t), axisY + 16, t === 0 ? '0' : signed(t, factor, unit, 3), { class: 'ax', 'text-anchor': 'middle' }));
  }
  out.push(text((PX0 + PX1) / 2, axisY + 31, `${scaleName} of the challenger vs the champion`, { class: 'fp-sub', 'text-anchor': 'middle' }));
  return { body: out.join(''), height: HEAD + rows.length * ROW + 44 };
}

/** One group per metric (in order of first appearance), one row per segment. '' without entries. */
export function forestPlot(entries: ForestEntry[]): string {
  if (!entries.length) return '';
  const groups = new Map<string, ForestEntry[]>();
  for (const e of entries) {
    const key = `${e.metric.role}\u0000${e.metric.name}`;
    const g = groups.get(key);
    if (g) g.push(e);
    else groups.set(key, [e]);
  }
  let y = 4;
  const parts: string[] = [];
  for (const g of groups.values()) {
    const { body, height } = forestGroup(g, y);
    parts.push(el('g', { class: 'fp-group' }, body));
    y += height + 14;
  }
  return svg(W, y, 'Forest plot: change of each metric per segment with its confidence interval', parts.join(''), 'chart forest');
}

// ---------------------------------------------------------------------------------------------
// canary rollback

interface WindowX {
  x0: number;
  x1: number;
}

/** Window positions on a time axis when every window has dates, else on an index axis. */
function windowAxis(rb: RollbackReport, px0: number, px1: number): { pos: WindowX[]; x: Scale; timeAxis: boolean; at: (iso: string | null) => number | null } {
  const ws = rb.windows;
  const times = ws.map((w) => [parseTime(w.start), parseTime(w.end)] as const);
  const timeAxis = ws.length > 0 && times.every(([a, b]) => a !== null && b !== null && b >= a);
  if (timeAxis) {
    let t0 = Infinity;
    let t1 = -Infinity;
    for (const [a, b] of times) {
      if (a! < t0) t0 = a!;
      if (b! > t1) t1 = b!;
    }
    const x = linear([t0, t1], [px0, px1]);
    return { pos: times.map(([a, b]) => ({ x0: x(a!), x1: x(b!) })), x, timeAxis, at: (iso) => {
      const t = parseTime(iso);
      return t === null ? null : x(t);
    } };
  }
  const x = linear([0, Math.max(1, ws.length)], [px0, px1]);
  return { pos: ws.map((_, i) => ({ x0: x(i), x1: x(i + 1) })), x, timeAxis, at: (iso) => {
    const i = ws.findIndex((w) => w.end === iso);
    return i < 0 ? null : x(i + 1);
  } };
}

function xAxis(out: string[], x: Scale, timeAxis: boolean, y: number): void {
  out.push(line(x.range[0], y, x.range[1], y, { stroke: COLOR.grey }));
  const marks = timeAxis
    ? timeTicks(x.domain[0], x.domain[1], 8).map((t) => ({ v: t.t, label: t.label }))
    : ticks(x.domain[0], x.domain[1], 8).filter(Number.isInteger).map((v) => ({ v, label: `#${v + 1}` }));
  for (const m of marks) {
    out.push(line(x(m.v), y, x(m.v), y + 4, { stroke: COLOR.grey }));
    out.push(text(x(m.v), y + 16, m.label, { class: 'ax', 'text-anchor': 'middle' }));
  }
  if (timeAxis) out.push(text(x.range[1], y + 30, 'time (UTC)', { class: 'ax', 'text-anchor': 'end' }));
}

function yGrid(out: string[], y: Scale, x0: number, x1: number, label: (v: number) => string): void {
  for (const t of ticks(y.domain[0], y.domain[1], 5)) {
    out.push(line(x0, y(t), x1, y(t), { stroke: COLOR.faint }));
    out.push(text(x0 - 6, y(t) + 4, label(t), { class: 'ax', 'text-anchor': 'end' }));
  }
}

function firedMarker(out: string[], x: number | null, top: number, bottom: number, label: string): void {
  if (x === null) return;
  out.push(line(x, top - 14, x, bottom, { stroke: COLOR.red, 'stroke-width': 2.5, class: 'fired' }));
  const right = x > W * 0.7;
  out.push(text(right ? x - 6 : x + 6, top - 4, label, { class: 'fired-label', 'text-anchor': right ? 'end' : 'start' }));
}

function legend(items: { mark: string; label: string }[], y: number, x0 = 70): string {
  let x = x0;
  const out: string[] = [];
  for (const it of items) {
    out.push(el('g', { transform: `translate(${coord(x)},${coord(y)})` }, it.mark, text(14, 4, it.label, { class: 'legend' })));
    x += 30 + it.label.length * 6.6;
  }
  return out.join('');
}

const dot = (color: string, hollow = false) => el('circle', { cx: 4, cy: 0, r: 4.5, fill: hollow ? '#fff' : color, stroke: color, 'stroke-width': hollow ? 1.5 : 0 });
const dash = (color: string) => line(-4, 0, 12, 0, { stroke: color, 'stroke-width': 2, 'stroke-dasharray': '5 3' });
const bar = (color: string) => line(-4, 0, 12, 0, { stroke: color, 'stroke-width': 3 });

/**
 * The challenger/champion quantile ratio per window: healthy windows green, breaches red, windows
 * with too few records hollow grey (on the floor when no ratio exists), max_ratio dashed, and the
 * moment the rule fired as a vertical red line. '' when there is no window.
 */
export function rollbackRatioChart(rb: RollbackReport): string {
  const ws = rb.windows ?? [];
  if (!ws.length) return '';
  const PX0r = 70;
  const PX1r = 960;
  const TOP = 40;
  const BOTTOM = 260;
  const out: string[] = [];
  const { pos, x, timeAxis, at } = windowAxis(rb, PX0r, PX1r);
  const ratios = ws.map((w) => (isNum(w.ratio) ? w.ratio : null));
  const maxRatio = isNum(rb.max_ratio) ? rb.max_ratio : null;
  const y = linear(niceDomain([...ratios, 1, maxRatio], 5, 0.2), [BOTTOM, TOP]);
  yGrid(out, y, PX0r, PX1r, (v) => `${num(v, 3)}×`);

  if (maxRatio !== null) {
    const yt = y(maxRatio);
    out.push(el('rect', { x: PX0r, y: TOP, width: PX1r - PX0r, height: Math.max(0, yt - TOP), fill: COLOR.red, 'fill-opacity': 0.06 }));
    out.push(line(PX0r, yt, PX1r, yt, { stroke: COLOR.red, 'stroke-width': 2, 'stroke-dasharray': '6 4', class: 'threshold' }));
    out.push(text(PX1r - 4, yt - 6, `max ratio ${num(maxRatio, 4)}×`, { class: 'threshold-label', 'text-anchor': 'end' }));
  }
  out.push(line(PX0r, y(1), PX1r, y(1), { stroke: COLOR.grey, 'stroke-width': 1 }));

  // the ratio as a line, broken where a window has none
  let d = '';
  let pen = false;
  ws.forEach((_, i) => {
    const r = ratios[i];
    if (r === null || r === undefined) {
      pen = false;
      return;
    }
    const px = (pos[i]!.x0 + pos[i]!.x1) / 2;
    d += `${pen ? 'L' : 'M'}${coord(px)},${coord(y(r))}`;
    pen = true;
  });
  if (d) out.push(el('path', { d, fill: 'none', stroke: COLOR.grey, 'stroke-width': 1.5, 'stroke-linejoin': 'round' }));

  const r = Math.max(2, Math.min(5, (PX1r - PX0r) / ws.length / 2.5));
  // thousands of windows: the line shows the healthy ones, hover titles are dropped (page size)
  const many = ws.length > 1500;
  ws.forEach((w, i) => {
    if (many && w.status === 'healthy') return;
    const px = (pos[i]!.x0 + pos[i]!.x1) / 2;
    const ratio = ratios[i];
    const tip = `${timeText(w.start)} to ${timeText(w.end)}: ${w.status}, ratio ${ratio === null || ratio === undefined ? DASH : num(ratio, 4)} (${num(w.treatment_quantile, 4)} vs ${num(w.control_quantile, 4)}; n ${int(w.n_treatment)} / ${int(w.n_control)})`;
    const title = many ? '' : `<title>${esc(tip)}</title>`;
    if (w.status === 'insufficient') {
      const cy = ratio === null || ratio === undefined ? BOTTOM - r - 2 : y(ratio);
      out.push(el('circle', { cx: px, cy, r, fill: '#fff', stroke: COLOR.light, 'stroke-width': 1.5, class: 'w-insufficient' }, ...(title ? [title] : [])));
    } else {
      const color = w.status === 'breach' ? COLOR.red : COLOR.green;
      out.push(el('circle', { cx: px, cy: y(ratio ?? 1), r, fill: color, class: `w-${w.status === 'breach' ? 'breach' : 'healthy'}` }, ...(title ? [title] : [])));
    }
  });

  firedMarker(out, rb.triggered ? at(rb.triggered_at) : null, TOP, BOTTOM, `rollback fired ${timeText(rb.triggered_at)}`);
  xAxis(out, x, timeAxis, BOTTOM + 2);
  out.push(
    legend(
      [
        { mark: dot(COLOR.green), label: 'healthy window' },
        { mark: dot(COLOR.red), label: 'breach' },
        { mark: dot(COLOR.light, true), label: `too few records (< ${num(rb.min_count, 6)} per model)` },
        { mark: dash(COLOR.red), label: 'max ratio' },
      ],
      BOTTOM + 50,
    ),
  );
  return svg(W, BOTTOM + 62, 'Challenger to champion quantile ratio per window', out.join(''), 'chart rollback');
}

/** Each model's quantile of the rollback field per window (the numbers behind the ratio). */
export function rollbackQuantileChart(rb: RollbackReport, control: string, treatment: string): string {
  const ws = rb.windows ?? [];
  if (!ws.some((w) => isNum(w.control_quantile) || isNum(w.treatment_quantile))) return '';
  const PX0q = 70;
  const PX1q = 960;
  const TOP = 20;
  const BOTTOM = 200;
  const out: string[] = [];
  const { pos, x, timeAxis } = windowAxis(rb, PX0q, PX1q);
  const y = linear(niceDomain([0, ...ws.map((w) => w.control_quantile), ...ws.map((w) => w.treatment_quantile)], 5), [BOTTOM, TOP]);
  yGrid(out, y, PX0q, PX1q, (v) => num(v, 4));
  const series = [
    { key: 'control_quantile' as const, color: COLOR.control },
    { key: 'treatment_quantile' as const, color: COLOR.treatment },
  ];
  for (const s of series) {
    let d = '';
    let pen = false;
    ws.forEach((w, i) => {
      const v = w[s.key];
      if (!isNum(v)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${coord((pos[i]!.x0 + pos[i]!.x1) / 2)},${coord(y(v))}`;
      pen = true;
    });
    if (d) out.push(el('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-linejoin': 'round', class: `q-${s.key}` }));
  }
  xAxis(out, x, timeAxis, BOTTOM + 2);
  const q = isNum(rb.quantile) ? `p${num(rb.quantile * 100, 6)}` : 'quantile';
  out.push(
    legend(
      [
        { mark: bar(COLOR.control), label: `${q} ${rb.field} of ${control} (champion)` },
        { mark: bar(COLOR.treatment), label: `${q} ${rb.field} of ${treatment} (challenger)` },
      ],
      BOTTOM + 50,
    ),
  );
  return svg(W, BOTTOM + 62, `${q} of ${rb.field} per window and model`, out.join(''), 'chart rollback-quantiles');
}

// ---------------------------------------------------------------------------------------------
// horizontal bars

export interface BarRow {
  label: string;
  value: number | null;
  /** an interval drawn as a whisker */
  ci?: [number | null, number | null] | null;
  /** a limit drawn as a dashed tick on this row */
  limit?: number | null;
  color: string;
  note: string;
}

/**
 * One bar per row from 0 (or the domain's start) to the value, with an optional whisker and a
 * dashed limit; `format` labels the axis. '' without rows.
 */
export function barChart(rows: BarRow[], opts: { domain?: [number, number]; format: (v: number) => string; title: string; limitLabel?: string; cls?: string }): string {
  if (!rows.length) return '';
  const BX0 = 230;
  const BX1 = 640;
  const NX = 655;
  const ROW = 26;
  const TOP = 22;
  const domain = opts.domain ?? niceDomain([0, ...rows.flatMap((r) => [r.value, r.limit, r.ci?.[0], r.ci?.[1]])], 5);
  const x = linear(domain, [BX0, BX1]);
  const clampX = (v: number) => Math.min(BX1, Math.max(BX0, x(v)));
  const bottom = TOP + rows.length * ROW;
  const out: string[] = [];
  const tickValues = ticks(x.domain[0], x.domain[1], 5);
  for (const t of tickValues) out.push(line(x(t), TOP, x(t), bottom, { stroke: COLOR.faint }));
  let limitLabelled = false;
  rows.forEach((r, i) => {
    const top = TOP + i * ROW;
    const cy = top + ROW / 2;
    out.push(el('text', { x: 10, y: cy + 4, class: 'bar-label' }, `<title>${esc(r.label)}</title>${esc(clip(r.label, 34))}`));
    if (isNum(r.value)) {
      const base = clampX(Math.max(0, x.domain[0]));
      const vx = clampX(r.value);
      out.push(el('rect', { x: Math.min(base, vx), y: cy - 7, width: Math.max(1, Math.abs(vx - base)), height: 14, fill: r.color, class: 'bar' }));
    } else {
      out.push(text(BX0 + 6, cy + 4, 'no data', { class: 'fp-none' }));
    }
    if (r.ci && isNum(r.value)) {
      const lo = isNum(r.ci[0]) ? clampX(r.ci[0]) : BX0;
      const hi = isNum(r.ci[1]) ? clampX(r.ci[1]) : BX1;
      out.push(line(lo, cy, hi, cy, { stroke: COLOR.ink, 'stroke-width': 1.5 }));
      out.push(line(lo, cy - 5, lo, cy + 5, { stroke: COLOR.ink, 'stroke-width': 1.5 }));
      out.push(line(hi, cy - 5, hi, cy + 5, { stroke: COLOR.ink, 'stroke-width': 1.5 }));
    }
    if (isNum(r.limit)) {
      const lx = clampX(r.limit);
      out.push(line(lx, top + 1, lx, top + ROW - 1, { stroke: COLOR.red, 'stroke-width': 2, 'stroke-dasharray': '4 2', class: 'limit' }));
      if (!limitLabelled && opts.limitLabel) {
        limitLabelled = true;
        out.push(text(lx, TOP - 6, opts.limitLabel, { class: 'fp-tol-label', 'text-anchor': 'middle' }));
      }
    }
    out.push(text(NX, cy + 4, r.note, { class: 'bar-note' }));
  });
  out.push(line(BX0, bottom + 2, BX1, bottom + 2, { stroke: COLOR.grey }));
  for (const t of tickValues) out.push(text(x(t), bottom + 16, opts.format(t), { class: 'ax', 'text-anchor': 'middle' }));
  return svg(W, bottom + 24, opts.title, out.join(''), `chart ${opts.cls ?? 'bars'}`);
}

/** Planned vs observed traffic shares as two stacked bars (sample ratio mismatch). */
export function shareChart(expected: Record<string, number>, observed: Record<string, number>, control: string, treatment: string, note: string): string {
  const models = [...new Set([...Object.keys(expected ?? {}), ...Object.keys(observed ?? {})])];
  if (!models.length) return '';
  const SX0 = 110;
  const SX1 = 700;
  const out: string[] = [];
  const rows: [string, Record<string, number>][] = [
    ['planned', expected ?? {}],
    ['observed', observed ?? {}],
  ];
  rows.forEach(([label, shares], i) => {
    const cy = 20 + i * 34;
    out.push(text(10, cy + 5, label, { class: 'bar-label' }));
    const total = models.reduce((s, m) => s + (isNum(shares[m]) && shares[m]! > 0 ? shares[m]! : 0), 0);
    let acc = 0;
    for (const m of models) {
      const v = isNum(shares[m]) && shares[m]! > 0 && total > 0 ? shares[m]! / total : 0;
      if (v <= 0) continue;
      const x0 = SX0 + acc * (SX1 - SX0);
      const w = v * (SX1 - SX0);
      acc += v;
      out.push(el('rect', { x: x0, y: cy - 11, width: w, height: 22, fill: modelColor(m, control, treatment), stroke: '#fff', 'stroke-width': 1, class: 'share' }, `<title>${esc(`${m}: ${percent(shares[m], 2)}`)}</title>`));
      if (w > 90) out.push(text(x0 + 6, cy + 4, clip(`${m} ${percent(shares[m], 1)}`, Math.floor(w / 7)), { class: 'share-label' }));
    }
    if (total <= 0) out.push(text(SX0 + 6, cy + 4, 'no units', { class: 'fp-none' }));
    const list = models.map((m) => `${m} ${percent(shares[m], 2)}`).join(' · ');
    out.push(text(SX1 + 12, cy + 4, clip(list, 42), { class: 'bar-note' }));
  });
  out.push(text(10, 98, note, { class: 'bar-note' }));
  return svg(W, 108, 'Planned and observed share of units per model', out.join(''), 'chart srm');
}

// ---------------------------------------------------------------------------------------------
// distributions

/**
 * Both models' distribution functions of one field (e.g. latency): x the value, y the probability;
 * the champion blue, the challenger orange. '' when neither model has values.
 */
export function cdfChart(c: CdfReport, control: string, treatment: string): string {
  const series = [control, treatment].map((m) => ({ m, v: c.values[m] ?? [] }));
  const all = series.flatMap((s) => s.v).filter(isNum);
  if (!all.length) return '';
  const X0 = 70;
  const X1 = 960;
  const TOP = 20;
  const BOTTOM = 220;
  const x = linear(niceDomain(all, 6), [X0, X1]);
  const y = linear([0, 1], [BOTTOM, TOP]);
  const out: string[] = [];
  yGrid(out, y, X0, X1, (v) => percent(v, 0));
  for (const { m, v } of series) {
    let d = '';
    v.forEach((val, k) => {
      if (!isNum(val)) return;
      d += `${d ? 'L' : 'M'}${coord(x(val))},${coord(y(c.probabilities[k]!))}`;
    });
    if (d) out.push(el('path', { d, fill: 'none', stroke: modelColor(m, control, treatment), 'stroke-width': 2.2, class: `cdf-${m === control ? 'control' : 'treatment'}` }));
  }
  for (const t of ticks(x.domain[0], x.domain[1], 6)) {
    out.push(line(x(t), BOTTOM, x(t), BOTTOM + 5, { stroke: COLOR.grey }));
    out.push(text(x(t), BOTTOM + 18, num(t, 4), { class: 'ax', 'text-anchor': 'middle' }));
  }
  out.push(line(X0, BOTTOM, X1, BOTTOM, { stroke: COLOR.grey }));
  out.push(text((X0 + X1) / 2, BOTTOM + 36, esc(c.field), { class: 'ax', 'text-anchor': 'middle' }));
  out.push(
    legend(
      [
        { mark: bar(COLOR.control), label: `${control} (champion)` },
        { mark: bar(COLOR.treatment), label: `${treatment} (challenger)` },
      ],
      BOTTOM + 58,
    ),
  );
  return svg(W, BOTTOM + 70, `Distribution of ${c.field} per model`, out.join(''), 'chart cdf');
}

/** Both models' histograms of one field over shared bins, as shares of each model's records. */
export function histogramChart(h: HistogramReport, control: string, treatment: string): string {
  const series = [control, treatment].map((m) => {
    const counts = h.counts[m] ?? [];
    const total = counts.reduce((s, c) => s + c, 0);
    return { m, shares: counts.map((c) => (total > 0 ? c / total : 0)) };
  });
  if (!series.some((s) => s.shares.some((v) => v > 0)) || h.edges.length < 2) return '';
  const X0 = 70;
  const X1 = 960;
  const TOP = 20;
  const BOTTOM = 200;
  const x = linear([h.edges[0]!, h.edges[h.edges.length - 1]!], [X0, X1]);
  const y = linear(niceDomain([0, ...series.flatMap((s) => s.shares)], 5), [BOTTOM, TOP]);
  const out: string[] = [];
  yGrid(out, y, X0, X1, (v) => percent(v, 0));
  series.forEach(({ m, shares }, k) => {
    const color = modelColor(m, control, treatment);
    shares.forEach((v, b) => {
      if (!(v > 0)) return;
      const left = x(h.edges[b]!);
      const right = x(h.edges[b + 1]!);
      const w = (right - left) / 2;
      out.push(el('rect', { x: coord(left + k * w), y: coord(y(v)), width: coord(Math.max(w - 0.5, 0.5)), height: coord(BOTTOM - y(v)), fill: color, 'fill-opacity': 0.85, class: `hist-${k === 0 ? 'control' : 'treatment'}` }));
    });
  });
  for (const t of ticks(x.domain[0], x.domain[1], 6)) {
    out.push(line(x(t), BOTTOM, x(t), BOTTOM + 5, { stroke: COLOR.grey }));
    out.push(text(x(t), BOTTOM + 18, num(t, 4), { class: 'ax', 'text-anchor': 'middle' }));
  }
  out.push(line(X0, BOTTOM, X1, BOTTOM, { stroke: COLOR.grey }));
  out.push(text((X0 + X1) / 2, BOTTOM + 36, `${esc(h.field)} (share of each model's records per bin)`, { class: 'ax', 'text-anchor': 'middle' }));
  out.push(
    legend(
      [
        { mark: bar(COLOR.control), label: `${control} (champion)` },
        { mark: bar(COLOR.treatment), label: `${treatment} (challenger)` },
      ],
      BOTTOM + 58,
    ),
  );
  return svg(W, BOTTOM + 70, `Histogram of ${h.field} per model`, out.join(''), 'chart histogram');
}
