/**
 * segmentResults takes a segment's per-unit sums from the overall segment's when every unit lies in
 * one of the field's segments (SplitSums): the statistics must be those summed over the segment's
 * own rows, and a field whose units cross segments must still be summed row by row.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect, type ColumnStore, type DictColumn } from '../../src/analysis/aggregate.js';
import { groupsOf, segmentResults, sharedSorts } from '../../src/analysis/evaluate.js';
import { dictColumn, unitSegments } from '../../src/analysis/groups.js';
import { computeMetric, SortedValues, type Metric } from '../../src/analysis/metrics.js';
import { sortPresentAt } from '../../src/core/ranks.js';
import { buildReadPlan } from '../../src/analysis/readPlan.js';
import { loadSpec } from '../../src/analysis/spec.js';
import { readLogs } from '../../src/ingest/index.js';
import { ROOT } from '../helpers/reference.js';

/**
 * A log of 3000 requests by 400 users (several each; a user keeps one model and one country, but
 * every 17th has no country), with missing latencies and errors; the spec: ab-win's with a mean and
 * a rank guardrail on latency_ms added.
 */
async function load(everyCountry = false) {
  const dir = mkdtempSync(join(tmpdir(), 'split-sums-'));
  const lines: string[] = [];
  const countries = ['BR', 'DE', 'IN', 'US', 'ZA'];
  for (let i = 0; i < 3000; i++) {
    const u = (i * 7919) % 400;
    const row: Record<string, unknown> = {
      ts: new Date(Date.UTC(2026, 10, 2) + i * 1000).toISOString(),
      request_id: `r${i}`,
      user_id: `u${u}`,
      model: u % 2 ? 'challenger' : 'champion',
      converted: (i * 13) % 11 < 2 ? 1 : 0,
    };
    if (everyCountry || u % 17 !== 0) row.country = countries[u % 5];
    if (i % 23 !== 0) row.latency_ms = 20 + ((i * 31) % 97) / 4 + (u % 2) * 1.5;
    if (i % 5 !== 0) row.error = (i * 3) % 29 === 0;
    lines.push(JSON.stringify(row));
  }
  writeFileSync(join(dir, 'logs.jsonl'), lines.join('\n') + '\n');
  const base = JSON.parse(readFileSync(join(ROOT, 'fixtures/examples/ab-win/spec.json'), 'utf8'));
  base.guardrails.push(
    { name: 'latency_mean', field: 'latency_ms', type: 'mean', direction: 'decrease', max_relative_change: 0.1 },
    { name: 'latency_rank', field: 'latency_ms', type: 'rank', direction: 'decrease', max_relative_change: 0.1 },
  );
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(base));
  const spec = loadSpec(join(dir, 'spec.json'));
  const { plan, roles } = buildReadPlan(spec);
  const { batches } = readLogs([join(dir, 'logs.jsonl')], plan, { threads: false });
  return { spec, roles, store: await collect(batches) };
}

/** Each segment's metrics on per-unit sums, as segmentResults gives them and as summed over the segment's own rows. */
function both(spec: Awaited<ReturnType<typeof load>>['spec'], roles: Awaited<ReturnType<typeof load>>['roles'], store: ColumnStore) {
  const { groups } = groupsOf(spec, roles, store);
  const work = { spec, roles, store, groups, seed: 3, resamples: 200 };
  const which = groups.map((_, gi) => gi);
  const got = segmentResults(work, which, new SortedValues(), 'sums');
  const unit = dictColumn(store, roles.unit)!;
  const metrics = [spec.primary, ...spec.guardrails].filter((m) => m !== undefined) as Metric[];
  const ctx = { store, unitCodes: unit.codes, unitCount: unit.dict.size, alpha: spec.alpha, resamples: 200, seed: 3, unitIsRequest: spec.unit === 'request_id', sorted: new SortedValues() };
  const scratch = new Int32Array(unit.dict.size);
  const want = groups.map((g) => metrics.map((m) => (m.type === 'quantile' ? null : computeMetric(m, g!.rows, ctx, scratch, new Map(), g!.units))));
  return { got: got.stats, want, segments: groups.length };
}

