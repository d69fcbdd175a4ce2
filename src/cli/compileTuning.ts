/**
 * V8 compiles the functions that run hot in a big `analyze`'s threads in the thread itself instead of
 * on V8's background threads.
 *
 * By default V8 optimizes a hot function (and a hot loop, "OSR") on its own background threads while
 * the function keeps running unoptimized. In a threaded `analyze` (two threads reading, then two
 * evaluating) every core is busy: those background compiles compete with the work they compile for,
 * and the function runs slow for longer. On the benchmark's 1M rows on 2 cores, V8's background
 * threads took ~0.5 s of CPU in a ~1.3 s run; with the two settings below the run took ~0.1 s less
 * (bench/README.md).
 *
 * tuneCompilation sets them before the first worker thread starts (prestart.ts for the reading thread
 * started ahead, readThreaded for one started with the read). `--no-concurrent-recompilation` is
 * decided when V8 creates a thread's isolate: it reaches the worker threads (reading, segments), not
 * the main thread, whose isolate exists already (its functions are still compiled in the
 * background). `--no-concurrent-osr` is read whenever a loop is compiled: it reaches every thread.
 *
 * A cost, measured and included in the figures above: V8 counts `--no-concurrent-osr` among the
 * flags its code caches are checked against, so the threads started afterwards compile the Node
 * modules they load from source (~20 ms more to start a worker). Setting only
 * `--no-concurrent-recompilation` (no such cost), or `--no-concurrent-osr` only once the segment
 * thread had started, gave no faster runs (9 alternated runs each).
 *
 * Only for runs that start threads, which keep the cores busy: a small run, on one thread, leaves
 * V8's background threads free cores (compiling its loops in the main thread made a 12,000-row
 * example ~20 ms slower). A relaunched child (relaunch.ts) decides for itself, as any run. Only how
 * and when code is compiled changes, never what it computes. ABTOOL_SYNC_COMPILE=0 leaves V8's
 * defaults (the benchmark's "V8 compiling in the background" row); so does a flag of the user's own
 * on these settings.
 */
import { setFlagsFromString } from 'node:v8';

/** The V8 flags set, in the order they are set. */
export const SYNC_COMPILE_FLAGS = ['--no-concurrent-recompilation', '--no-concurrent-osr'] as const;

/** Whether the environment asks for V8's own compilation settings instead. */
export function syncCompileWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.ABTOOL_SYNC_COMPILE !== '0';
}

/** Whether node was started with a flag of its own on these settings (--concurrent-recompilation, --no_concurrent_osr, ...): the user's choice, kept. */
export function ownChoice(execArgv: readonly string[]): boolean {
  return execArgv.some((a) => /^--(no[-_]?)?concurrent[-_](recompilation|osr)(=|$)/.test(a));
}

/** Set SYNC_COMPILE_FLAGS unless ABTOOL_SYNC_COMPILE=0 or node was given a flag of its own on them; returns whether they are set. */
export function tuneCompilation(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): boolean {
  if (!syncCompileWanted(env) || ownChoice(execArgv)) return false;
  for (const flag of SYNC_COMPILE_FLAGS) setFlagsFromString(flag);
  return true;
}
