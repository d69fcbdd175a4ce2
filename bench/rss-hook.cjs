// Preloaded into each timed process (NODE_OPTIONS=--require): writes its peak RSS (KiB), CPU time
// (user + system, microseconds, of the whole process: every thread) and minor page faults on exit. Preloads also run in worker
// threads; only the main thread writes.
const fs = require('node:fs');
const { isMainThread } = require('node:worker_threads');
const out = process.env.ABTOOL_BENCH_RSS;
if (out && isMainThread) {
  process.on('exit', () => {
    try {
      const u = process.resourceUsage();
      fs.appendFileSync(out, `${u.maxRSS} ${u.userCPUTime + u.systemCPUTime} ${u.minorPageFault}\n`);
    } catch {}
  });
}
