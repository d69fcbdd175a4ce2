/*
 * abtool's JSON Lines field extractor, compiled to WebAssembly (scripts/build-wasm.mjs writes
 * jsonlScanWasm.ts from it; clang --target=wasm32 -msimd128, no libc).
 *
 * The same job as JsonLineScanner (jsonScan.ts) for many lines per call: each line of a region that
 * ends with a newline is validated as one JSON object and the values of the requested top-level keys
 * are reported as token types, byte ranges and (numbers on the exact fast path) values, a column per
 * field. It accepts a subset of what JsonLineScanner accepts; any line it does not take whole (not an
 * object, malformed, blank, a key with an escape, a requested key named twice) gets status 1 and the
 * caller scans that line with JsonLineScanner, which then says what is wrong with it. So the
 * grammar, the errors and the values stay JsonLineScanner's; this only makes the common line cheaper:
 * strings are searched 16 bytes at a time and the keys of a line that names them in the order of the
 * line before are compared in place, not looked up.
 *
 * Memory: static tables and the outputs below __heap_base; the caller puts the region after it.
 * Every read past the region's last newline stays within 64 bytes (the caller's padding).
 */
#include <wasm_simd128.h>

typedef unsigned char u8;
typedef int i32;
typedef unsigned int u32;
typedef unsigned long long u64;

#define MAXF 64
#define MAXLINES 256
#define MAXSHAPE 64
#define MAXSHAPEKEY 64
#define MAXDEPTH 1024
#define KEYSTORE 8192

/* token types: the TOK_* values of jsonScan.ts */
enum { T_ABSENT, T_NULL, T_TRUE, T_FALSE, T_NUMBER, T_STRING, T_STRING_ESC, T_NAN, T_INF, T_NEG_INF, T_NESTED };
/* field kinds: the K_* values of builder.ts */
enum { K_NUMBER, K_FLAG, K_STRING, K_TIMESTAMP, K_LABEL };
/* what typeFields makes of a field: nothing, a number column (outNum), a text column (outVs, outLen) */
enum { ROLE_NONE, ROLE_NUMBER, ROLE_TEXT };
/* outStatus bits: left to JsonLineScanner, a value finishRow would not accept as it stands, a time for coerce.ts to read */
#define ST_SCAN 1
#define ST_TYPE 2
#define ST_TIME 4
/* the largest time a JavaScript Date holds (coerce.ts MAX_TIME_MS) */
#define MAX_TIME_MS 8.64e15

static i32 nf;
static i32 nkeys;
static i32 keyLen[MAXF];
static i32 keyOff[MAXF];
static i32 keyFirst[MAXF];
static i32 fieldNext[MAXF];
static u8 keyStore[KEYSTORE];
/* per field: its kind (builder.ts K_*), whether it is required, its role (ROLE_*) */
static i32 fieldKind[MAXF];
static i32 fieldRequired[MAXF];
static i32 fieldRole[MAXF];
static i32 setupDesc[6 * MAXF];
/* where a call's text values are gathered (set by the caller), and whether the last call did */
static u8 *packArea;
static i32 packCap;
static i32 packed;

/* the keys of the line before, by position: their bytes and the requested key they are (-1: none) */
static i32 shapeN;
static i32 shapeLen[MAXSHAPE];
static i32 shapeKey[MAXSHAPE];
static u8 shapeBytes[MAXSHAPE][MAXSHAPEKEY + 8];

static u8 stack[MAXDEPTH];

/* outputs, a column of MAXLINES per field */
static u8 outTok[MAXF * MAXLINES];
static i32 outVs[MAXF * MAXLINES];
static i32 outVe[MAXF * MAXLINES];
/* per text field and line (typeFields): the value's length, -1 when missing or empty */
static i32 outLen[MAXF * MAXLINES];
static double outNum[MAXF * MAXLINES];
/* per line: the offset of its newline, and 0 (taken) or 1 (the caller scans it) */
static i32 outEnd[MAXLINES];
static u8 outStatus[MAXLINES];

