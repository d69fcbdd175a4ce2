/**
 * Run `abtool analyze` of big inputs in a child Node process whose memory allocator (glibc's malloc)
 * is tuned for a program that allocates and frees large typed arrays. Run by bin/abtool.js before
 * anything else.
 *
 * Why: on the bench machine a page fault costs ~10 us, and analyzing 1M rows touches ~300 MB of new
 * memory, ~75k faults in 4 KB pages, a fifth of the CPU time. With these settings malloc asks the
 * kernel for transparent huge pages (2 MB) where the machine offers them on request
 * (`/sys/kernel/mm/transparent_hugepage/enabled` = `madvise`, a common default), grows its heaps in 64 MB steps,
 * serves allocations up to 32 MB from them and keeps what is freed for the next allocation instead
 * of returning it: ~15k faults instead of ~75k, ~10% less CPU and wall time at 1M rows, for ~50 MB more
 * peak memory. glibc reads GLIBC_TUNABLES only when a process starts, hence a child process; the
 * settings change how memory is handed out, never what the program computes.
 *
 * Only when: the command is `analyze` and the named inputs reach RELAUNCH_MIN_BYTES (below that, the
 * second Node start costs more than it saves); on Linux with glibc (musl ignores the variable);
 * GLIBC_TUNABLES is not set (a user's own settings are kept, and `GLIBC_TUNABLES=` turns this off);
 * ABTOOL_RELAUNCH is not 0; Node was not started with `--inspect`. The child has the same arguments, standard streams and environment, plus
 * the tunables; this process forwards SIGINT, SIGTERM and SIGHUP to it and exits as it does (its
 * exit code, or the same signal).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { namedInputs } from '../ingest/prestart.js';

export const MALLOC_TUNABLES = 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824:glibc.malloc.top_pad=67108864';

/** Named inputs at least this big are analyzed in a tuned child process. */
export const RELAUNCH_MIN_BYTES = 64 * 1024 * 1024;

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Whether this process runs on glibc: its libc among the mapped files (musl's is ld-musl-*.so). */
function onGlibc(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    return /\/libc\.so\.6$/m.test(readFileSync('/proc/self/maps', 'latin1'));
  } catch {
    return false;
  }
}

/** Whether `argv` (without node and the script) should be relaunched tuned, given the environment. */
export function relaunchWanted(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, minBytes = RELAUNCH_MIN_BYTES): boolean {
  if (env.GLIBC_TUNABLES !== undefined || env.ABTOOL_RELAUNCH === '0') return false;
  // a debugger's port would be taken twice
  if (process.execArgv.some((a) => a.startsWith('--inspect'))) return false;
  const named = namedInputs(argv, minBytes);
  return named !== null && named.bytes >= minBytes && onGlibc();
}

/**
 * Relaunch `script` with `argv` in a tuned child when relaunchWanted; resolves true once the child has
 * exited (process.exitCode set to its code; a child killed by a signal kills this process with it),
 * false when not wanted or the child could not be started (then the caller runs the command itself).
 */
export async function relaunchTuned(script: string, argv: readonly string[]): Promise<boolean> {
  if (!relaunchWanted(argv)) return false;
  const child = spawn(process.execPath, [...process.execArgv, script, ...argv], {
    stdio: 'inherit',
    // (ABTOOL_LAUNCHED_AT: ABTOOL_TIMINGS counts from this process's start)
    env: { ...process.env, GLIBC_TUNABLES: MALLOC_TUNABLES, ABTOOL_LAUNCHED_AT: String(performance.timeOrigin) },
  });
  const started = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  if (!started) return false;
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  for (const s of FORWARDED) process.on(s, forward);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  for (const s of FORWARDED) process.off(s, forward);
  if (signal !== null) process.kill(process.pid, signal);
  process.exitCode = code ?? 1;
  return true;
}
