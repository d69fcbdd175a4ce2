/**
 * The analysis report: what `abtool analyze --format json` prints (CONTRACT.md section 5) and what
 * every renderer (table, markdown, html) reads. Keys are snake_case because they are the public JSON.
 * Closed label sets are string-literal unions; every verdict carries its reason in words.
 */
import type { IngestAccount, RejectReason } from '../ingest/types.js';

export type Decision = 'go' | 'no-go' | 'inconclusive' | 'invalid';
export type PrimaryVerdict = 'win' | 'loss' | 'flat';
export type GuardrailVerdict = 'pass' | 'fail' | 'inconclusive';
/** a metric that could not be tested (empty arm, zero variance...) is 'no-data' with its reason */
export type Verdict = PrimaryVerdict | GuardrailVerdict | 'no-data';
export type MetricRole = 'primary' | 'guardrail';

export interface MetricReport {
  name: string;
  role: MetricRole;
  field: string;
  type: 'proportion' | 'mean' | 'rank' | 'quantile';
  direction: 'increase' | 'decrease';
  /** the procedure used, in words (e.g. "two-proportion z-test with continuity correction") */
  test: string;
  n_control: number;
  n_treatment: number;
  /** what was counted as n: units (after per-unit aggregation) or records */
  n_unit: 'units' | 'records';
  control_value: number | null;
  treatment_value: number | null;
  /** treatment minus control (the Hodges-Lehmann shift for rank metrics) */
  estimate: number | null;
  /** estimate relative to the control value (treatment / control - 1) */
  relative_change: number | null;
  ci: [number | null, number | null] | null;
  /** interval of the relative change, where the test gives one (quantile ratio - 1, or derived) */
  relative_ci: [number | null, number | null] | null;
  confidence: number;
  p_value: number | null;
  /** after the spec's correction across segments (equal to p_value for the overall segment) */
  p_value_adjusted: number | null;
  /** guardrails: the tolerated change in the bad direction, absolute (metric units) and as given */
  tolerance?: { absolute: number | null; relative: number | null } | null;
  verdict: Verdict;
  reason: string;
  /** primary only: units (or records) each arm needs for the spec's mde at its alpha and power */
  n_needed?: { control: number; treatment: number } | null;
}

export interface DriftReport {
  field: string;
  ks: number | null;
  p_value: number | null;
  /** the p-value the check is judged by: adjusted across segments with the spec's correction (the overall's is p_value) */
  p_value_adjusted: number | null;
  max_ks: number;
  n_control: number;
  n_treatment: number;
  ok: boolean | null;
  reason: string;
}

export interface AgreementReport {
  field: string;
  pairs: number;
  agree: number;
  rate: number | null;
  ci: [number | null, number | null] | null;
  kappa: number | null;
  min_rate: number | null;
  ok: boolean | null;
  reason: string;
}

export interface ShadowFailures {
  /** records per model with an error flagged */
  errors: Record<string, number>;
  /** predictions missing (null/absent) per model */
  missing_predictions: Record<string, number>;
  /** requests the champion answered that the challenger never logged */
  unpaired_control: number;
  /** requests only the challenger logged */
  unpaired_treatment: number;
  requests: Record<string, number>;
  failure_rate: Record<string, number | null>;
  p_value: number | null;
  /** the p-value the check is judged by: adjusted across segments with the spec's correction (the overall's is p_value) */
  p_value_adjusted: number | null;
  ok: boolean | null;
  reason: string;
  /** the counts in words, without the verdict */
  summary: string;
}

export interface LatencyOverhead {
  field: string;
  p50: Record<string, number | null>;
  p99: Record<string, number | null>;
  p50_ratio: number | null;
  p99_ratio: number | null;
}

export interface ShadowReport {
  agreement: AgreementReport | null;
  drift: DriftReport[];
  failures: ShadowFailures | null;
  latency: LatencyOverhead | null;
}

export interface SegmentReport {
  /** {} for overall, e.g. {"country": "BR"} */
  segment: Record<string, string>;
  decision: Decision;
  reasons: string[];
  units: Record<string, number>;
  srm: SrmReport | null;
  metrics: MetricReport[];
  shadow?: ShadowReport;
}

export interface SrmReport {
  observed: Record<string, number>;
  expected_share: Record<string, number>;
  observed_share: Record<string, number>;
  statistic: number | null;
  p_value: number | null;
  mismatch: boolean;
  reason: string;
}

export interface StickinessReport {
  units: number;
  units_in_both: number;
  share_in_both: number;
  threshold: number;
  broken: boolean;
  reason: string;
}

export interface PreregistrationReport {
  status: 'locked' | 'not-registered' | 'changed' | 'registered-late';
  reason: string;
  registered_at: string | null;
}

export interface TrustReport {
  applies: boolean;
  srm: SrmReport | null;
  stickiness: StickinessReport | null;
  duplicates: number;
  preregistration: PreregistrationReport;
  ok: boolean;
  reasons: string[];
}

export interface RollbackWindow {
  start: string;
  end: string;
  n_control: number;
  n_treatment: number;
  control_quantile: number | null;
  treatment_quantile: number | null;
  ratio: number | null;
  status: 'healthy' | 'breach' | 'insufficient';
  /** consecutive breaches so far, counting this window */
  streak: number;
}

export interface RollbackReport {
  field: string;
  quantile: number;
  max_ratio: number;
  window: string;
  consecutive: number;
  min_count: number;
  triggered: boolean;
  triggered_at: string | null;
  reason: string;
  windows: RollbackWindow[];
}

export interface InputReport {
  /** rows used by the analysis: accepted rows less those of units excluded for being seen under both models */
  rows_read: number;
  /** accepted rows of units seen under both models, excluded from every metric (canary and ab) */
  rows_excluded: number;
  rows_rejected: number;
  rows_seen: number;
  rejections: Partial<Record<RejectReason, { count: number; first: { file: string; line: number; field?: string; message: string }[] }>>;
  unknown_models: Record<string, number>;
  missing: Record<string, Record<string, number>>;
  files: IngestAccount['files'];
}

/** A distribution function per model: `values[model][k]` is the quantile at `probabilities[k]`. */
export interface CdfReport {
  field: string;
  probabilities: number[];
  values: Record<string, (number | null)[]>;
}

/** Counts per model over shared bins [edges[k], edges[k+1]). */
export interface HistogramReport {
  field: string;
  edges: number[];
  counts: Record<string, number[]>;
}

/** Distributions of the overall segment, for the charts that explain a verdict. */
export interface DistributionsReport {
  /** the latency field (or the rollback / quantile guardrail field) per model */
  latency: CdfReport | null;
  /** each drift field per model (score histograms of a shadow run) */
  histograms: HistogramReport[];
}

export interface Report {
  abtool_version: string;
  spec: { name: string; stage: 'shadow' | 'canary' | 'ab'; control: string; treatment: string; unit: string; alpha: number; correction: string; file: string };
  decision: Decision;
  reasons: string[];
  segments: SegmentReport[];
  trust: TrustReport;
  input: InputReport;
  rollback?: RollbackReport;
  distributions?: DistributionsReport;
  generated_at: string;
  /** problems that do not change the decision but a reader must know (a segment field absent from the logs...) */
  warnings: string[];
  /** the time span of the data, ISO-8601 */
  data_from: string | null;
  data_to: string | null;
}
