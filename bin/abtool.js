#!/usr/bin/env node
// analyze of big inputs: start the reading thread while the CLI loads (src/ingest/prestart.ts)
import { prestartReader } from '../dist/ingest/prestart.js';

prestartReader(process.argv.slice(2));
await import('../dist/cli/main.js');
