import { describe, expect, it } from 'vitest';
import { RollbackJudge, evaluateRollback, isoTime } from '../../src/analysis/rollback.js';
import type { RollbackRule } from '../../src/analysis/spec.js';

const rule: RollbackRule = { field: 'latency_ms', quantile: 0.99, maxRatio: 1.2, window: '1m', windowMs: 60_000, consecutive: 3, minCount: 5 };
const T0 = Date.parse('2026-11-02T09:00:00Z');
const vals = (v: number, n: number) => new Float64Array(n).fill(v);

describe('RollbackJudge', () => {
  it('fires at the end of the consecutive-th breaching window', () => {
    const j = new RollbackJudge(rule);
    const ratios = [1.0, 1.3, 1.3, 1.0, 1.3, 1.3, 1.3, 1.3];
    const fired = ratios.map((r, k) => j.judge({ start: T0 + k * 60_000, control: vals(100, 10), treatment: vals(100 * r, 10) }).fired);
    expect(fired).toEqual([false, false, false, false, false, false, true, false]);
    const rep = j.report();
    expect(rep.triggered).toBe(true);
    expect(rep.triggered_at).toBe(new Date(T0 + 7 * 60_000).toISOString());
    expect(rep.windows.map((w) => w.streak)).toEqual([0, 1, 2, 0, 1, 2, 3, 4]);
  });
  it('a window with too few records is insufficient: it neither breaks nor extends a streak', () => {
    const j = new RollbackJudge(rule);
    j.judge({ start: T0, control: vals(100, 10), treatment: vals(150, 10) });
    j.judge({ start: T0 + 60_000, control: vals(100, 10), treatment: vals(150, 10) });
    const thin = j.judge({ start: T0 + 120_000, control: vals(100, 10), treatment: vals(100, 2) });
    expect(thin.window.status).toBe('insufficient');
    expect(thin.window.streak).toBe(2);
    const third = j.judge({ start: T0 + 180_000, control: vals(100, 10), treatment: vals(150, 10) });
    expect(third.fired).toBe(true);
    // the reason says the streak's windows were not all adjacent
    expect(j.report().reason).toBe(
      "rollback fired at 2026-11-02T09:04:00.000Z: the challenger's p99 latency_ms was above 1.2x the champion's for 3 consecutive 1m windows judged (1 window among them could not be judged and was skipped)",
    );
    // a thin window before the streak, or in a streak a healthy window ended, is not among them
    const k = new RollbackJudge(rule);
    const feed = (tr: number, n: number, at: number) => k.judge({ start: T0 + at * 60_000, control: vals(100, 10), treatment: vals(tr, n) });
    feed(150, 2, 0);
    feed(150, 10, 1);
    feed(150, 2, 2);
    feed(100, 10, 3);
    for (let at = 4; at < 7; at++) feed(150, 10, at);
    expect(k.report().reason).toMatch(/for 3 consecutive 1m windows$/);
  });
  it('a healthy run does not fire and says why', () => {
    const j = new RollbackJudge(rule);
    for (let k = 0; k < 5; k++) j.judge({ start: T0 + k * 60_000, control: vals(100, 10), treatment: vals(110, 10) });
    const rep = j.report();
    expect(rep.triggered).toBe(false);
    expect(rep.triggered_at).toBeNull();
    expect(rep.reason).toMatch(/did not fire/);
  });
  it('says why windows were not judged: too few records, or a champion quantile of 0 or below (no ratio), never the one for the other', () => {
    const zero = new RollbackJudge(rule);
    for (let k = 0; k < 3; k++) zero.judge({ start: T0 + k * 60_000, control: vals(0, 300), treatment: vals(5, 300) });
    let reason = zero.report().reason;
    expect(reason).toMatch(/could not be evaluated: no window could be judged \(3 where the champion's p99 latency_ms is 0 or below, so there is no ratio\)/);
    expect(reason).not.toMatch(/records per model|too few/);
    const mixed = new RollbackJudge(rule);
    mixed.judge({ start: T0, control: vals(0, 300), treatment: vals(5, 300) });
    mixed.judge({ start: T0 + 60_000, control: vals(100, 1), treatment: vals(100, 1) });
    mixed.judge({ start: T0 + 120_000, control: vals(100, 300), treatment: vals(100, 300) });
    reason = mixed.report().reason;
    expect(reason).toBe(
      `rollback rule did not fire: 1 window(s) judged, 1 with too few records to judge (fewer than ${rule.minCount} per model), 1 where the champion's p99 latency_ms is 0 or below, so there is no ratio`,
    );
  });
  it('no judgeable window is reported as not evaluable, never as healthy', () => {
    const j = new RollbackJudge(rule);
    j.judge({ start: T0, control: vals(100, 1), treatment: vals(300, 1) });
    expect(j.report().reason).toMatch(/could not be evaluated/);
  });
});

describe('evaluateRollback over records', () => {
  it('buckets by window, includes empty windows and skips missing timestamps', () => {
    const ts: number[] = [];
    const v: number[] = [];
    const model: number[] = [];
    for (let k = 0; k < 6; k++) {
      if (k === 2) continue; // an empty minute
      for (let i = 0; i < 10; i++) {
        ts.push(T0 + k * 60_000 + i * 1000);
        v.push(100);
        model.push(0);
        ts.push(T0 + k * 60_000 + i * 1000 + 500);
        v.push(k >= 3 ? 200 : 100);
        model.push(1);
      }
    }
    ts.push(NaN);
    v.push(1);
    model.push(1);
    const rows: [Int32Array, Int32Array] = [
      Int32Array.from(model.flatMap((m, i) => (m === 0 ? [i] : []))),
      Int32Array.from(model.flatMap((m, i) => (m === 1 ? [i] : []))),
    ];
    const { report, missingTs } = evaluateRollback(rule, Float64Array.from(ts), Float64Array.from(v), rows);
    expect(missingTs).toBe(1);
    expect(report.windows).toHaveLength(6);
    expect(report.windows[2]!.status).toBe('insufficient');
    expect(report.triggered).toBe(true);
    expect(report.triggered_at).toBe(new Date(T0 + 6 * 60_000).toISOString());
  });

  it('a ts at the very end (or start) of the range a Date holds: the window is named as ending there, no crash', () => {
    // a 7-minute window: -8.64e15 is not a multiple of it, so its window starts before the range
    const seven = { ...rule, windowMs: 7 * 60_000, window: '7m' };
    const ts = Float64Array.from([8.64e15, -8.64e15, T0]);
    const v = Float64Array.from([1, 1, 1]);
    const rows: [Int32Array, Int32Array] = [Int32Array.from([0, 1, 2]), new Int32Array(0)];
    for (const r of [rule, seven]) {
      const { report } = evaluateRollback(r, ts, v, rows);
      expect(report.triggered).toBe(false);
      const ends = report.windows.map((w) => w.end);
      expect(ends).toContain('+275760-09-13T00:00:00.000Z');
      expect(report.windows.map((w) => w.start)[0]).toBe(r === seven ? '-271821-04-20T00:00:00.000Z' : new Date(-8.64e15).toISOString());
    }
    expect(isoTime(8.64e15 + 60_000)).toBe('+275760-09-13T00:00:00.000Z');
    expect(isoTime(T0)).toBe(new Date(T0).toISOString());
  });
});
