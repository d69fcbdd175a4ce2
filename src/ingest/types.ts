/**
 * The record model every reader (JSONL, CSV, Arrow) produces: columnar batches holding only the
 * fields the analysis asked for, in typed arrays, plus an exact account of every row seen.
 *
 * Flow: the analysis builds a ReadPlan from the spec (which contract fields it needs, under which
 * column names in the log) -> a reader turns files into Batches -> aggregate folds Batches into
 * per segment x model accumulators. Nothing here knows about statistics.
 */

/** How a field's raw values are read. */
export type FieldKind =
  /** a number; booleans are rejected (wrong type); numeric strings are accepted in CSV only */
  | 'number'
  /** true/false, 1/0, "true"/"false"; for `error` also any non-empty message = 1 (see `truthyStrings`) */
  | 'flag'
  /** an identifier or category: string, number or boolean, kept as its exact text (ids above 2^53 stay distinct) */
  | 'string'
  /** ISO-8601 string or epoch milliseconds, stored as epoch ms */
  | 'timestamp'
  /** a prediction or label: string, number or boolean; kept as canonical text AND as a number when numeric */
  | 'label';

export interface FieldRequest {
  /** the contract's name for this field (`model`, `user_id`, `latency_ms`, `converted`, `country`...) */
  name: string;
  /** the column name in the log (the spec's `fields` mapping), usually equal to `name` */
  source: string;
  kind: FieldKind;
  /** a row without it is rejected (`model`, the unit id); otherwise absent/null is a counted missing value */
  required: boolean;
  /** for kind 'flag': a non-empty string other than "false"/"0" counts as 1 (an error message) */
  truthyStrings?: boolean;
}

export interface ReadPlan {
  fields: FieldRequest[];
  /** the contract name of the model field (normally `model`) */
  modelField: string;
  /** the model names the spec knows, in order; a row naming another model is rejected ('unknown-model') */
  models: string[];
  /** the contract name of the field that identifies a request, for duplicate detection (normally `request_id`); null: no dedupe */
  requestField: string | null;
  /** accept any model name, appending it to `models` in order of first appearance (for `abtool inspect`; at most 255) */
  acceptAnyModel?: boolean;
}

/** Why a row was rejected; the compiler keeps the reason texts complete (see REJECTION_TEXT). */
export type RejectReason =
  | 'malformed'
  | 'truncated'
  | 'wrong-field-count'
  | 'missing-required'
  | 'unknown-model'
  | 'wrong-type'
  | 'non-finite'
  | 'duplicate';

export const REJECTION_TEXT = {
  malformed: 'malformed record (not valid JSON / not an object)',
  truncated: 'truncated final record (file cut mid-write)',
  'wrong-field-count': 'CSV row with the wrong number of fields',
  'missing-required': 'a required field (model or unit id) is missing',
  'unknown-model': 'model not named in the spec',
  'wrong-type': 'a value of the wrong type',
  'non-finite': 'NaN or Infinity where a number belongs',
  duplicate: 'duplicate record (same request id and model; kept once)',
} as const satisfies Record<RejectReason, string>;

export interface Location {
  file: string;
  /** 1-based line (JSONL, CSV: physical line of the row's start) or row number within the file (Arrow) */
  line: number;
  field?: string;
  message: string;
}

/** Dictionary encoding of a string-valued column: codes index `values`; shared across all batches of one read. */
export interface Dictionary {
  values: string[];
  index: Map<string, number>;
  /** number of distinct values (= values.length, without materialising the strings) */
  readonly size: number;
}

export type Column =
  /** numbers, flags (0/1) and timestamps (epoch ms); NaN marks a missing value */
  | { kind: 'number'; values: Float64Array }
  /** strings and labels, dictionary-encoded; -1 marks a missing value. For labels `numeric[i]` is the number or NaN */
  | { kind: 'dict'; codes: Int32Array; dict: Dictionary; numeric?: Float64Array };

export interface Batch {
  length: number;
  /** code of the model in ReadPlan.models for each row (every row in a batch is accepted) */
  model: Uint8Array;
  /** by contract field name (FieldRequest.name); the model field itself is in `model` */
  columns: Map<string, Column>;
}

export interface RejectionCount {
  count: number;
  /** the first few locations (at most IngestAccount.maxLocations) */
  first: Location[];
}

/** Every row accounted for: rowsSeen = rowsRead + rowsRejected, always. */
export interface IngestAccount {
  files: { path: string; format: 'jsonl' | 'csv' | 'arrow-file' | 'arrow-stream'; gzip: boolean; rowsSeen: number; bytes: number }[];
  rowsSeen: number;
  rowsRead: number;
  rowsRejected: number;
  rejections: Partial<Record<RejectReason, RejectionCount>>;
  /** rows rejected as 'unknown-model', per model name */
  unknownModels: Record<string, number>;
  /** missing values of optional fields, per field then per model name */
  missing: Record<string, Record<string, number>>;
  /** rows rejected for a wrong-type or non-finite value, per field then per model name (a NaN prediction is a signal too) */
  invalid?: Record<string, Record<string, number>>;
  /** files found in directories and not read: an extension abtool does not read */
  skipped?: { path: string; reason: string }[];
  /** what the read decided about the input that a user should hear of (each once), e.g. a column named twice in a CSV header */
  notes?: string[];
  /** blank lines skipped (tolerated, not rows) */
  blankLines: number;
  maxLocations: number;
}

export interface ReadOptions {
  /** any rejected row is an error naming file and line (exit 65) */
  strict?: boolean;
  /** how many locations to keep per reason (default 5) */
  maxLocations?: number;
  /** rows per batch (default DEFAULT_BATCH_ROWS, builder.ts) */
  batchSize?: number;
  /** progress callback: bytes read so far and rows seen so far */
  onProgress?: (bytes: number, rows: number) => void;
}
