/**
 * What the analysis needs from the logs, as a ReadPlan for the readers: only these fields are
 * extracted, under the log's own column names (the spec's `fields` mapping).
 */
import type { FieldKind, FieldRequest, ReadPlan } from '../ingest/types.js';
import { columnOf, type ExperimentSpec } from './spec.js';

/** The contract's names of the fields the analysis reads, by role. */
export interface FieldRoles {
  model: string;
  unit: string;
  request: string | null;
  ts: string | null;
  prediction: string | null;
  latency: string | null;
  error: string | null;
}

/**
 * `requestColumn`: whether the analysis reads the request field's values (to pair a shadow log's
 * requests, or as the unit, a segment or a metric) and not only its duplicates; when it does not, a
 * read may find the duplicates without keeping the column (LogReadOptions.lateDuplicates).
 */
export function buildReadPlan(spec: ExperimentSpec): { plan: ReadPlan; roles: FieldRoles; requestColumn: boolean } {
  const fields = new Map<string, FieldRequest>();
  const wanted = new Map<string, number>();
  const want = (name: string, kind: FieldKind, required = false, truthyStrings = false): void => {
    wanted.set(name, (wanted.get(name) ?? 0) + 1);
    const prev = fields.get(name);
    if (prev) {
      prev.required ||= required;
      // a field used both as a number and a flag is read as a flag (0/1 is a number too)
      if (prev.kind !== kind && kind === 'flag') prev.kind = 'flag';
      return;
    }
    const f: FieldRequest = { name, source: columnOf(spec, name), kind, required };
    if (truthyStrings) f.truthyStrings = true;
    fields.set(name, f);
  };
  want('model', 'string', true);
  want(spec.unit, 'string', true);
  const shadow = spec.stage === 'shadow';
  want('request_id', 'string', shadow);
  // rows without ts are kept (a missing value, counted): only the rollback windows need it
  want('ts', 'timestamp');
  const metrics = [...(spec.primary ? [spec.primary] : []), ...spec.guardrails];
  for (const m of metrics) want(m.field, m.type === 'proportion' ? 'flag' : 'number', false, m.field === 'error');
  for (const d of spec.drift) want(d.field, 'number');
  if (spec.rollback) want(spec.rollback.field, 'number');
  for (const s of spec.segments) want(s, 'string');
  let prediction: string | null = null;
  if (shadow || spec.agreement) {
    prediction = spec.agreement?.field ?? 'prediction';
    want(prediction, 'label');
    want('error', 'flag', false, true);
    want('latency_ms', 'number');
  }
  const plan: ReadPlan = {
    fields: [...fields.values()],
    modelField: 'model',
    models: [spec.control, spec.treatment],
    requestField: 'request_id',
  };
  return {
    plan,
    // request_id is wanted once for the duplicates; any other want reads its values
    requestColumn: shadow || spec.agreement !== undefined || (wanted.get('request_id') ?? 0) > 1,
    roles: {
      model: 'model',
      unit: spec.unit,
      request: 'request_id',
      ts: 'ts',
      prediction,
      latency: fields.has('latency_ms') ? 'latency_ms' : null,
      error: fields.has('error') ? 'error' : null,
    },
  };
}
