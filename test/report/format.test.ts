/** Formatting shared by the renderers: text from the logs made printable (format.ts). */
import { describe, expect, it } from 'vitest';
import { printable, segmentName } from '../../src/report/format.js';
import type { SegmentReport } from '../../src/report/model.js';

const seg = (segment: Record<string, string>) => ({ segment }) as unknown as SegmentReport;

describe('printable text from the logs', () => {
  it('writes out control characters, and leaves other text (Unicode, emoji) alone', () => {
    expect(printable('a\nb\rc\td\u001b[31m\u0007\u007f\u0085')).toBe('a\\nb\\rc\\td\\u001b[31m\\u0007\\u007f\\u0085');
    expect(printable('São Paulo 🚀 東京')).toBe('São Paulo 🚀 東京');
    // a warning's own backslashes (a Windows path) are kept
    expect(printable('C:\\logs\\a.jsonl')).toBe('C:\\logs\\a.jsonl');
  });

  it('a segment value\'s backslashes are doubled, so a value holding a newline and one holding backslash-n read differently', () => {
    expect(segmentName(seg({ country: 'a\nb' }))).toBe('country=a\\nb');
    expect(segmentName(seg({ country: 'a\\nb' }))).toBe('country=a\\\\nb');
    expect(segmentName(seg({}))).toBe('overall');
  });
});
