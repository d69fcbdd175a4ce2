// Preloaded into each timed process (NODE_OPTIONS=--require): writes its peak RSS (KiB), CPU time
// (user + system, microseconds, of the whole process: every thread) and minor page faults on exit. Preloads also run in worker
// threads; only the main thread writes. The peak is VmHWM from /proc/self/status where there is one:
// getrusage's maxRSS survives exec on Linux, so a process started by a big one (the bench right after
// generating its logs, a relaunched analyze's child) would report its parent's peak if it was higher.
const fs = require('node:fs');
const { isMainThread } = require('node:worker_threads');
const out = process.env.ABTOOL_BENCH_RSS;

function peakKiB(fallback) {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'latin1'));
    if (m) return Number(m[1]);
  } catch {}
  return fallback;
}

if (out && isMainThread) {
  process.on('exit', () => {
    try {
      const u = process.resourceUsage();
      fs.appendFileSync(out, `${peakKiB(u.maxRSS)} ${u.userCPUTime + u.systemCPUTime} ${u.minorPageFault}\n`);
    } catch {}
  });
}
