import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  SpecError,
  TESTS_FOR_TYPE,
  canonicalJson,
  columnOf,
  keysInText,
  keysInValue,
  loadSpec,
  parseDuration,
  parseSpec,
  registration,
  registrationHash,
  specHash,
  type ExperimentSpec,
} from '../../src/analysis/spec.js';

const FIX = new URL('../../fixtures/specs/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIX), 'utf8');
const load = (name: string): ExperimentSpec => loadSpec(new URL(name, FIX).pathname);

/** The problems of a spec that must not parse. */
function problems(text: string, fileName = 'experiment.yaml'): string[] {
  try {
    parseSpec(text, fileName);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).message.split('\n');
  }
  throw new Error('expected a SpecError');
}

const base = {
  stage: 'ab',
  control: 'A',
  treatment: 'B',
  allocation: { A: 0.5, B: 0.5 },
  primary: { name: 'conversion', field: 'converted', type: 'proportion', direction: 'increase', mde: 0.01 },
};
/** `base` with changes (a key set to undefined is removed), as JSON text. */
const spec = (changes: Record<string, unknown> = {}): string => JSON.stringify({ ...base, ...changes });
const withPrimary = (changes: Record<string, unknown>): string => spec({ primary: { ...base.primary, ...changes } });
const guardrail = { name: 'latency', field: 'latency_ms', type: 'mean', direction: 'decrease', max_relative_change: 0.1 };
const withGuardrail = (changes: Record<string, unknown>): string => spec({ guardrails: [{ ...guardrail, ...changes }] });
const rollback = { field: 'latency_ms', quantile: 0.99, max_ratio: 1.2, window: '1m', consecutive: 5 };
const withRollback = (changes: Record<string, unknown>): string => spec({ rollback: { ...rollback, ...changes } });

