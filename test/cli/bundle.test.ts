/**
 * The build (scripts/bundle.mjs) replaces the CLI's entry and its two worker modules in dist/ by
 * self-contained bundles, so a run loads a few files instead of a hundred modules. Every CLI test
 * runs the bundled code; this one checks that the bundling really happened (a build step that
 * silently stopped would leave a slower but working dist/), and that flatbuffers stayed the one
 * shared module the Arrow reader's guard patches.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/reference.js';

const dist = join(ROOT, 'dist');

describe('the bundled build', () => {
  it('the entry and the worker modules import no sibling modules of tsc\'s output', () => {
    for (const entry of ['cli/main.js', 'ingest/worker.js', 'analysis/segmentWorker.js']) {
      const text = readFileSync(join(dist, entry), 'utf8');
      // tsc's output imports './x.js' and '../dir/x.js'; a bundle only its chunks under ../bundle/
      const relative = [...text.matchAll(/(?:from|import\()\s*["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]!);
      expect(relative.length, entry).toBeGreaterThan(0);
      for (const r of relative) expect(r, `${entry} imports ${r}`).toMatch(/^\.\.\/bundle\//);
    }
  });

  it('loads the stdlib functions from one file', () => {
    expect(existsSync(join(dist, 'vendor/stdlib.cjs'))).toBe(true);
  });

  it('keeps flatbuffers outside the bundle (the Arrow guard patches the shared module)', () => {
    const chunks = readdirSync(join(dist, 'bundle')).filter((f) => f.endsWith('.js'));
    const arrow = chunks.map((f) => readFileSync(join(dist, 'bundle', f), 'utf8')).filter((t) => t.includes('RecordBatchReader'));
    expect(arrow.length).toBeGreaterThan(0);
    for (const t of arrow) {
      expect(t).toMatch(/from "flatbuffers"/);
      expect(t).not.toMatch(/class ByteBuffer\b/);
    }
  });
});