static const double POW10[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#define EXPORT(name) __attribute__((export_name(#name)))

EXPORT(keyStorePtr) u8 *keyStorePtr(void) { return keyStore; }
EXPORT(setupPtr) i32 *setupPtr(void) { return setupDesc; }
EXPORT(tokPtr) u8 *tokPtr(void) { return outTok; }
EXPORT(vsPtr) i32 *vsPtr(void) { return outVs; }
EXPORT(vePtr) i32 *vePtr(void) { return outVe; }
EXPORT(lenPtr) i32 *lenPtr(void) { return outLen; }
EXPORT(numPtr) double *numPtr(void) { return outNum; }
EXPORT(endPtr) i32 *endPtr(void) { return outEnd; }
EXPORT(statusPtr) u8 *statusPtr(void) { return outStatus; }
EXPORT(maxLines) i32 maxLines(void) { return MAXLINES; }
EXPORT(wasPacked) i32 wasPacked(void) { return packed; }
EXPORT(maxFields) i32 maxFields(void) { return MAXF; }
EXPORT(keyStoreSize) i32 keyStoreSize(void) { return KEYSTORE; }

/*
 * nfields fields, nk distinct keys: setupDesc holds, per key, its length and first field, then per
 * field the next field of the same key (-1: none), then per field its kind, whether it is required
 * and its role; keyStore the keys' bytes one after another. Gathered values go to pack[0, cap).
 */
EXPORT(setup) i32 setup(i32 nfields, i32 nk, u8 *pack, i32 cap) {
  if (nfields < 0 || nfields > MAXF || nk < 0 || nk > nfields) return 0;
  nf = nfields;
  nkeys = nk;
  shapeN = 0;
  i32 off = 0;
  for (i32 k = 0; k < nk; k++) {
    keyLen[k] = setupDesc[2 * k];
    keyFirst[k] = setupDesc[2 * k + 1];
    keyOff[k] = off;
    off += keyLen[k];
    if (off > KEYSTORE) return 0;
  }
  for (i32 f = 0; f < nf; f++) fieldNext[f] = setupDesc[2 * nk + f];
  for (i32 f = 0; f < nf; f++) {
    fieldKind[f] = setupDesc[2 * nk + nf + f];
    fieldRequired[f] = setupDesc[2 * nk + 2 * nf + f];
    fieldRole[f] = setupDesc[2 * nk + 3 * nf + f];
  }
  packArea = pack;
  packCap = cap;
  return 1;
}

/* JSON whitespace within a line (the newline ends it) */
static inline int isWs(u8 c) { return c == ' ' || c == '\t' || c == '\r'; }

static inline const u8 *skipWs(const u8 *p) {
  while (isWs(*p)) p++;
  return p;
}

static inline int isHex(u8 h) { return (h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'); }

static int escapedFlag;

/* A string's content from p (after the opening quote): its closing quote, or 0 (not a valid string). */
static inline const u8 *scanString(const u8 *p) {
  const v128_t quote = wasm_i8x16_splat('"');
  const v128_t backslash = wasm_i8x16_splat('\\');
  const v128_t control = wasm_i8x16_splat(0x20);
  for (;;) {
    v128_t v = wasm_v128_load(p);
    v128_t m = wasm_v128_or(wasm_v128_or(wasm_i8x16_eq(v, quote), wasm_i8x16_eq(v, backslash)), wasm_u8x16_lt(v, control));
    u32 bits = wasm_i8x16_bitmask(m);
    if (bits) {
      p += __builtin_ctz(bits);
      break;
    }
    p += 16;
  }
  if (*p == '"') {
    escapedFlag = 0;
    return p;
  }
  for (;;) {
    u8 c = *p;
    if (c == '"') {
      escapedFlag = 1;
      return p;
    }
    if (c == '\\') {
      u8 d = p[1];
      if (d == '"' || d == '\\' || d == '/' || d == 'b' || d == 'f' || d == 'n' || d == 'r' || d == 't') {
        p += 2;
      } else if (d == 'u') {
        if (!isHex(p[2]) || !isHex(p[3]) || !isHex(p[4]) || !isHex(p[5])) return 0;
        p += 6;
      } else {
        return 0;
      }
    } else if (c < 0x20) {
      return 0;
    } else {
      p++;
    }
  }
}

static double numValue;

/* A number (JSON's grammar); numValue as jsonScan.ts scanNumber computes it (NaN: off the fast path). */
static inline const u8 *scanNumber(const u8 *p) {
  int neg = 0;
  if (*p == '-') {
    neg = 1;
    p++;
  }
  double mant = 0;
  int digits = 0, scale = 0;
  u8 c = *p;
  if (c == '0') {
    p++;
  } else if (c >= '1' && c <= '9') {
    while ((c = *p) >= '0' && c <= '9') {
      digits++;
      mant = mant * 10 + (c - '0');
      p++;
    }
  } else {
    return 0;
  }
  if (*p == '.') {
    p++;
    if (!(*p >= '0' && *p <= '9')) return 0;
    while ((c = *p) >= '0' && c <= '9') {
      if (digits > 0 || c != '0') digits++;
      mant = mant * 10 + (c - '0');
      scale--;
      p++;
    }
  }
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!(*p >= '0' && *p <= '9')) return 0;
    while (*p >= '0' && *p <= '9') p++;
    numValue = __builtin_nan("");
    return p;
  }
  if (digits > 15 || scale < -22) {
    numValue = __builtin_nan("");
  } else {
    double v = mant == 0 ? 0 : scale == 0 ? mant : mant / POW10[-scale];
    numValue = neg ? -v : v;
  }
  return p;
}

static inline int word(const u8 *p, const char *w, int n) {
  for (int k = 0; k < n; k++)
    if (p[k] != (u8)w[k]) return 0;
  return 1;
}

static int tokType;
static const u8 *scanValue(const u8 *p);

/* the literal w (n bytes) at p, a token of this type: its end, or 0 */
static inline const u8 *literal(const u8 *p, int type, const char *w, int n) {
  tokType = type;
  return word(p, w, n) ? p + n : 0;
}

/* An object or array from p, validated (an explicit stack); its end, or 0. */
static const u8 *skipNested(const u8 *p) {
  int depth = 0;
  int state = 0; /* 0: a value, 1: a key, 2: after a value */
  for (;;) {
    if (state == 2) {
      if (depth == 0) return p;
      p = skipWs(p);
      u8 c = *p, top = stack[depth - 1];
      if (c == ',') {
        p = skipWs(p + 1);
        state = top == '{' ? 1 : 0;
      } else if ((c == '}' && top == '{') || (c == ']' && top == '[')) {
        p++;
        depth--;
      } else {
        return 0;
      }
      continue;
    }
    if (state == 1) {
      if (*p != '"') return 0;
      const u8 *q = scanString(p + 1);
      if (!q) return 0;
      p = skipWs(q + 1);
      if (*p != ':') return 0;
      p = skipWs(p + 1);
      state = 0;
      continue;
    }
    u8 c = *p;
    if (c == '{' || c == '[') {
      if (depth == MAXDEPTH) return 0;
      stack[depth++] = c;
      p = skipWs(p + 1);
      if ((c == '{' && *p == '}') || (c == '[' && *p == ']')) {
        p++;
        depth--;
        state = 2;
      } else {
        state = c == '{' ? 1 : 0;
      }
      continue;
    }
    p = scanValue(p);
    if (!p) return 0;
    state = 2;
  }
}

/* Any value from p; sets tokType. Its end, or 0. */
static const u8 *scanValue(const u8 *p) {
  u8 c = *p;
  if (c == '"') {
    const u8 *q = scanString(p + 1);
    if (!q) return 0;
    tokType = escapedFlag ? T_STRING_ESC : T_STRING;
    return q + 1;
  }
  if ((c >= '0' && c <= '9') || c == '-') {
    if (c == '-' && p[1] == 'I') return literal(p + 1, T_NEG_INF, "Infinity", 8);
    tokType = T_NUMBER;
    return scanNumber(p);
  }
  switch (c) {
    case 't':
      return literal(p, T_TRUE, "true", 4);
    case 'f':
      return literal(p, T_FALSE, "false", 5);
    case 'n':
      return literal(p, T_NULL, "null", 4);
    case 'N':
      return literal(p, T_NAN, "NaN", 3);
    case 'I':
      return literal(p, T_INF, "Infinity", 8);
    case '{':
    case '[': {
      const u8 *q = skipNested(p);
      tokType = T_NESTED;
      return q;
    }
    default:
      return 0;
  }
}

/* ---- ISO-8601 times: coerce.ts isoTimestampValue, the same operations on doubles ---- */

static inline int two(const u8 *p) {
  int a = p[0] - '0', b = p[1] - '0';
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

static double daysFromCivil(double y, double m, double d) {
  y -= m <= 2 ? 1 : 0;
  double era = __builtin_floor(y / 400);
  double yoe = y - era * 400;
  double doy = __builtin_floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  double doe = yoe * 365 + __builtin_floor(yoe / 4) - __builtin_floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/* JavaScript's Math.round of x >= 0 below 2^52 (x - floor(x) is exact there) */
static inline double roundHalfUp(double x) {
  double r = __builtin_floor(x);
  return x - r >= 0.5 ? r + 1 : r;
}

static const int DAYS_IN_MONTH[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

/*
 * The string s[0, e - s) as timestampTextValue reads a text that starts with four digits and a dash:
 * isoTimestampValue. NaN when it is not one, or when it starts or ends with a blank (the caller then
 * reads it itself).
 */
static double isoValue(const u8 *s, const u8 *e) {
  const double nan = __builtin_nan("");
  if (e - s < 10) return nan;
  u8 last = e[-1];
  if (last == ' ' || last == '\t' || last == '\r' || last == '\n') return nan;
  int y1 = two(s), y2 = two(s + 2);
  if (y1 < 0 || y2 < 0 || s[4] != '-' || s[7] != '-') return nan;
  int year = y1 * 100 + y2;
  int month = two(s + 5), day = two(s + 8);
  if (month < 1 || month > 12 || day < 1) return nan;
  int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > DAYS_IN_MONTH[month - 1] + (month == 2 && leap ? 1 : 0)) return nan;
  double ms = daysFromCivil(year, month, day) * 86400000.0;
  const u8 *i = s + 10;
  if (i == e) return ms;
  u8 sep = *i;
  if (sep != 'T' && sep != 't' && sep != ' ') return nan;
  i++;
  if (e - i < 5) return nan;
  int hh = two(i), mi = two(i + 3);
  if (hh < 0 || hh > 23 || i[2] != ':' || mi < 0 || mi > 59) return nan;
  ms += hh * 3600000.0 + mi * 60000.0;
  i += 5;
  if (i < e && *i == ':') {
    int ss = two(i + 1);
    if (i + 3 > e || ss < 0 || ss > 59) return nan;
    ms += ss * 1000.0;
    i += 3;
    if (i < e && (*i == '.' || *i == ',')) {
      i++;
      double frac = 0, scale = 1000;
      const u8 *f0 = i;
      while (i < e && *i >= '0' && *i <= '9') {
        scale /= 10;
        if (i - f0 < 9) frac += (*i - '0') * scale;
        i++;
      }
      if (i == f0) return nan;
      ms += roundHalfUp(frac * 1e6) / 1e6;
    }
  }
  if (i == e) return ms;
  u8 z = *i;
  if ((z == 'Z' || z == 'z') && i + 1 == e) return ms;
  if (z != '+' && z != '-') return nan;
  double sign = z == '-' ? -1 : 1;
  i++;
  int oh = two(i);
  if (oh < 0 || oh > 23) return nan;
  i += 2;
  int om = 0;
  if (i < e) {
    if (*i == ':') i++;
    om = two(i);
    if (om < 0 || om > 59) return nan;
    i += 2;
  }
  if (i != e) return nan;
  return ms - sign * (oh * 3600000.0 + om * 60000.0);
}

static inline int sameBytes(const u8 *a, const u8 *b, int n) {
  while (n >= 8) {
    u64 x, y;
    __builtin_memcpy(&x, a, 8);
    __builtin_memcpy(&y, b, 8);
    if (x != y) return 0;
    a += 8;
    b += 8;
    n -= 8;
  }
  while (n > 0) {
    if (*a != *b) return 0;
    a++;
    b++;
    n--;
  }
  return 1;
}

static i32 matchKey(const u8 *k, int n) {
  for (i32 j = 0; j < nkeys; j++)
    if (keyLen[j] == n && sameBytes(keyStore + keyOff[j], k, n)) return j;
  return -1;
}

/* One line from p: its newline, or 0 when the caller must scan it. Line l's outputs are filled. */
static const u8 *scanLine(const u8 *p, const u8 *base, i32 l) {
  for (i32 f = 0; f < nf; f++) outTok[f * MAXLINES + l] = T_ABSENT;
  p = skipWs(p);
  if (*p != '{') return 0;
  p = skipWs(p + 1);
  if (*p == '}') {
    p++;
  } else {
    for (int pos = 0;; pos++) {
      if (*p != '"') return 0;
      const u8 *ks = p + 1, *ke;
      i32 key;
      if (pos < shapeN && ks[shapeLen[pos]] == '"' && sameBytes(ks, shapeBytes[pos], shapeLen[pos])) {
        ke = ks + shapeLen[pos];
        key = shapeKey[pos];
      } else {
        ke = scanString(ks);
        if (!ke || escapedFlag) return 0;
        int n = (int)(ke - ks);
        key = matchKey(ks, n);
        if (pos <= shapeN && pos < MAXSHAPE && n <= MAXSHAPEKEY) {
          shapeLen[pos] = n;
          for (int k = 0; k < n; k++) shapeBytes[pos][k] = ks[k];
          shapeKey[pos] = key;
          if (pos == shapeN) shapeN++;
        }
      }
      p = skipWs(ke + 1);
      if (*p != ':') return 0;
      p = skipWs(p + 1);
      const u8 *v = p;
      p = scanValue(p);
      if (!p) return 0;
      if (key >= 0) {
        i32 a = (i32)(v - base), b = (i32)(p - base);
        int t = tokType;
        if (t == T_STRING) {
          a++;
          b--;
        }
        for (i32 f = keyFirst[key]; f >= 0; f = fieldNext[f]) {
          i32 o = f * MAXLINES + l;
          if (outTok[o] != T_ABSENT) return 0; /* named twice: the caller notes it */
          outTok[o] = (u8)t;
          outVs[o] = a;
          outVe[o] = b;
          if (t == T_NUMBER) outNum[o] = numValue;
          else if (t == T_STRING && fieldKind[f] == K_TIMESTAMP) outNum[o] = isoValue(base + a, base + b);
        }
      }
      p = skipWs(p);
      if (*p == ',') {
        p = skipWs(p + 1);
        continue;
      }
      if (*p == '}') {
        p++;
        break;
      }
      return 0;
    }
  }
  p = skipWs(p);
  return *p == '\n' ? p : 0;
}

static const u8 *newline(const u8 *p) {
  const v128_t nl = wasm_i8x16_splat('\n');
  for (;;) {
    u32 bits = wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(p), nl));
    if (bits) return p + __builtin_ctz(bits);
    p += 16;
  }
}

/*
 * The values (strings, numbers) of the gathered fields of lines [0, m), copied field after field
 * into the pack area, so that a field's values of consecutive lines lie one after another; their
 * outVs/outVe then count from the pack area. Not when they do not fit (packed = 0: they still
 * count from base).
 */
static void gather(const u8 *base, i32 m) {
  i32 total = 0;
  for (i32 f = 0; f < nf; f++) {
    if (fieldRole[f] != ROLE_TEXT) continue;
    for (i32 l = 0; l < m; l++) {
      i32 o = f * MAXLINES + l;
      u8 t = outTok[o];
      if (t == T_STRING || t == T_NUMBER) total += outVe[o] - outVs[o];
    }
  }
  packed = 0;
  /* 16 bytes a copy: a value's last copy may write up to 15 bytes past it */
  if (total + 16 > packCap) return;
  i32 w = 0;
  for (i32 f = 0; f < nf; f++) {
    if (fieldRole[f] != ROLE_TEXT) continue;
    for (i32 l = 0; l < m; l++) {
      i32 o = f * MAXLINES + l;
      u8 t = outTok[o];
      if (t != T_STRING && t != T_NUMBER) continue;
      i32 a = outVs[o], n = outVe[o] - a;
      const u8 *src = base + a;
      u8 *dst = packArea + w;
      for (i32 k = 0; k < n; k += 16) wasm_v128_store(dst + k, wasm_v128_load(src + k));
      outVs[o] = w;
      outVe[o] = w + n;
      w += n;
    }
  }
  packed = 1;
}

/*
 * The columns the caller hands to BatchBuilder.acceptRows, as setNumberToken, setTextBytes, setBool
 * and finishRow would type each value: a number field's value in outNum (NaN: missing), a text field's
 * length in outLen (-1: missing or empty; outVs is its start). A value finishRow would not accept as it
 * stands, or that only the row-by-row way reads (a number off the exact fast path, a label given as
 * true), sets ST_TYPE on its line. A time given as text that is not an ISO-8601 time read here is the
 * caller's to read (with coerce.ts) and check: outLen is then 1 for that field and line (0 otherwise,
 * for every number field), and the line has ST_TIME. Label text that stands for a non-finite number,
 * and the model, are the caller's to check too.
 */
static void typeFields(i32 m) {
  const double nan = __builtin_nan("");
  for (i32 f = 0; f < nf; f++) {
    i32 role = fieldRole[f], kind = fieldKind[f], required = fieldRequired[f];
    if (role == ROLE_TEXT) {
      for (i32 l = 0; l < m; l++) {
        i32 o = f * MAXLINES + l;
        u8 t = outTok[o];
        i32 len = -1;
        int bad = 0;
        if (t == T_STRING) {
          len = outVe[o] - outVs[o];
          if (len == 0) len = -1;
        } else if (t == T_NUMBER && (kind == K_STRING || outNum[o] == outNum[o])) {
          /* a number where text belongs: its digits (a label's only when finite: its value was computed) */
          len = outVe[o] - outVs[o];
        } else if (t != T_ABSENT && t != T_NULL) {
          bad = 1;
        }
        if (len < 0 && required) bad = 1;
        outLen[o] = len;
        if (bad) outStatus[l] |= ST_TYPE;
      }
    } else if (role == ROLE_NUMBER) {
      for (i32 l = 0; l < m; l++) {
        i32 o = f * MAXLINES + l;
        u8 t = outTok[o];
        double v = nan;
        int bad = 0, later = 0;
        if (t == T_ABSENT || t == T_NULL) {
          /* missing */
        } else if (t == T_NUMBER) {
          v = outNum[o];
          if (v != v || (kind == K_FLAG && v != 0 && v != 1) || (kind == K_TIMESTAMP && !(v >= -MAX_TIME_MS && v <= MAX_TIME_MS))) bad = 1;
        } else if (kind == K_FLAG && (t == T_TRUE || t == T_FALSE)) {
          v = t == T_TRUE ? 1 : 0;
        } else if (kind == K_TIMESTAMP && t == T_STRING) {
          if (outVe[o] != outVs[o]) {
            v = outNum[o];
            if (v != v) later = 1;
            else if (!(v >= -MAX_TIME_MS && v <= MAX_TIME_MS)) bad = 1;
          }
        } else {
          bad = 1;
        }
        /* a missing required value (a time left to the caller is not missing: a time, or a wrong type) */
        if (v != v && required && !later) bad = 1;
        outNum[o] = v;
        outLen[o] = later;
        if (later) outStatus[l] |= ST_TIME;
        if (bad) outStatus[l] |= ST_TYPE;
      }
    }
  }
}

/*
 * The lines of base[start, end), where base[end - 1] is a newline: at most MAXLINES of them. Returns
 * how many; outEnd[l] is line l's newline (its offset from base), outStatus[l] whether it was taken
 * (0) and if not why (ST_*). The text fields' values are then in the pack area (wasPacked), and the
 * fields typed (typeFields).
 */
EXPORT(scanLines) i32 scanLines(const u8 *base, i32 start, i32 end) {
  const u8 *p = base + start, *stop = base + end;
  i32 l = 0;
  while (p < stop && l < MAXLINES) {
    const u8 *q = scanLine(p, base, l);
    if (q) {
      outStatus[l] = 0;
    } else {
      outStatus[l] = ST_SCAN;
      q = newline(p);
    }
    outEnd[l] = (i32)(q - base);
    p = q + 1;
    l++;
  }
  gather(base, l);
  typeFields(l);
  return l;
}
