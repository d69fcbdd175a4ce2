/** Formatting shared by the renderers: text from the logs made printable (format.ts). */
import { describe, expect, it } from 'vitest';
import { confidencePercent, printable, segmentName } from '../../src/report/format.js';
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

describe('confidencePercent', () => {
  it('as many digits as the level has, never rounded up to 100%', () => {
    expect([0.95, 0.9, 0.99, 0.999, 0.975, 0.9999, 1 - 1e-12, 0.5].map(confidencePercent)).toEqual(['95%', '90%', '99%', '99.9%', '97.5%', '99.99%', '99.9999999999%', '50%']);
    expect(confidencePercent(1 - 0.003)).toBe('99.7%');
  });
});

describe('bidirectional marks in text from the logs', () => {
  it('are written out, so a right-to-left override cannot show a segment value reversed', () => {
    expect(printable('\u202eevil')).toBe('\\u202eevil');
    expect(printable('a\u200eb\u200fc\u2066d\u2069e\u061cf')).toBe('a\\u200eb\\u200fc\\u2066d\\u2069e\\u061cf');
    expect(segmentName(seg({ country: '\u202eBR' }))).toBe('country=\\u202eBR');
  });
});