describe('parseSpec: valid specs', () => {
  it('reads the contract example (canary.json) into a typed spec', () => {
    const s = load('canary.json');
    expect(s).toEqual({
      name: 'ranker-v2',
      stage: 'canary',
      control: 'champion',
      treatment: 'challenger',
      unit: 'user_id',
      allocation: { control: 0.95, treatment: 0.05 },
      alpha: 0.05,
      power: 0.8,
      correction: 'holm',
      segments: ['country'],
      primary: { name: 'conversion', field: 'converted', type: 'proportion', direction: 'increase', test: 'ztest', mde: { value: 0.01, relative: false } },
      guardrails: [
        { name: 'latency_p99', field: 'latency_ms', type: 'quantile', quantile: 0.99, direction: 'decrease', test: 'bootstrap', tolerance: { kind: 'relative', max: 0.2 } },
        { name: 'error_rate', field: 'error', type: 'proportion', direction: 'decrease', test: 'ztest', tolerance: { kind: 'absolute', max: 0.005 } },
      ],
      drift: [{ field: 'score', maxKs: 0.1 }],
      agreement: { minRate: 0.9, field: 'prediction' },
      rollback: { field: 'latency_ms', quantile: 0.99, maxRatio: 1.2, window: '1m', windowMs: 60_000, consecutive: 5, minCount: 50 },
      fields: {},
    } satisfies ExperimentSpec);
  });

  it.each(['canary', 'ab', 'shadow'])('%s: the YAML and JSON fixtures give the same spec and the same hashes', (name) => {
    const json = load(`${name}.json`);
    const yaml = load(`${name}.yaml`);
    expect(yaml).toEqual(json);
    expect(specHash(yaml)).toBe(specHash(json));
    expect(registrationHash(yaml)).toBe(registrationHash(json));
  });

  it('ab fixture: relative mde, rank test default, fields mapping', () => {
    const s = load('ab.json');
    expect(s.primary).toMatchObject({ type: 'mean', test: 'welch', mde: { value: 0.02, relative: true } });
    expect(s.guardrails[0]).toMatchObject({ type: 'rank', test: 'mannwhitney', tolerance: { kind: 'absolute', max: 5 } });
    expect(s.fields).toEqual({ model: 'variant', user_id: 'uid', ts: 'timestamp' });
    expect(columnOf(s, 'model')).toBe('variant');
    expect(columnOf(s, s.unit)).toBe('uid');
    expect(columnOf(s, 'revenue')).toBe('revenue');
    expect(columnOf(s, 'toString')).toBe('toString');
  });

  it('shadow fixture: no primary and no allocation needed', () => {
    const s = load('shadow.yaml');
    expect(s.primary).toBeUndefined();
    expect(s.allocation).toBeUndefined();
    expect(s.unit).toBe('request_id');
    expect(s.drift).toEqual([
      { field: 'score', maxKs: 0.05 },
      { field: 'latency_ms', maxKs: 0.2 },
    ]);
  });

  it('fills the defaults: unit, alpha, power, correction, segments, lists, test, relative, agreement field, min_count; name from the file', () => {
    const s = parseSpec(spec({ agreement: { min_rate: 0.9 }, rollback }), 'dir/checkout-test.v2.json');
    expect(s).toMatchObject({
      name: 'checkout-test.v2',
      unit: 'user_id',
      alpha: 0.05,
      power: 0.8,
      correction: 'holm',
      segments: [],
      guardrails: [],
      drift: [],
      fields: {},
      agreement: { minRate: 0.9, field: 'prediction' },
      rollback: { minCount: 50 },
    });
    expect(s.primary).toEqual({ name: 'conversion', field: 'converted', type: 'proportion', direction: 'increase', test: 'ztest', mde: { value: 0.01, relative: false } });
    expect(parseSpec('stage: shadow\ncontrol: a\ntreatment: b\n', 'x.yml').name).toBe('x');
  });

  it('defaults each type to its test and accepts the documented overrides', () => {
    expect(TESTS_FOR_TYPE).toEqual({ proportion: ['ztest', 'welch', 'bootstrap'], mean: ['welch', 'bootstrap'], rank: ['mannwhitney'], quantile: ['bootstrap'] });
    for (const [type, tests] of Object.entries(TESTS_FOR_TYPE)) {
      const extra = type === 'quantile' ? { quantile: 0.5 } : {};
      expect(parseSpec(withPrimary({ type, ...extra }), 'x.json').primary!.test).toBe(tests[0]);
      for (const test of tests) expect(parseSpec(withPrimary({ type, test, ...extra }), 'x.json').primary!.test).toBe(test);
    }
  });

  it('detects the format from the content when the extension says nothing', () => {
    expect(parseSpec(spec(), 'spec').stage).toBe('ab');
    expect(parseSpec(fixture('canary.yaml'), 'spec.txt')).toEqual(load('canary.json'));
    expect(parseSpec('\ufeff' + spec(), 'x.json').stage).toBe('ab');
  });

  it('parses window durations to milliseconds', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('250ms')).toBe(250);
    for (const bad of ['', '1', 'm', '0s', '-1m', '1d', '1 min', '0.0001s', '1e3s']) expect(parseDuration(bad), bad).toBeUndefined();
    expect(parseSpec(withRollback({ window: '90s' }), 'x.json').rollback!.windowMs).toBe(90_000);
  });

  it('accepts the closed ends the contract allows: agreement.min_rate 1, drift max_ks 1', () => {
    const s = parseSpec(spec({ agreement: { min_rate: 1 }, drift: [{ field: 'score', max_ks: 1 }] }), 'x.json');
    expect(s.agreement!.minRate).toBe(1);
    expect(s.drift[0]!.maxKs).toBe(1);
  });
});

