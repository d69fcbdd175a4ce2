#!/usr/bin/env node
// analyze of big inputs: run in a child process with the memory allocator tuned (src/cli/relaunch.ts),
// and start the reading thread while the CLI loads (src/ingest/prestart.ts)
import { fileURLToPath } from 'node:url';
import { relaunchTuned, watchParent } from '../dist/cli/relaunch.js';
import { prestartReader } from '../dist/ingest/prestart.js';

const argv = process.argv.slice(2);
if (!(await relaunchTuned(fileURLToPath(import.meta.url), argv))) {
  watchParent();
  prestartReader(argv);
  await import('../dist/cli/main.js');
}
