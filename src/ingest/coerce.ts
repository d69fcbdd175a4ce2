/**
 * Value typing shared by every reader: byte-level parsers for numbers, ISO-8601 timestamps and the
 * words a log uses for booleans and non-finite numbers. They work on a byte range of a buffer so the
 * JSONL scanner and the Arrow reader never build a string for a value they only need as a number;
 * CSV cells (strings from csv-parse) are copied into a small scratch buffer first (`textBytes`).
 *
 * The rules (one record model for every format):
 * - number:    a JSON number, or numeric text in CSV (`12.5`, `+3`, `.5`, `1e-3`, surrounding blanks);
 *              text in JSON is 'wrong-type'; `NaN`/`Infinity`/`inf` (any case, any sign) and numbers
 *              that overflow to Infinity are 'non-finite'; booleans are 'wrong-type'.
 * - flag:      true/false (any case), 1/0 (also `1.0`); with `truthyStrings` any other non-empty text
 *              is 1 (an error message) and the empty string is 0.
 * - timestamp: epoch milliseconds (number, or digits as text) or ISO-8601 (`2026-01-31`,
 *              `2026-01-31T12:00:00.123Z`, space instead of `T`, offsets `+02:00`/`+0200`/`+02`);
 *              an ISO time without an offset is read as UTC.
 * - string:    kept as its exact text; a JSON number keeps its source digits (ids above 2^53 stay distinct).
 * - label:     canonical text: a numeric value is written as JavaScript prints the number (`1.0` -> `1`),
 *              true/false in lower case, other text as is; plus the number when numeric.
 * - missing:   JSON null or an absent key; an empty CSV cell; for number, flag and timestamp fields in
 *              CSV also `NA`, `null` and `NULL`.
 */

/** Powers of ten up to 1e22, each an exact double (the exact fast paths of the number parsers). */
export const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

const ZERO = 0x30;
const NINE = 0x39;

/** latin1 view of a byte range, for the slow paths (a handful of ASCII bytes). */
export function latin1(buf: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i++) out += String.fromCharCode(buf[i]!);
  return out;
}

/**
 * The value of a number already known to follow the JSON grammar (`-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`).
 * Exact (correctly rounded): up to 15 significant digits and a decimal exponent within +-22 the
 * result is one correctly rounded IEEE multiplication or division of two exact values (Clinger's
 * fast path); anything else goes through `Number()`.
 */
export function jsonNumberValue(buf: Uint8Array, s: number, e: number): number {
  let i = s;
  let neg = false;
  if (buf[i] === 0x2d) {
    neg = true;
    i++;
  }
  let mant = 0;
  let digits = 0;
  let scale = 0;
  let c = buf[i]!;
  while (i < e && c >= ZERO && c <= NINE) {
    if (digits > 0 || c !== ZERO) digits++;
    mant = mant * 10 + (c - ZERO);
    c = buf[++i]!;
  }
  if (i < e && c === 0x2e) {
    c = buf[++i]!;
    while (i < e && c >= ZERO && c <= NINE) {
      if (digits > 0 || c !== ZERO) digits++;
      mant = mant * 10 + (c - ZERO);
      scale--;
      c = buf[++i]!;
    }
  }
  if (i < e) {
    // exponent
    i++;
    let eneg = false;
    c = buf[i]!;
    if (c === 0x2d || c === 0x2b) {
      eneg = c === 0x2d;
      i++;
    }
    let ex = 0;
    while (i < e) {
      ex = ex * 10 + (buf[i]! - ZERO);
      if (ex > 10000) break;
      i++;
    }
    if (i < e) return Number(latin1(buf, s, e));
    scale += eneg ? -ex : ex;
  }
  if (digits > 15) return Number(latin1(buf, s, e));
  let v: number;
  if (mant === 0) v = 0;
  else if (scale === 0) v = mant;
  else if (scale > 0 && scale <= 22) v = mant * POW10[scale]!;
  else if (scale < 0 && scale >= -22) v = mant / POW10[-scale]!;
  else return Number(latin1(buf, s, e));
  return neg ? -v : v;
}

/**
 * Numeric text as found in CSV cells and Arrow strings: blanks around, an optional sign, digits with
 * an optional decimal point (`5`, `5.`, `.5`, `007`) and an optional exponent. Returns the number,
 * or NaN when the text is not of that form (hex, `1_000`, words, empty).
 */
