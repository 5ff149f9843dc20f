import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../src/platform/bounded-cache.ts';

describe('BoundedCache', () => {
  it('answers an entry until its time, and not after', () => {
    const cache = new BoundedCache<string, number>(10);
    cache.set('a', 1, 1_000);
    expect(cache.get('a', 999)).toBe(1);
    expect(cache.get('a', 1_000)).toBeUndefined();
  });

  it('drops expired entries from its oldest end as it is read, so dead entries do not pile up to the bound', () => {
    const cache = new BoundedCache<string, number>(1_000);
    for (let i = 0; i < 100; i++) cache.set(`old-${i}`, i, 1_000);
    cache.set('live', 1, 10_000);
    // Every read after their time takes up to two of them away, whatever key it asks for.
    for (let i = 0; i < 50; i++) expect(cache.get('live', 2_000)).toBe(1);
    expect(cache.size).toBe(1);
  });

  it('stops at the first entry still in time: a later entry that expired sooner waits for its own read or the bound', () => {
    const cache = new BoundedCache<string, number>(1_000);
    cache.set('long', 1, 10_000);
    cache.set('short', 2, 1_000);
    expect(cache.get('long', 2_000)).toBe(1);
    expect(cache.size).toBe(2);
    expect(cache.get('short', 2_000)).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('when full, drops its oldest tenth at once', () => {
    const cache = new BoundedCache<number, number>(10);
    for (let i = 0; i < 10; i++) cache.set(i, i);
    cache.set(10, 10);
    expect(cache.get(0, 0)).toBeUndefined();
    expect(cache.get(1, 0)).toBe(1);
    expect(cache.size).toBe(10);
  });
});
