/**
 * The README cannot drift from the tool: every command in its ```sh blocks is run here, from the
 * project root, and must end with the exit code written after it (`# exit N`, 0 when absent).
 * The two opening commands start with `npm install && `: that part is what CI itself does, so
 * only the rest is run (and `npm test` is this very test run, so it is not started again). Paths
 * under /tmp/ are run under this test file's temporary directory instead (removed afterwards, see
 * test/helpers/tmpdir.ts), so the README's examples leave nothing behind in /tmp.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/reference.js';

const readme = readFileSync(`${ROOT}README.md`, 'utf8');
const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);

interface Cmd {
  line: string;
  run: string;
  exit: number;
}
const commands: Cmd[] = blocks.flatMap((b) =>
  b
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((line) => {
      const m = /^(.*?)\s+#\s*exit\s+(\d+)\s*$/.exec(line);
      const cmd = m ? m[1]! : line;
      return { line, run: cmd.replace(/^npm install && /, ''), exit: m ? Number(m[2]) : 0 };
    }),
);

describe('README', () => {
  it('opens with exactly the two commands: install + main job, install + tests', () => {
    expect(readme.startsWith('# abtool\n\n```sh\n')).toBe(true);
    const first = blocks[0]!.trim().split('\n');
    expect(first).toHaveLength(2);
    expect(first[0]).toMatch(/^npm install && node bin\/abtool\.js analyze /);
    expect(first[1]).toBe('npm install && npm test');
    const ci = readFileSync(`${ROOT}.ci/run`, 'utf8');
    expect(ci).toContain(first[1]);
  });
  it('has commands to run', () => expect(commands.length).toBeGreaterThan(15));
  for (const c of commands) {
    if (c.run === 'npm test') continue;
    it(c.line, () => {
      const p = spawnSync('bash', ['-c', c.run.replaceAll('/tmp/', `${tmpdir()}/`)], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
      expect(p.status, `${c.run}\nstderr: ${p.stderr}`).toBe(c.exit);
      if (c.run.includes('bin/abtool.js')) expect(p.stdout.length).toBeGreaterThan(0);
      expect(p.stderr).not.toMatch(/internal error|at .*\.js:\d+:\d+/);
    });
  }
});