describe('parseSpec: every problem names its key and what is allowed', () => {
  it('a bad choice: the brief example message, exactly', () => {
    expect(problems(withPrimary({ type: 'ratio' }))).toEqual(['experiment.yaml: primary.type must be one of proportion, mean, rank, quantile (got "ratio")']);
  });

  it('unknown keys at top level, with the allowed keys and a suggestion', () => {
    expect(problems(spec({ guardrail: [] }))).toEqual([
      'experiment.yaml: unknown key "guardrail" at top level (allowed: name, stage, control, treatment, unit, allocation, alpha, power, segments, correction, primary, guardrails, drift, agreement, rollback, fields); did you mean "guardrails"?',
    ]);
  });

  it('unknown keys everywhere: metrics, rollback, agreement, drift items, allocation, fields', () => {
    expect(problems(withPrimary({ threshold: 1 }))[0]).toMatch(/^experiment\.yaml: unknown key "threshold" in primary \(allowed: name, field, type, direction, test, quantile, mde, relative\)$/);
    expect(problems(withGuardrail({ max_relativ_change: 0.1, max_relative_change: undefined }))).toContain(
      'experiment.yaml: unknown key "max_relativ_change" in guardrails[0] (allowed: name, field, type, direction, test, quantile, max_relative_change, max_absolute_change); did you mean "max_relative_change"?',
    );
    expect(problems(withRollback({ windows: 3 }))[0]).toMatch(/unknown key "windows" in rollback \(allowed: field, quantile, max_ratio, window, consecutive, min_count\); did you mean "window"\?/);
    expect(problems(spec({ agreement: { min_rate: 0.9, rate: 1 } }))[0]).toMatch(/unknown key "rate" in agreement \(allowed: min_rate, field\)/);
    expect(problems(spec({ drift: [{ field: 'score', max_ks: 0.1, min_ks: 0 }] }))[0]).toMatch(/unknown key "min_ks" in drift\[0\] \(allowed: field, max_ks\)/);
    expect(problems(spec({ allocation: { A: 0.5, C: 0.5 } }))).toEqual([
      'experiment.yaml: unknown key "C" in allocation: its keys are the control and treatment model names (allowed: A, B)',
      'experiment.yaml: allocation.B is required (a number greater than 0, the share of units expected on model "B")',
    ]);
    expect(problems(spec({ fields: { modle: 'variant' } }))[0]).toMatch(/unknown key "modle" in fields: the spec never uses a field "modle" \(allowed: ts, request_id, .*converted\); did you mean "model"\?$/);
  });

  it('the primary may not carry a tolerance, a guardrail not an mde', () => {
    expect(problems(withPrimary({ max_relative_change: 0.1 }))[0]).toMatch(/unknown key "max_relative_change" in primary/);
    expect(problems(withGuardrail({ mde: 0.1 }))[0]).toMatch(/unknown key "mde" in guardrails\[0\]/);
  });

  it('missing required fields', () => {
    expect(problems('{}', 'x.json')).toEqual([
      'x.json: stage is required (one of shadow, canary, ab)',
      "x.json: control is required (the control model's name as logged in the model field, e.g. champion)",
      "x.json: treatment is required (the treatment model's name as logged in the model field, e.g. challenger)",
    ]);
    expect(problems(spec({ primary: undefined, allocation: undefined }))).toEqual([
      'experiment.yaml: primary is required for stage "ab" (the metric the experiment is decided on)',
      'experiment.yaml: allocation is required for stage "ab" (the expected share of units per model, e.g. {"A": 0.95, "B": 0.05})',
    ]);
    expect(problems(spec({ stage: 'canary', primary: undefined }))[0]).toMatch(/primary is required for stage "canary"/);
    expect(problems(withPrimary({ mde: undefined }))).toEqual([
      'experiment.yaml: primary.mde is required for stage "ab" (the smallest effect the experiment is powered to detect)',
    ]);
    expect(problems(withPrimary({ name: undefined, field: undefined, type: undefined, direction: undefined }))).toEqual([
      'experiment.yaml: primary.name is required (a non-empty string naming the metric in reports)',
      'experiment.yaml: primary.field is required (the log field the metric is computed from)',
      'experiment.yaml: primary.type is required (one of proportion, mean, rank, quantile)',
      'experiment.yaml: primary.direction is required (one of increase, decrease): increase = higher is better, decrease = lower is better',
    ]);
    // shadow: a primary without mde is fine
    expect(parseSpec(spec({ stage: 'shadow', allocation: undefined, primary: { ...base.primary, mde: undefined } }), 'x.json').primary!.mde).toBeUndefined();
  });

  it('bad values: stage, numbers given as text, power not above alpha, correction', () => {
    expect(problems(spec({ stage: 'beta' }))).toEqual(['experiment.yaml: stage must be one of shadow, canary, ab (got "beta")']);
    expect(problems(spec({ alpha: '0.05' }))).toEqual(['experiment.yaml: alpha must be a number at least 1e-12 and below 1 (got the text "0.05")']);
    expect(problems(spec({ alpha: 1 }))).toEqual(['experiment.yaml: alpha must be a number at least 1e-12 and below 1 (got 1)']);
    // below 1e-12 the level 1 - alpha is too close to 1 to carry (1e-17: 100%)
    expect(problems(spec({ alpha: 1e-17 }))).toEqual(['experiment.yaml: alpha must be a number at least 1e-12 and below 1 (got 1e-17)']);
    expect(parseSpec(spec({ alpha: 1e-12 }), 'experiment.json').alpha).toBe(1e-12);
    expect(problems(spec({ power: 0.01 }))).toEqual(['experiment.yaml: power (0.01) must exceed alpha (0.05, the default)']);
    expect(problems(spec({ alpha: 0.9 }))).toEqual(['experiment.yaml: power (0.8, the default) must exceed alpha (0.9)']);
    expect(problems(spec({ correction: 'fdr' }))).toEqual(['experiment.yaml: correction must be one of holm, bh, bonferroni, none (got "fdr")']);
    expect(problems(spec({ treatment: 'A', allocation: undefined }))).toEqual(['experiment.yaml: treatment must differ from control (both are "A")', expect.stringMatching(/allocation is required/)]);
    expect(problems(spec({ unit: '' }))).toEqual(['experiment.yaml: unit must be a field name, the randomization unit, e.g. user_id (got "")']);
    expect(problems(spec({ name: 3 }))).toEqual(['experiment.yaml: name must be a non-empty string (got 3)']);
  });

  it('allocation: positive shares summing to 1', () => {
    expect(problems(spec({ allocation: { A: 0.5, B: 0.6 } }))).toEqual(['experiment.yaml: allocation shares must sum to 1 (got 0.5 + 0.6 = 1.1)']);
    expect(problems(spec({ allocation: { A: 1, B: 0 } }))).toEqual(['experiment.yaml: allocation.B must be a number greater than 0, the share of units expected on model "B" (got 0)']);
    expect(problems(spec({ allocation: [0.5, 0.5] }))[0]).toMatch(/allocation must be an object with keys A, B \(got a list\)/);
    expect(parseSpec(spec({ allocation: { A: 0.9, B: 0.1000000001 } }), 'x.json').allocation).toEqual({ control: 0.9, treatment: 0.1000000001 });
  });

  it('tests that do not fit the metric type', () => {
    expect(problems(withPrimary({ type: 'mean', test: 'ztest' }))).toEqual(['experiment.yaml: primary.test "ztest" does not fit type "mean" (allowed for mean: welch, bootstrap)']);
    expect(problems(withPrimary({ type: 'quantile', quantile: 0.5, test: 'welch' }))).toEqual([
      'experiment.yaml: primary.test "welch" does not fit type "quantile" (allowed for quantile: bootstrap)',
    ]);
    expect(problems(withPrimary({ test: 'ttest' }))).toEqual(['experiment.yaml: primary.test must be one of ztest, welch, mannwhitney, bootstrap (got "ttest")']);
  });

  it('quantile: required for type quantile, in (0, 1), only there', () => {
    expect(problems(withGuardrail({ type: 'quantile' }))).toEqual(['experiment.yaml: guardrails[0].quantile is required (a number strictly between 0 and 1, e.g. 0.99 for the p99)']);
    expect(problems(withGuardrail({ type: 'quantile', quantile: 99 }))).toEqual([
      'experiment.yaml: guardrails[0].quantile must be a number strictly between 0 and 1, e.g. 0.99 for the p99 (got 99)',
    ]);
    expect(problems(withGuardrail({ quantile: 0.5 }))).toEqual(['experiment.yaml: guardrails[0].quantile is only for type quantile (this metric\'s type is "mean")']);
  });

  it('mde and relative', () => {
    expect(problems(withPrimary({ mde: -0.01 }))).toEqual(['experiment.yaml: primary.mde must be a number greater than 0, the smallest effect worth detecting (got -0.01)']);
    expect(problems(withPrimary({ relative: 'yes' }))).toEqual(['experiment.yaml: primary.relative must be true or false (got "yes")']);
    expect(problems(withPrimary({ mde: undefined, relative: true }))).toContain('experiment.yaml: primary.relative qualifies mde, which is missing');
  });

  it('guardrails need exactly one positive tolerance', () => {
    expect(problems(withGuardrail({ max_relative_change: undefined }))).toEqual([
      'experiment.yaml: guardrails[0] needs a tolerance: max_relative_change or max_absolute_change (the worst change in the bad direction still accepted)',
    ]);
    expect(problems(withGuardrail({ max_absolute_change: 5 }))).toEqual([
      'experiment.yaml: guardrails[0] has both max_relative_change and max_absolute_change: give exactly one tolerance',
    ]);
    expect(problems(withGuardrail({ max_relative_change: 0 }))).toEqual(['experiment.yaml: guardrails[0].max_relative_change must be a number greater than 0, e.g. 0.2 for 20% (got 0)']);
    expect(problems(spec({ guardrails: { latency: guardrail } }))).toEqual(['experiment.yaml: guardrails must be a list of metrics (got an object)']);
  });

  it('metric names are unique across primary and guardrails', () => {
    expect(problems(withGuardrail({ name: 'conversion' }))).toEqual([
      'experiment.yaml: guardrails[0].name "conversion" is already used by primary: metric names must be unique',
    ]);
  });

  it('rollback: field, quantile, max_ratio > 1, window with unit, consecutive >= 1, min_count >= 1', () => {
    expect(problems(withRollback({ max_ratio: 1 }))).toEqual(["experiment.yaml: rollback.max_ratio must be a number greater than 1, the treatment's quantile over the control's (got 1)"]);
    expect(problems(withRollback({ window: '1 minute' }))).toEqual([
      'experiment.yaml: rollback.window must be a duration with its unit (ms, s, m, h), such as "30s", "1m", "5m", "1h" (got "1 minute")',
    ]);
    expect(problems(withRollback({ window: 60 }))).toEqual([
      'experiment.yaml: rollback.window must be a duration with its unit (ms, s, m, h), such as "30s", "1m", "5m", "1h" (got the bare number 60: write its unit, e.g. "60s")',
    ]);
    expect(problems(withRollback({ consecutive: 0 }))).toEqual(['experiment.yaml: rollback.consecutive must be a whole number >= 1 (got 0)']);
    expect(problems(withRollback({ consecutive: 2.5 }))).toEqual(['experiment.yaml: rollback.consecutive must be a whole number >= 1 (got 2.5)']);
    expect(problems(withRollback({ min_count: 0 }))).toEqual(['experiment.yaml: rollback.min_count must be a whole number >= 1 (got 0)']);
    expect(problems(withRollback({ quantile: undefined, field: undefined }))).toEqual([
      'experiment.yaml: rollback.field is required (the log field to watch, e.g. latency_ms)',
      'experiment.yaml: rollback.quantile is required (a number strictly between 0 and 1, e.g. 0.99)',
    ]);
    expect(parseSpec(withRollback({ min_count: 20 }), 'x.json').rollback!.minCount).toBe(20);
  });

  it('agreement and drift bounds; drift fields unique', () => {
    expect(problems(spec({ agreement: { min_rate: 0 } }))).toEqual([
      'experiment.yaml: agreement.min_rate must be a number in (0, 1], the lowest accepted share of requests where both models agree (got 0)',
    ]);
    expect(problems(spec({ agreement: {} }))[0]).toMatch(/agreement\.min_rate is required/);
    expect(problems(spec({ drift: [{ field: 'score', max_ks: 1.5 }] }))).toEqual([
      'experiment.yaml: drift[0].max_ks must be a number in (0, 1], the largest accepted KS statistic (got 1.5)',
    ]);
    expect(problems(spec({ drift: [{ field: 'score', max_ks: 0.1 }, { field: 'score', max_ks: 0.2 }] }))).toEqual(['experiment.yaml: drift[1].field "score" is listed twice in drift']);
    expect(problems(spec({ drift: ['score'] }))[0]).toMatch(/drift\[0\] must be an object with keys field, max_ks \(got "score"\)/);
  });

  it('segments and fields values', () => {
    expect(problems(spec({ segments: 'country' }))).toEqual(['experiment.yaml: segments must be a list of field names (got "country")']);
    expect(problems(spec({ segments: ['country', 'country'] }))).toEqual(['experiment.yaml: segments[1]: segment "country" is listed twice']);
    expect(problems(spec({ segments: ['model'] }))).toEqual(['experiment.yaml: segments[0]: "model" cannot be a segment (every segment compares the models)']);
    expect(problems(spec({ fields: { model: 1 } }))).toEqual(['experiment.yaml: fields.model must be the log\'s column name for model (got 1)']);
    expect(problems(spec({ fields: ['model'] }))[0]).toMatch(/fields must be an object mapping field names to log column names/);
    // a field the spec references may be mapped
    expect(parseSpec(spec({ segments: ['country'], fields: { converted: 'conv', country: 'cc' } }), 'x.json').fields).toEqual({ converted: 'conv', country: 'cc' });
  });

  it('collects every problem, and the error carries the key paths', () => {
    try {
      parseSpec(spec({ alpha: 2, stage: 'beta', guardrail: 1 }), 'x.json');
      expect.unreachable();
    } catch (e) {
      const err = e as SpecError;
      expect(err).toBeInstanceOf(SpecError);
      expect(err.file).toBe('x.json');
      expect(err.problems.map((p) => p.path)).toEqual(['guardrail', 'stage', 'alpha']);
      expect(err.path).toBe('guardrail');
    }
  });

  it('counts a JSON text\'s keys as JSON.parse reads them (the duplicate-key check\'s fast path)', () => {
    const texts = ['{}', '[]', '1', '"a:b"', '{"a": 1}', '{"a" :\n 1, "b": {"c": [1, {"d": null}], "e": "x\\":y"}}', '{"a\\"b": ":", "c": ["d", ":", {"e": {}}]}', '{"__proto__": {"x": 1}, "é": "\\u0022:"}', '[{"a": 1}, {"a": 2}]'];
    for (const t of texts) expect(keysInText(t)).toBe(keysInValue(JSON.parse(t)));
    expect(keysInText('{"a": 1, "a": 2}')).toBe(2);
    expect(keysInValue(JSON.parse('{"a": 1, "a": 2}'))).toBe(1);
    expect(keysInText('{"a": {"b": 1, "b": 2}}')).toBe(3);
    // any depth JSON.parse reads (no recursion)
    const deep = '['.repeat(20000) + '{"a": 1}' + ']'.repeat(20000);
    expect(keysInValue(JSON.parse(deep))).toBe(1);
    expect(keysInText(deep)).toBe(1);
    // random documents, written out by JSON.stringify with and without indentation
    let seed = 7;
    const rnd = (k: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % k);
    const chars = ['a', ':', '"', '\\', ' ', ',', '{', '}', '[', ']', '\n', 'é', '\u0000'];
    const text = (): string => Array.from({ length: rnd(5) }, () => chars[rnd(chars.length)]).join('');
    const value = (depth: number): unknown => {
      const k = rnd(depth > 3 ? 3 : 5);
      if (k === 0) return text();
      if (k === 1) return rnd(100) - 50;
      if (k === 2) return [null, true, false][rnd(3)];
      if (k === 3) return Array.from({ length: rnd(4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: rnd(4) }, () => [text(), value(depth + 1)]));
    };
    for (let r = 0; r < 500; r++) {
      const v = value(0);
      for (const t of [JSON.stringify(v), JSON.stringify(v, null, 2)]) expect(keysInText(t)).toBe(keysInValue(JSON.parse(t)));
    }
  });

  it('syntax errors are located; duplicate keys are errors in JSON and YAML; empty and non-object documents', () => {
    expect(problems('{"stage": "ab",\n "control": "A",\n}', 'x.json')).toEqual([expect.stringMatching(/^x\.json: not valid JSON: .* at line 3, column 1$/)]);
    expect(problems('{"stage": "ab", "stage": "canary"}', 'x.json')).toEqual(['x.json: duplicate key "stage" at line 1, column 17: a key may appear only once']);
    // errors V8 gives no position for are located too (by the JSON Lines scanner)
    expect(problems('{\n  "stage": "ab",\n  "segments": [,\n]}', 'x.json')).toEqual(["x.json: not valid JSON: Unexpected token ',' at line 3, column 16"]);
    expect(problems('{"stage": "é", "x": }', 'x.json')).toEqual(["x.json: not valid JSON: Unexpected token '}' at line 1, column 21"]);
    // bare NaN (which the scanner takes, as Python writes it) and text after the document
    expect(problems('{"stage": "ab",\n "alpha": NaN}', 'x.json')).toEqual(["x.json: not valid JSON: Unexpected token 'N' at line 2, column 11"]);
    expect(problems('{"stage": "ab"}\n\n  x', 'x.json')).toEqual(['x.json: not valid JSON: Unexpected non-whitespace character after JSON at line 3, column 3']);
    expect(problems('stage: ab\ncontrol: A\nstage: canary\n')).toEqual(['experiment.yaml: duplicate key "stage" at line 3, column 1: a key may appear only once']);
    expect(problems('stage: [ab\n')[0]).toMatch(/^experiment\.yaml: not valid YAML: .*line 2, column 1$/);
    expect(problems('  \n')).toEqual(['experiment.yaml: the spec is empty (expected an object with stage, control, treatment, ...)']);
    expect(problems('- a\n- b\n')[0]).toMatch(/^experiment\.yaml: the spec must be an object with keys name, stage, .* \(got a list\)$/);
    // YAML 1.2: "yes" is text, not true; .inf is a number but not finite
    expect(problems(withPrimary({}).replace('0.01', '".inf"'))).toHaveLength(1);
    expect(problems('stage: ab\ncontrol: A\ntreatment: B\nallocation: {A: 0.5, B: 0.5}\nalpha: .inf\nprimary: {name: c, field: c, type: mean, direction: increase, mde: 1}\n')).toEqual([
      'experiment.yaml: alpha must be a number at least 1e-12 and below 1 (got Infinity)',
    ]);
  });
});