export function decimalTextValue(buf: Uint8Array, s: number, e: number): number {
  while (s < e && isBlank(buf[s]!)) s++;
  while (e > s && isBlank(buf[e - 1]!)) e--;
  let i = s;
  let neg = false;
  if (i < e && (buf[i] === 0x2b || buf[i] === 0x2d)) {
    neg = buf[i] === 0x2d;
    i++;
  }
  // the digits as an integer and a power of ten, for the exact fast path (see jsonNumberValue)
  let nd = 0;
  let mant = 0;
  let significant = 0;
  let scale = 0;
  let c = 0;
  while (i < e && (c = buf[i]!) >= ZERO && c <= NINE) {
    if (significant > 0 || c !== ZERO) significant++;
    mant = mant * 10 + (c - ZERO);
    i++;
    nd++;
  }
  if (i < e && buf[i] === 0x2e) {
    i++;
    while (i < e && (c = buf[i]!) >= ZERO && c <= NINE) {
      if (significant > 0 || c !== ZERO) significant++;
      mant = mant * 10 + (c - ZERO);
      scale--;
      i++;
      nd++;
    }
  }
  if (nd === 0) return NaN;
  if (i === e && significant <= 15 && scale >= -22) {
    // one correctly rounded division of two exact doubles: the value Number() gives
    const v = scale === 0 ? mant : mant / POW10[-scale]!;
    return neg ? -v : v;
  }
  if (i < e && (buf[i] === 0x65 || buf[i] === 0x45)) {
    i++;
    if (i < e && (buf[i] === 0x2b || buf[i] === 0x2d)) i++;
    let ne = 0;
    while (i < e && buf[i]! >= ZERO && buf[i]! <= NINE) {
      i++;
      ne++;
    }
    if (ne === 0) return NaN;
  }
  if (i !== e) return NaN;
  return Number(latin1(buf, s, e));
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c;
}

function wordIs(buf: Uint8Array, s: number, e: number, word: string): boolean {
  if (e - s !== word.length) return false;
  for (let k = 0; k < word.length; k++) if (lower(buf[s + k]!) !== word.charCodeAt(k)) return false;
  return true;
}

/** `NaN`, `Infinity`, `inf` in any case with an optional sign (blanks around allowed). */
export function isNonFiniteWord(buf: Uint8Array, s: number, e: number): boolean {
  while (s < e && isBlank(buf[s]!)) s++;
  while (e > s && isBlank(buf[e - 1]!)) e--;
  const n = e - s;
  if (n < 3 || n > 9) return false;
  if (buf[s] === 0x2b || buf[s] === 0x2d) s++;
  return wordIs(buf, s, e, 'nan') || wordIs(buf, s, e, 'inf') || wordIs(buf, s, e, 'infinity');
}

/** 1 for true, 0 for false (any case), -1 otherwise. */
export function booleanWord(buf: Uint8Array, s: number, e: number): number {
  if (wordIs(buf, s, e, 'true')) return 1;
  if (wordIs(buf, s, e, 'false')) return 0;
  return -1;
}

/** Missing-value words in CSV for number, flag and timestamp fields: `NA`, `null`, `NULL` (and blanks). */
export function isMissingWord(buf: Uint8Array, s: number, e: number): boolean {
  while (s < e && isBlank(buf[s]!)) s++;
  while (e > s && isBlank(buf[e - 1]!)) e--;
  if (s === e) return true;
  const n = e - s;
  if (n === 2) return buf[s] === 0x4e && buf[s + 1] === 0x41; // NA
  if (n === 4) {
    const a = buf[s]!;
    const b = buf[s + 1]!;
    const c = buf[s + 2]!;
    const d = buf[s + 3]!;
    return (a === 0x6e && b === 0x75 && c === 0x6c && d === 0x6c) || (a === 0x4e && b === 0x55 && c === 0x4c && d === 0x4c);
  }
  return false;
}

/** Is every byte of the range a decimal digit (an epoch-milliseconds timestamp written as text)? */
function allDigits(buf: Uint8Array, s: number, e: number): boolean {
  if (s < e && buf[s] === 0x2d) s++;
  if (s === e) return false;
  for (let i = s; i < e; i++) if (buf[i]! < ZERO || buf[i]! > NINE) return false;
  return true;
}

function isDigit4(buf: Uint8Array, i: number): boolean {
  for (let k = i; k < i + 4; k++) if (buf[k]! < ZERO || buf[k]! > NINE) return false;
  return true;
}

