/**
 * The thread behind a SegmentWorker (parallel.ts): receives {work, which}, answers with the
 * segments' statistics (evaluate.ts segmentResults) or the error that stopped them.
 */
import { parentPort } from 'node:worker_threads';
import { loadDistributions } from '../core/distributions.js';
import { segmentResults } from './evaluate.js';
import { SortedValues } from './metrics.js';
import { fromWire, type WireWork } from './parallel.js';

const port = parentPort;
if (port) {
  // the distribution functions' modules load now, not when the first p-value is computed
  loadDistributions();
  port.on('message', (m: { work: WireWork; which: number[] }) => {
    try {
      const results = segmentResults(fromWire(m.work), m.which, new SortedValues());
      port.postMessage({ ok: true, results });
    } catch (e) {
      const err = e as Error;
      port.postMessage({ ok: false, message: err.message ?? String(e), stack: err.stack });
    }
  });
}