describe('specHash and registrationHash', () => {
  const canary = load('canary.json');
  const reparse = (mutate: (o: any) => void): ExperimentSpec => {
    const o = JSON.parse(fixture('canary.json'));
    mutate(o);
    return parseSpec(JSON.stringify(o), 'canary.json');
  };

  it('are SHA-256 hex digests of canonical JSON (sorted keys)', () => {
    expect(specHash(canary)).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: undefined } })).toBe('{"a":{"d":[2,{"e":0,"f":1}]},"b":1}');
  });

  it('ignore key order, formatting and spelled-out defaults', () => {
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(fixture('canary.json'))).reverse()), null, 4);
    expect(specHash(parseSpec(reordered, 'canary.json'))).toBe(specHash(canary));
    const explicit = reparse((o) => {
      o.primary.test = 'ztest';
      o.primary.relative = false;
      o.rollback.min_count = 50;
      o.agreement.field = 'prediction';
    });
    expect(specHash(explicit)).toBe(specHash(canary));
  });

  it('a name or plumbing-column change alters specHash, not registrationHash', () => {
    for (const mutate of [(o: any) => (o.name = 'renamed'), (o: any) => (o.fields = { model: 'variant', ts: 'time' })]) {
      const s = reparse(mutate);
      expect(specHash(s)).not.toBe(specHash(canary));
      expect(registrationHash(s)).toBe(registrationHash(canary));
    }
  });

  it('guardrail order, segment order and equivalent windows do not change the registration', () => {
    expect(registrationHash(reparse((o) => o.guardrails.reverse()))).toBe(registrationHash(canary));
    expect(registrationHash(reparse((o) => (o.rollback.window = '60s')))).toBe(registrationHash(canary));
    const twoSegments = (order: string[]): string => registrationHash(reparse((o) => (o.segments = order)));
    expect(twoSegments(['country', 'platform'])).toBe(twoSegments(['platform', 'country']));
  });

  it.each([
    ['primary mde', (o: any) => (o.primary.mde = 0.02)],
    ['primary metric', (o: any) => (o.primary.field = 'clicked')],
    ['primary direction', (o: any) => (o.primary.direction = 'decrease')],
    ['a guardrail tolerance', (o: any) => (o.guardrails[0].max_relative_change = 0.5)],
    ['a guardrail removed', (o: any) => o.guardrails.pop()],
    ['alpha', (o: any) => (o.alpha = 0.1)],
    ['power', (o: any) => (o.power = 0.9)],
    ['allocation', (o: any) => (o.allocation = { champion: 0.9, challenger: 0.1 })],
    ['unit', (o: any) => (o.unit = 'session_id')],
    ['segments', (o: any) => (o.segments = [])],
    ['correction', (o: any) => (o.correction = 'none')],
    ['drift', (o: any) => (o.drift[0].max_ks = 0.3)],
    ['agreement', (o: any) => (o.agreement.min_rate = 0.5)],
    ['rollback', (o: any) => (o.rollback.max_ratio = 2)],
    ['a measured column re-mapped', (o: any) => (o.fields = { converted: 'purchased' })],
  ])('%s changes the registration', (_what, mutate) => {
    const s = reparse(mutate);
    expect(registrationHash(s)).not.toBe(registrationHash(canary));
    expect(specHash(s)).not.toBe(specHash(canary));
  });

  it('registration() speaks the spec file\'s vocabulary', () => {
    const r = registration(canary);
    expect(r.primary).toEqual({ name: 'conversion', field: 'converted', type: 'proportion', direction: 'increase', test: 'ztest', quantile: undefined, mde: 0.01, relative: false });
    expect(r.allocation).toEqual({ champion: 0.95, challenger: 0.05 });
    expect(r.rollback).toEqual({ field: 'latency_ms', quantile: 0.99, max_ratio: 1.2, window_ms: 60_000, consecutive: 5, min_count: 50 });
    expect(Object.keys(r.guardrails as object)).toEqual(['latency_p99', 'error_rate']);
    expect(r).not.toHaveProperty('name');
  });
});

describe('proportion mde', () => {
  it('an absolute mde of a proportion must be below 1 (a relative one may not)', async () => {
    const { parseSpec } = await import('../../src/analysis/spec.js');
    const base = { stage: 'ab', control: 'a', treatment: 'b', allocation: { a: 0.5, b: 0.5 } };
    const primary = { name: 'c', field: 'converted', type: 'proportion', direction: 'increase' };
    expect(() => parseSpec(JSON.stringify({ ...base, primary: { ...primary, mde: 1.5 } }), 's.json')).toThrow(/primary.mde of a proportion .* must be below 1/);
    expect(parseSpec(JSON.stringify({ ...base, primary: { ...primary, mde: 1.5, relative: true } }), 's.json').primary?.mde).toEqual({ value: 1.5, relative: true });
  });
});
