/**
 * The ABTOOL_* environment settings, checked: a value abtool does not understand (ABTOOL_THREADS=no,
 * ABTOOL_SPLIT_MIN_BYTES=64MB), or a name one or two letters from a setting's (ABTOOL_THREAD=0), is
 * named in a warning on stderr instead of being silently ignored. Other ABTOOL_* names are left
 * alone: scripts around abtool have their own (its tests' ABTOOL_SCREENSHOTS, the benchmark's
 * ABTOOL_BENCH_RSS). The settings only change how abtool works (threads, timings, the relaunch),
 * never what it computes; each is read where it is used.
 */

/** The switches: '0' or '1' (an empty value is the same as none). */
const SWITCHES: Record<string, string> = {
  ABTOOL_THREADS: '0 keeps everything on one thread',
  ABTOOL_TIMINGS: '1 prints when the read and the evaluation ended',
  ABTOOL_RELAUNCH: '0 never relaunches, 1 always does',
  ABTOOL_FIRST_PART_HERE: "0 gives a split file's two parts to two reading threads",
  ABTOOL_SYNC_COMPILE: "0 leaves V8's compilation as it is",
  ABTOOL_WASM: '0 reads JSON Lines without the WebAssembly extractor',
  ABTOOL_DEBUG: '1 adds the stack to an internal error',
};

/** Names abtool sets itself: for its own child (relaunch.ts) and for watch's --on-rollback command. */
const SET_BY_ABTOOL = new Set(['ABTOOL_RELAUNCHED', 'ABTOOL_LAUNCHED_AT', 'ABTOOL_TRIGGERED_AT', 'ABTOOL_REASON', 'ABTOOL_SPEC']);

const SETTINGS = [...Object.keys(SWITCHES), 'ABTOOL_SPLIT_MIN_BYTES'].sort();

/** Levenshtein distance, stopping early: the number of one-letter edits from a to b, or more than `max` as max + 1. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(d);
      if (d < best) best = d;
    }
    if (best > max) return max + 1;
    prev = row;
  }
  return prev[b.length]!;
}

/** The warnings for the ABTOOL_* settings of `env` (none when all are understood). */
export function envWarnings(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('ABTOOL_') || SET_BY_ABTOOL.has(name)) continue;
    const value = env[name]!;
    if (value === '') continue;
    const shown = JSON.stringify(value);
    if (name in SWITCHES) {
      if (value !== '0' && value !== '1') out.push(`${name}=${shown} is not understood and is ignored (${SWITCHES[name]})`);
    } else if (name === 'ABTOOL_SPLIT_MIN_BYTES') {
      if (!(value.trim() !== '' && Number(value) >= 0)) out.push(`${name}=${shown} is not understood and is ignored (a number of bytes from 0, e.g. 33554432)`);
    } else {
      const near = SETTINGS.find((known) => distance(name, known, 2) <= 2);
      if (near !== undefined) out.push(`${name} is not a setting abtool knows, and is ignored (did you mean ${near}?)`);
    }
  }
  return out;
}
