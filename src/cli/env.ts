/**
 * The ABTOOL_* environment settings, checked: a value abtool does not understand (ABTOOL_THREADS=no,
 * ABTOOL_SPLIT_MIN_BYTES=64MB) or a name it does not know (ABTOOL_THREAD=0) is named in a warning on
 * stderr instead of being silently ignored. The settings only change how abtool works (threads,
 * timings, the relaunch), never what it computes; each is read where it is used.
 */

/** The switches: '0' or '1' (an empty value is the same as none). */
const SWITCHES: Record<string, string> = {
  ABTOOL_THREADS: '0 keeps everything on one thread',
  ABTOOL_TIMINGS: '1 prints when the read and the evaluation ended',
  ABTOOL_RELAUNCH: '0 never relaunches, 1 always does',
  ABTOOL_FIRST_PART_HERE: "0 gives a split file's two parts to two reading threads",
  ABTOOL_SYNC_COMPILE: "0 leaves V8's compilation as it is",
};

/** Names abtool sets itself: for its own child (relaunch.ts) and for watch's --on-rollback command. */
const SET_BY_ABTOOL = new Set(['ABTOOL_RELAUNCHED', 'ABTOOL_LAUNCHED_AT', 'ABTOOL_TRIGGERED_AT', 'ABTOOL_REASON', 'ABTOOL_SPEC']);

/** The warnings for the ABTOOL_* settings of `env` (none when all are understood). */
export function envWarnings(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('ABTOOL_') || SET_BY_ABTOOL.has(name) || name === 'ABTOOL_DEBUG') continue;
    const value = env[name]!;
    if (value === '') continue;
    const shown = JSON.stringify(value);
    if (name in SWITCHES) {
      if (value !== '0' && value !== '1') out.push(`${name}=${shown} is not understood and is ignored (${SWITCHES[name]})`);
    } else if (name === 'ABTOOL_SPLIT_MIN_BYTES') {
      if (!(value.trim() !== '' && Number(value) >= 0)) out.push(`${name}=${shown} is not understood and is ignored (a number of bytes from 0, e.g. 33554432)`);
    } else {
      out.push(`${name} is not a setting abtool knows, and is ignored (it knows ${[...Object.keys(SWITCHES), 'ABTOOL_SPLIT_MIN_BYTES', 'ABTOOL_DEBUG'].sort().join(', ')})`);
    }
  }
  return out;
}
