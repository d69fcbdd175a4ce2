/**
 * Setup file (vitest.config.ts): each test file's temporary files go in a directory of its own, which
 * is removed when the file's tests are done. Tests make their directories with
 * `mkdtempSync(join(tmpdir(), ...))`, and `os.tmpdir()` reads TMPDIR at every call, so pointing TMPDIR
 * here catches them all, and the CLI processes the tests start (which inherit it) too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const outer = process.env.TMPDIR;
const root = mkdtempSync(join(tmpdir(), 'abtool-test-'));
process.env.TMPDIR = root;

afterAll(() => {
  if (outer === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = outer;
  rmSync(root, { recursive: true, force: true });
});
