/**
 * Run `abtool analyze` of big inputs in a child Node process whose memory allocator (glibc's malloc)
 * is tuned for a program that allocates and frees large typed arrays. Run by bin/abtool.js before
 * anything else.
 *
 * Why: on the machine these settings were measured on, a page fault cost ~10 us, and analyzing 1M rows
 * touches ~300 MB of new memory, ~75k faults in 4 KB pages, a fifth of the CPU time. With these settings malloc asks the
 * kernel for transparent huge pages (2 MB) where the machine offers them on request
 * (`/sys/kernel/mm/transparent_hugepage/enabled` = `madvise`, a common default), grows its heaps in
 * 64 MB steps, serves allocations up to 32 MB from them and keeps what is freed for the next
 * allocation instead of returning it: ~18k faults instead of ~75k at 1M rows (bench/README.md has
 * the times), for a larger peak (the child's ~30-70 MB more, and the waiting parent's ~45 MB). glibc
 * reads GLIBC_TUNABLES only when a process starts, hence a child process; the settings change how
 * memory is handed out, never what the program computes.
 *
 * Only when: the command is `analyze` (not its --help) and the named inputs reach
 * RELAUNCH_MIN_BYTES (below that, the second Node start costs more than it saves); on Linux with
 * glibc (musl ignores the variable) and transparent huge pages on request (`always` or `madvise`:
 * without them the settings saved nothing); page faults are slow here (faultMicros, at least
 * SLOW_FAULT_MICROS: where a fault costs ~1.5 us, as on a later machine of the bench's, the huge pages
 * cost more system time than the faults they save, and the run was slower relaunched: 1.81 against
 * 1.70 s, 5 alternated runs); GLIBC_TUNABLES is not set (a user's own settings are kept, and
 * `GLIBC_TUNABLES=` turns this off); ABTOOL_RELAUNCH is not 0 (ABTOOL_RELAUNCH=1 skips the two
 * checks of the machine, huge pages and fault cost, and relaunches where the rest holds); not in a relaunched child
 * (ABTOOL_RELAUNCHED: a glibc that drops GLIBC_TUNABLES for a privileged process cannot make it
 * relaunch again); no debugger (its port would be taken twice).
 *
 * The child: the same Node options, script, arguments, standard streams and environment, plus
 * GLIBC_TUNABLES, ABTOOL_RELAUNCHED (this process's pid) and ABTOOL_LAUNCHED_AT (ABTOOL_TIMINGS then
 * counts from this process's start), and an IPC channel it uses only to notice that this process is
 * gone (watchParent, stopIfOrphaned: then it stops, so a launcher killed with SIGKILL leaves nothing
 * running and no report written afterwards). This process forwards the
 * signals a run is stopped with to the child and exits as the child did: its exit code, or its signal
 * (re-raised; when that does not end this process, as for pid 1 in a container, 128 + the signal's
 * number). A child that cannot be started leaves the run to this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { url as inspectorUrl } from 'node:inspector';
import { constants } from 'node:os';
import { namedInputs } from '../ingest/prestart.js';

export const MALLOC_TUNABLES = 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824:glibc.malloc.top_pad=67108864';

/** Named inputs at least this big are analyzed in a tuned child process. */
export const RELAUNCH_MIN_BYTES = 64 * 1024 * 1024;

/**
 * Page faults costing at least this many microseconds each make the relaunch worth its second start.
 * Measured (faultMicros): ~10-14 us on the machine where the relaunch saved 4-15% at 1M rows; 1.4-3.6 us
 * on one where it cost 6%.
 */
export const SLOW_FAULT_MICROS = 5;

/**
 * What a page fault costs here, in microseconds: the faster of two probes, each writing one byte in
 * every 4 KB page of a new 2 MB typed array (memory malloc takes fresh from the kernel, so each write
 * faults). About 1 ms where faults are cheap, ~10-20 ms where they are not.
 */
export function faultMicros(): number {
  const bytes = 2 * 1024 * 1024;
  let best = Infinity;
  for (let probe = 0; probe < 2; probe++) {
    const a = new Uint8Array(bytes);
    const t = process.hrtime.bigint();
    for (let i = 0; i < bytes; i += 4096) a[i] = 1;
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1000 / (bytes / 4096));
  }
  return best;
}

/**
 * Signals that stop a run, passed on to the child. Not SIGUSR1 (Node's debugger signal), nor SIGPROF
 * and SIGVTALRM: profilers' timers (`node --cpu-prof` samples with SIGPROF; a handler of ours, once
 * removed, would leave SIGPROF's default action, which kills the process).
 */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2', 'SIGALRM', 'SIGXCPU'] as const;

