/**
 * evaluateParallel: the statistics from sorted values on this thread, those from per-unit sums on a
 * SegmentWorker (a real worker thread running dist/analysis/segmentWorker.js, so this needs the build `npm test` runs first). The
 * report must be exactly evaluate's, for every shipped example (A/B, canary, shadow with drift and
 * agreement), also when the worker fails.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collect } from '../../src/analysis/aggregate.js';
import { evaluate, evaluateParallel, computePart, type SegmentRunner } from '../../src/analysis/evaluate.js';
import { fromWire, SegmentWorker, toWire } from '../../src/analysis/parallel.js';
import { buildReadPlan } from '../../src/analysis/readPlan.js';
import { loadSpec } from '../../src/analysis/spec.js';
import { readLogs } from '../../src/ingest/index.js';
import { ROOT } from '../helpers/reference.js';

const EXAMPLES = join(ROOT, 'fixtures/examples');
const OPTIONS = { specFile: 'spec.json', lock: null, seed: 7, resamples: 500, version: 'test', now: new Date(0) };

async function load(name: string) {
  const dir = join(EXAMPLES, name);
  const spec = loadSpec(join(dir, 'spec.json'));
  const { plan, roles } = buildReadPlan(spec);
  const log = readdirSync(dir).find((f) => f.startsWith('logs.'))!;
  const { batches, account } = readLogs([join(dir, log)], plan, { threads: false });
  const store = await collect(batches);
  return { spec, roles, store, account };
}

describe('evaluateParallel', () => {
  const worker = SegmentWorker.start();
  afterAll(() => worker?.close());

  it('has a compiled worker to run (the build ran)', () => {
    expect(worker).not.toBeNull();
  });

  const names = readdirSync(EXAMPLES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  for (const name of names) {
    it(`${name}: the same report as evaluate, part of it computed on the worker`, async () => {
      const { spec, roles, store, account } = await load(name);
      const one = evaluate(spec, roles, store, account, OPTIONS);
      const before = worker!.served;
      const two = await evaluateParallel(spec, roles, store, account, OPTIONS, worker!);
      expect(JSON.stringify(two)).toBe(JSON.stringify(one));
      expect(worker!.lastError).toBeNull();
      // the worker did its part, when the spec has segments and metrics on per-unit sums
      const sums = [spec.primary, ...spec.guardrails].some((m) => m !== undefined && m.type !== 'quantile');
      expect(worker!.served).toBe(before + (spec.segments.length > 0 && sums ? 1 : 0));
    });
  }

  it('the examples did exercise the worker', () => {
    expect(worker!.served).toBeGreaterThanOrEqual(4);
  });

  it('the worker computes every segment\'s metrics on per-unit sums, this thread the quantile metrics and the shadow checks: same report', async () => {
    const { spec, roles, store, account } = await load('ab-segment-loss');
    // several segment fields, one of them numeric, and a metric of each type
    const many = {
      ...spec,
      segments: ['country', 'converted', 'error'],
      guardrails: [
        ...spec.guardrails,
        { name: 'lat_mean', field: 'latency_ms', type: 'mean', direction: 'decrease', test: 'welch', tolerance: { kind: 'relative', max: 0.1 } },
        { name: 'lat_rank', field: 'latency_ms', type: 'rank', direction: 'decrease', test: 'mannwhitney', tolerance: { kind: 'relative', max: 0.1 } },
      ],
      drift: [{ field: 'latency_ms', maxKs: 0.1 }],
    } as typeof spec;
    const one = evaluate(many, roles, store, account, OPTIONS);
    expect(one.segments.length).toBeGreaterThanOrEqual(9);
    const asked: { which: number[]; part: string }[] = [];
    const answers: Awaited<ReturnType<SegmentRunner['run']>>[] = [];
    const spy: SegmentRunner = {
      run: async (input) => {
        asked.push({ which: input.which, part: input.part });
        const r = await worker!.run(input);
        answers.push(r);
        return r;
      },
    };
    const two = await evaluateParallel(many, roles, store, account, OPTIONS, spy);
    expect(JSON.stringify(two)).toBe(JSON.stringify(one));
    expect(asked).toEqual([{ which: one.segments.map((_, k) => k), part: 'sums' }]);
    const types = [many.primary!, ...many.guardrails].map((m) => m.type);
    expect(types).toContain('quantile');
    for (const row of answers[0]!.stats) expect(row.map((st) => st !== null)).toEqual(types.map((t) => t !== 'quantile'));
    expect(answers[0]!.shadows.every((sh) => sh === null)).toBe(true);
  });

  it('a failing worker: this thread computes its part too, same report', async () => {
    const { spec, roles, store, account } = await load('ab-segment-loss');
    const failing: SegmentRunner = { run: () => Promise.reject(new Error('gone')) };
    const one = evaluate(spec, roles, store, account, OPTIONS);
    const two = await evaluateParallel(spec, roles, store, account, OPTIONS, failing);
    expect(JSON.stringify(two)).toBe(JSON.stringify(one));
  });

  it('a spec without segments never asks the worker', async () => {
    const { spec, roles, store, account } = await load('ab-win');
    const flat = { ...spec, segments: [] };
    const asked: number[] = [];
    const spy: SegmentRunner = { run: (input) => (asked.push(input.spec.segments.length), Promise.reject(new Error('unused'))) };
    const two = await evaluateParallel(flat, roles, store, account, OPTIONS, spy);
    expect(asked).toEqual([]);
    expect(JSON.stringify(two)).toBe(JSON.stringify(evaluate(flat, roles, store, account, OPTIONS)));
  });
});

describe('segments that are not this thread\'s', () => {
  it('are not used: this thread computes them, same report', async () => {
    const { spec, roles, store, account } = await load('ab-segment-loss');
    const one = evaluate(spec, roles, store, account, OPTIONS);
    expect(one.segments.length).toBeGreaterThan(2);
    const shuffled: SegmentRunner = {
      run: async (input) => {
        const r = computePart(input);
        return { ...r, summaries: [...r.summaries].reverse(), stats: [...r.stats].reverse(), shadows: [...r.shadows].reverse() };
      },
    };
    const short: SegmentRunner = {
      run: async (input) => {
        const r = computePart(input);
        return { ...r, summaries: r.summaries.slice(1), stats: r.stats.slice(1), shadows: r.shadows.slice(1) };
      },
    };
    // the same segments, but counted differently: not this thread's grouping
    const miscounted: SegmentRunner = {
      run: async (input) => {
        const r = computePart(input);
        return { ...r, summaries: r.summaries.map((x, k) => (k === 1 ? { ...x, units: [x.units[0] + 1, x.units[1]] as [number, number] } : x)) };
      },
    };
    // the right segments, but a metric's result missing, or a row cut short
    const holed: SegmentRunner = {
      run: async (input) => {
        const r = computePart(input);
        return { ...r, stats: r.stats.map((row, k) => (k === 2 ? row.map(() => null) : k === 3 ? row.slice(0, 1) : row)) };
      },
    };
    for (const runner of [shuffled, short, miscounted, holed]) {
      const two = await evaluateParallel(spec, roles, store, account, OPTIONS, runner);
      expect(JSON.stringify(two)).toBe(JSON.stringify(one));
    }
  });
});

describe('the work as posted to the worker', () => {
  it('shares the column arrays (shared memory), and dictionaries cross as their size only', async () => {
    const { spec, roles, store } = await load('ab-win');
    const work = { spec, roles, store, seed: 1, resamples: 10, which: [1], part: 'sums' as const };
    const wire = toWire(work);
    const back = fromWire(structuredClone(wire));
    const unit = back.store.columns.get(roles.unit)!;
    const original = store.columns.get(roles.unit)!;
    if (unit.kind !== 'dict' || original.kind !== 'dict') throw new Error('the unit column is a dictionary column');
    expect(original.codes.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(unit.dict.size).toBe(original.dict.size);
    expect(Array.from(unit.codes)).toEqual(Array.from(original.codes));
    // a write through the original is seen through the clone: one memory, not a copy
    const saved = original.codes[0]!;
    original.codes[0] = -7;
    expect(unit.codes[0]).toBe(-7);
    original.codes[0] = saved;
    expect(() => unit.dict.values).toThrow(/not available on the segment worker/);
    // a segment field's values cross: they name and order the segments
    for (const field of spec.segments) {
      const seg = back.store.columns.get(field);
      const orig = store.columns.get(field);
      if (seg?.kind === 'dict' && orig?.kind === 'dict') expect(seg.dict.values).toEqual(orig.dict.values);
    }
  });
});
