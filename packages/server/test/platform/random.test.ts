import { describe, expect, it } from 'vitest';
import { randomBytesPooled } from '../../src/platform/random.ts';

describe('pooled random bytes', () => {
  it('hands out each byte once, across refills, in the sizes asked', () => {
    const seen = new Set<string>();
    // Far more than one pool (4 KiB): 2,000 tokens of 32 bytes cross 15 refills.
    for (let i = 0; i < 2_000; i++) {
      const token = randomBytesPooled(32);
      expect(token).toHaveLength(32);
      seen.add(token.toString('hex'));
    }
    expect(seen.size).toBe(2_000);
    expect(randomBytesPooled(0)).toHaveLength(0);
    expect(randomBytesPooled(256)).toHaveLength(256);
  });

  it('looks uniform: every byte value appears, none far off its share', () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 1_000; i++) for (const byte of randomBytesPooled(256)) counts[byte]!++;
    // 256,000 bytes: 1,000 per value expected; a fair source stays within ±20% with near certainty.
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1_200);
  });

  it('refuses sizes it was not made for', () => {
    for (const size of [-1, 1.5, 257, Number.NaN]) expect(() => randomBytesPooled(size)).toThrow(RangeError);
  });
});