describe('segments\' per-unit sums split from the overall segment\'s', () => {
  it('every user in one country (or none): the same statistics as summed over each segment\'s rows', async () => {
    const { spec, roles, store } = await load();
    const country = dictColumn(store, 'country')!;
    const unit = dictColumn(store, roles.unit)!;
    expect(unitSegments(unit.codes, country.codes, unit.dict.size)).not.toBeNull();
    const { got, want, segments } = both(spec, roles, store);
    expect(segments).toBe(6);
    expect(got).toEqual(want);
    // clustered by user, every metric on per-unit sums tested in every segment
    const tested = got.flat().filter((m) => m !== null);
    expect(tested.length).toBe(6 * 4);
    for (const m of tested) {
      expect(m!.clustered).toBe(true);
      expect(m!.degenerate).toBeNull();
    }
  });

  it('a user seen in two countries: the field is summed row by row, the same statistics', async () => {
    const { spec, roles, store } = await load();
    const country = dictColumn(store, 'country')!;
    const unit = dictColumn(store, roles.unit)!;
    // the first user's second row moves to another country
    const codes = country.codes.slice();
    const u = unit.codes[0]!;
    const second = unit.codes.indexOf(u, 1);
    expect(second).toBeGreaterThan(0);
    codes[second] = (codes[second]! + 1) % country.dict.size;
    const moved: DictColumn = { ...country, codes };
    const changed: ColumnStore = { ...store, columns: new Map(store.columns).set('country', moved) };
    expect(unitSegments(unit.codes, codes, unit.dict.size)).toBeNull();
    const { got, want } = both(spec, roles, changed);
    expect(got).toEqual(want);
  });
});

describe('segments whose values read as the same text', () => {
  it('invalid UTF-8 values (two codes, two segments, both U+FFFD): each segment keeps its own statistics', async () => {
    // Latin-1 text in a UTF-8 log: S\xe3o and S\xe1o are two values, both read as "S\uFFFDo"
    const dir = mkdtempSync(join(tmpdir(), 'split-sums-utf8-'));
    const lines: Buffer[] = [];
    for (let i = 0; i < 400; i++) {
      const u = i % 80;
      const country = Buffer.from(u % 2 ? 'S\xe3o' : 'S\xe1o', 'latin1');
      const head = `{"ts":"2026-11-02T09:00:00Z","request_id":"r${i}","user_id":"u${u}","model":"${u % 4 < 2 ? 'champion' : 'challenger'}","country":"`;
      // the two countries convert in opposite directions, so a mix-up shows
      const converted = (u % 2 === 1) === (u % 4 < 2) ? 1 : i % 7 === 0 ? 1 : 0;
      lines.push(Buffer.concat([Buffer.from(head), country, Buffer.from(`","converted":${converted},"latency_ms":${20 + (i % 13)},"error":false}\n`)]));
    }
    writeFileSync(join(dir, 'logs.jsonl'), Buffer.concat(lines));
    const base = JSON.parse(readFileSync(join(ROOT, 'fixtures/examples/ab-win/spec.json'), 'utf8'));
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...base, correction: 'none' }));
    const spec = loadSpec(join(dir, 'spec.json'));
    const { plan, roles } = buildReadPlan(spec);
    const { batches } = readLogs([join(dir, 'logs.jsonl')], plan, { threads: false });
    const store = await collect(batches);
    const country = dictColumn(store, 'country')!;
    expect(country.dict.size).toBe(2);
    expect(new Set(country.dict.values).size).toBe(1);
    const { got, want, segments } = both(spec, roles, store);
    expect(segments).toBe(3);
    expect(got).toEqual(want);
    // and the two segments do differ
    expect(want[1]![0]!.estimate).not.toBe(want[2]![0]!.estimate);
  });
});

describe('the grouped sorts of the segments (their tags read from the segment field\'s codes)', () => {
  it('give every segment and arm the values a sort of its own rows gives', async () => {
    // every user in a country: the countries split the overall rows
    const { spec, roles, store } = await load(true);
    const { groups } = groupsOf(spec, roles, store);
    const sorted = sharedSorts(spec, store, groups as NonNullable<(typeof groups)[number]>[]);
    const latency = store.columns.get('latency_ms')!;
    if (latency.kind !== 'number') throw new Error('latency_ms is not a number column');
    let compared = 0;
    // the overall rows first, as evaluate asks for them: the grouped sort fills every segment's too
    for (const g of groups) {
      for (const m of [0, 1] as const) {
        const got = sorted.get(latency.values, g!.rows[m]);
        expect([...got]).toEqual([...sortPresentAt(latency.values, g!.rows[m])]);
        compared += got.length;
      }
    }
    expect(compared).toBeGreaterThan(2 * 2500);
  });
});
