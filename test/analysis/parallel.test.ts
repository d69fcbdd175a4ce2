/**
 * evaluateParallel: the overall segment on this thread, the others on a SegmentWorker (a real worker
 * thread running dist/analysis/segmentWorker.js, so this needs the build `npm test` runs first). The
 * report must be exactly evaluate's, for every shipped example (A/B, canary, shadow with drift and
 * agreement), also when the worker fails.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collect } from '../../src/analysis/aggregate.js';
import { evaluate, evaluateParallel, otherSegments, type SegmentRunner } from '../../src/analysis/evaluate.js';
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
    it(`${name}: the same report as evaluate, the segments computed on the worker`, async () => {
      const { spec, roles, store, account } = await load(name);
      const one = evaluate(spec, roles, store, account, OPTIONS);
      const before = worker!.served;
      const two = await evaluateParallel(spec, roles, store, account, OPTIONS, worker!);
      expect(JSON.stringify(two)).toBe(JSON.stringify(one));
      expect(worker!.lastError).toBeNull();
      // the worker did the segments, when there are any besides the overall one
      expect(worker!.served).toBe(before + (one.segments.length > 1 ? 1 : 0));
    });
  }

  it('the examples did exercise the worker', () => {
    expect(worker!.served).toBeGreaterThanOrEqual(4);
  });

  it('from eight segments on, this thread computes the last eighth of them besides the overall one: same report', async () => {
    const { spec, roles, store, account } = await load('ab-segment-loss');
    // several segment fields, one of them numeric: nine or more segments
    const many = { ...spec, segments: ['country', 'converted', 'error'] };
    const one = evaluate(many, roles, store, account, OPTIONS);
    const others = one.segments.length - 1;
    expect(others).toBeGreaterThanOrEqual(8);
    const asked: number[][] = [];
    const spy: SegmentRunner = { run: (input) => (asked.push(input.which), worker!.run(input)) };
    const two = await evaluateParallel(many, roles, store, account, OPTIONS, spy);
    expect(JSON.stringify(two)).toBe(JSON.stringify(one));
    const mine = Math.floor(others / 8);
    expect(mine).toBeGreaterThanOrEqual(1);
    expect(asked).toEqual([Array.from({ length: others - mine }, (_, k) => k + 1)]);
  });

  it('a failing worker: this thread computes the segments, same report', async () => {
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
        const r = otherSegments(input);
        return { ...r, summaries: [...r.summaries].reverse(), stats: [...r.stats].reverse(), shadows: [...r.shadows].reverse() };
      },
    };
    const short: SegmentRunner = {
      run: async (input) => {
        const r = otherSegments(input);
        return { ...r, summaries: r.summaries.slice(1), stats: r.stats.slice(1), shadows: r.shadows.slice(1) };
      },
    };
    for (const runner of [shuffled, short]) {
      const two = await evaluateParallel(spec, roles, store, account, OPTIONS, runner);
      expect(JSON.stringify(two)).toBe(JSON.stringify(one));
    }
  });
});

describe('the work as posted to the worker', () => {
  it('shares the column arrays (shared memory), and dictionaries cross as their size only', async () => {
    const { spec, roles, store } = await load('ab-win');
    const work = { spec, roles, store, seed: 1, resamples: 10, which: [1] };
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
