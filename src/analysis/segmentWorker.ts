/**
 * The thread behind a SegmentWorker (parallel.ts): receives {work}, groups the rows of the segments
 * it names and answers with their statistics (evaluate.ts computePart), or the error that stopped
 * them.
 */
import { parentPort } from 'node:worker_threads';
import { loadDistributions } from '../core/distributions.js';
import { computePart } from './evaluate.js';
import { fromWire, type WireWork } from './parallel.js';

const port = parentPort;
if (port) {
  // the distribution functions' modules load now, not when the first p-value is computed
  loadDistributions();
  port.on('message', (m: { work: WireWork }) => {
    try {
      const results = computePart(fromWire(m.work));
      port.postMessage({ ok: true, results });
    } catch (e) {
      const err = e as Error;
      port.postMessage({ ok: false, message: err.message ?? String(e), stack: err.stack });
    }
  });
}
