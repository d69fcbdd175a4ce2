/**
 * V8 compiles the functions that run hot in each thread (the reading thread, the segment thread)
 * in the thread itself instead of on V8's background threads.
 *
 * By default V8 optimizes a hot function (and a hot loop, "OSR") on its own background threads while
 * the function keeps running unoptimized. On a machine whose cores are all busy, as in a threaded
 * `analyze` (two threads reading, then two evaluating), those background compiles compete with the
 * work they are compiling for, and the function runs slow for longer. Measured on the benchmark's 1M
 * rows on 2 cores (bench/README.md): V8's background threads took ~0.5 s of CPU in a ~1.3 s run; with
 * both settings below in every thread the compiles took ~0.4 s in their own threads and the run
 * ~0.14 s less wall time (~0.2 s less CPU).
 *
 * Only for runs that keep the cores busy: prestartReader (ingest/prestart.ts) sets them just before it
 * starts the reading thread of a big `analyze`. A small run, on one thread, leaves V8's background
 * threads free cores, and compiling in the main thread made a 12,000-row example ~20 ms slower.
 *
 * Set before any worker thread starts, `--no-concurrent-recompilation` reaches the worker
 * threads only: V8 decides it when it creates a thread's isolate, and the main thread's exists
 * already. `--no-concurrent-osr` is read when a loop is compiled, so it reaches every thread. The main
 * thread's other functions are still compiled in the background (~0.05 s of the wall time, measured:
 * not worth starting a second Node process for). A relaunched child (relaunch.ts) gets both on its
 * command line.
 *
 * Only how and when code is compiled changes, never what it computes. ABTOOL_SYNC_COMPILE=0 leaves
 * V8's defaults (the benchmark's "V8 default compilation" row).
 */
import { setFlagsFromString } from 'node:v8';

/** The V8 flags set, in the order they are set. */
export const SYNC_COMPILE_FLAGS = ['--no-concurrent-recompilation', '--no-concurrent-osr'] as const;

/** Whether the environment asks for V8's own compilation settings instead. */
export function syncCompileWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.ABTOOL_SYNC_COMPILE !== '0';
}

/** Whether node was started with a flag of its own on these settings (--concurrent-recompilation, --no-concurrent-osr, ...): the user's choice, kept. */
function ownChoice(execArgv: readonly string[]): boolean {
  return execArgv.some((a) => /^--(no-)?concurrent[-_](recompilation|osr)\b/.test(a));
}

/** Set SYNC_COMPILE_FLAGS unless ABTOOL_SYNC_COMPILE=0 or node was started with a flag of its own on them; returns whether it did. */
export function tuneCompilation(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): boolean {
  if (!syncCompileWanted(env) || ownChoice(execArgv)) return false;
  for (const flag of SYNC_COMPILE_FLAGS) setFlagsFromString(flag);
  return true;
}

/** The flags a relaunched child is started with, on its command line, so they reach its main thread too (none when tuneCompilation would set none). */
export function childCompileFlags(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): string[] {
  return syncCompileWanted(env) && !ownChoice(execArgv) ? [...SYNC_COMPILE_FLAGS] : [];
}