/** Whether this process runs on glibc: its libc among the mapped files (musl's is ld-musl-*.so). */
function onGlibc(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    return /\/libc\.so\.6$/m.test(readFileSync('/proc/self/maps', 'latin1'));
  } catch {
    return false;
  }
}

/**
 * Whether the kernel gives transparent huge pages to memory that asks for them (`[always]` or
 * `[madvise]`): with `[never]` (or no such file) the settings were measured to save nothing, so the
 * second start would be pure cost.
 */
function hugePagesOnRequest(): boolean {
  try {
    return /\[(always|madvise)\]/.test(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'latin1'));
  } catch {
    return false;
  }
}

function debugging(env: NodeJS.ProcessEnv): boolean {
  const inspect = (a: string): boolean => a.startsWith('--inspect');
  return inspectorUrl() !== undefined || process.execArgv.some(inspect) || (env.NODE_OPTIONS ?? '').split(/\s+/).some(inspect);
}

/**
 * Whether `argv` (without node and the script) should be relaunched tuned, given the environment;
 * `faults` tells what a page fault costs here (measured only when everything else holds).
 */
export function relaunchWanted(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, minBytes = RELAUNCH_MIN_BYTES, faults: () => number = faultMicros): boolean {
  if (env.GLIBC_TUNABLES !== undefined || env.ABTOOL_RELAUNCH === '0' || env.ABTOOL_RELAUNCHED !== undefined) return false;
  if (argv.includes('--help') || argv.includes('-h') || debugging(env)) return false;
  const named = namedInputs(argv, minBytes);
  if (named === null || named.bytes < minBytes || !onGlibc()) return false;
  if (env.ABTOOL_RELAUNCH === '1') return true;
  return hugePagesOnRequest() && faults() >= SLOW_FAULT_MICROS;
}

/** The exit of a relaunched child whose launching process is gone: the status a SIGTERM gives. */
function orphaned(): never {
  process.exit(128 + constants.signals.SIGTERM);
}

/**
 * In a relaunched child: stop when the launching process is gone (its IPC channel closes; noticed
 * when the event loop next turns, which a long read or evaluation may delay by a second or two).
 * The channel does not keep the child alive. No-op elsewhere.
 */
export function watchParent(): void {
  if (process.env.ABTOOL_RELAUNCHED === undefined || !process.channel) return;
  process.channel.unref();
  process.once('disconnect', orphaned);
}

/**
 * In a relaunched child whose launching process is gone (its parent is no longer the process that
 * started it: ABTOOL_RELAUNCHED holds that pid): stop now. Called by analyze before it writes its
 * report, so a run whose launcher was killed (a timeout's SIGKILL) writes nothing afterwards.
 */
export function stopIfOrphaned(): void {
  const launcher = Number(process.env.ABTOOL_RELAUNCHED);
  if (launcher > 0 && process.ppid !== launcher) orphaned();
}

/**
 * Relaunch `script` with `argv` in a tuned child when relaunchWanted; resolves true once the child has
 * exited (this process then exits as it did), false when not wanted or the child could not be started
 * (then the caller runs the command itself).
 */
export async function relaunchTuned(script: string, argv: readonly string[]): Promise<boolean> {
  if (!relaunchWanted(argv)) return false;
  let child: ChildProcess | null = null;
  // installed before the child starts, so no signal falls between its start and theirs: one that
  // comes before the child is there is kept for it (or, if it never starts, for this process)
  let pending: NodeJS.Signals | null = null;
  const forward = (signal: NodeJS.Signals): void => {
    if (child?.pid) child.kill(signal);
    else pending = signal;
  };
  for (const s of FORWARDED) process.on(s, forward);
  const stopForwarding = (): boolean => {
    for (const s of FORWARDED) process.off(s, forward);
    if (pending !== null && !child?.pid) process.kill(process.pid, pending);
    return false;
  };
  try {
    child = spawn(process.execPath, [...process.execArgv, script, ...argv], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, GLIBC_TUNABLES: MALLOC_TUNABLES, ABTOOL_RELAUNCHED: String(process.pid), ABTOOL_LAUNCHED_AT: String(performance.timeOrigin) },
    });
  } catch {
    // refused at once (E2BIG, ENOMEM, the permission model...): run here
    child = null;
    return stopForwarding();
  }
  const started = await new Promise<boolean>((resolve) => {
    child!.once('spawn', () => resolve(true));
    child!.once('error', () => resolve(false));
  });
  if (!started) {
    child = null;
    return stopForwarding();
  }
  if (pending !== null) child.kill(pending);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child!.once('exit', (c, s) => resolve([c, s])));
  stopForwarding();
  if (signal !== null) {
    process.kill(process.pid, signal);
    // still here (pid 1, or a signal Node ignores): the shell's number for a death by that signal
    process.exit(128 + (constants.signals[signal] ?? 0));
  }
  process.exitCode = code ?? 1;
  return true;
}