function two(buf: Uint8Array, i: number): number {
  const a = buf[i]! - ZERO;
  const b = buf[i + 1]! - ZERO;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

/** Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian; H. Hinnant's algorithm). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * An ISO-8601 date or date-time as epoch milliseconds, NaN when the text is not one.
 * Accepted: `YYYY-MM-DD`, then optionally `T` or a space, `HH:MM`, `:SS`, a fraction of any length
 * (kept: microseconds give fractional milliseconds), and `Z`, `+HH:MM`, `+HHMM` or `+HH`.
 * Without an offset the time is UTC (unlike `Date.parse`, which would use the machine's zone).
 */
export function isoTimestampValue(buf: Uint8Array, s: number, e: number): number {
  while (s < e && isBlank(buf[s]!)) s++;
  while (e > s && isBlank(buf[e - 1]!)) e--;
  if (e - s < 10) return NaN;
  const y1 = two(buf, s);
  const y2 = two(buf, s + 2);
  if (y1 < 0 || y2 < 0 || buf[s + 4] !== 0x2d || buf[s + 7] !== 0x2d) return NaN;
  const year = y1 * 100 + y2;
  const month = two(buf, s + 5);
  const day = two(buf, s + 8);
  if (month < 1 || month > 12 || day < 1) return NaN;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (day > DAYS_IN_MONTH[month - 1]! + (month === 2 && leap ? 1 : 0)) return NaN;
  let ms = daysFromCivil(year, month, day) * 86_400_000;
  let i = s + 10;
  if (i === e) return ms;
  const sep = buf[i];
  if (sep !== 0x54 && sep !== 0x74 && sep !== 0x20) return NaN;
  i++;
  if (e - i < 5) return NaN;
  const hh = two(buf, i);
  const mi = two(buf, i + 3);
  if (hh < 0 || hh > 23 || buf[i + 2] !== 0x3a || mi < 0 || mi > 59) return NaN;
  ms += hh * 3_600_000 + mi * 60_000;
  i += 5;
  if (i < e && buf[i] === 0x3a) {
    const ss = two(buf, i + 1);
    if (i + 3 > e || ss < 0 || ss > 59) return NaN;
    ms += ss * 1000;
    i += 3;
    if (i < e && (buf[i] === 0x2e || buf[i] === 0x2c)) {
      i++;
      let frac = 0;
      let scale = 1000;
      const f0 = i;
      while (i < e && buf[i]! >= ZERO && buf[i]! <= NINE) {
        scale /= 10;
        if (i - f0 < 9) frac += (buf[i]! - ZERO) * scale;
        i++;
      }
      if (i === f0) return NaN;
      ms += Math.round(frac * 1e6) / 1e6;
    }
  }
  if (i === e) return ms;
  const z = buf[i];
  if ((z === 0x5a || z === 0x7a) && i + 1 === e) return ms;
  if (z !== 0x2b && z !== 0x2d) return NaN;
  const sign = z === 0x2d ? -1 : 1;
  i++;
  const oh = two(buf, i);
  if (oh < 0 || oh > 23) return NaN;
  i += 2;
  let om = 0;
  if (i < e) {
    if (buf[i] === 0x3a) i++;
    om = two(buf, i);
    if (om < 0 || om > 59) return NaN;
    i += 2;
  }
  if (i !== e) return NaN;
  return ms - sign * (oh * 3_600_000 + om * 60_000);
}

/** The largest time a JavaScript Date holds, in epoch milliseconds (either side of 1970). */
export const MAX_TIME_MS = 8.64e15;

/** A timestamp given as text: digits are epoch milliseconds, anything else must be ISO-8601. NaN when neither. */
export function timestampTextValue(buf: Uint8Array, s: number, e: number): number {
  // four digits and a dash: an ISO date (neither all digits nor a decimal number; the usual case)
  if (e - s > 4 && buf[s + 4] === 0x2d && isDigit4(buf, s)) return isoTimestampValue(buf, s, e);
  if (allDigits(buf, s, e)) return Number(latin1(buf, s, e));
  const d = decimalTextValue(buf, s, e);
  return Number.isNaN(d) ? isoTimestampValue(buf, s, e) : d;
}

/** Canonical text of a numeric label: as JavaScript prints the number (`1.0` -> `1`, `1e3` -> `1000`). */
export function canonicalNumber(v: number): string {
  return Object.is(v, -0) ? '0' : String(v);
}

let scratch = Buffer.allocUnsafe(256);

/**
 * A string's UTF-16 code units as bytes in a reused scratch buffer (chars above 0xff become 0xff:
 * they never belong to a number, a word or a timestamp). Returns the buffer; the text is bytes [0, s.length).
 */
export function textBytes(s: string): Buffer {
  const n = s.length;
  if (n > scratch.length) scratch = Buffer.allocUnsafe(Math.max(n, scratch.length * 2));
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    scratch[i] = c > 0xff ? 0xff : c;
  }
  return scratch;
}
