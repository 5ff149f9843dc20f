import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/platform/group-commit.ts';

/** A GroupCommit whose flushes are recorded, each answering its items doubled. */
function recorded(options?: { maxBatch?: number; lingerMs?: number }, fail?: (items: number[]) => boolean) {
  const flushes: number[][] = [];
  const group = new GroupCommit<number, number>(async (items) => {
    flushes.push(items);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (fail?.(items)) throw new Error('flush failed');
    return items.map((i) => i * 2);
  }, options);
  return { group, flushes };
}

describe('GroupCommit', () => {
  it('flushes a lone item at once, and what arrives during a flush in the next one', async () => {
    const { group, flushes } = recorded();
    const first = group.add(1);
    // Added while the first flush runs: they go together, after it.
    await new Promise((resolve) => setImmediate(resolve));
    const rest = [group.add(2), group.add(3)];
    expect(await Promise.all([first, ...rest])).toEqual([2, 4, 6]);
    expect(flushes).toEqual([[1], [2, 3]]);
  });

  it('with lingerMs, waits that long for company before the first flush', async () => {
    const { group, flushes } = recorded({ lingerMs: 30 });
    const started = performance.now();
    const first = group.add(1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = group.add(2);
    expect(await Promise.all([first, second])).toEqual([2, 4]);
    expect(flushes).toEqual([[1, 2]]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('does not linger once a batch is full, and splits at maxBatch', async () => {
    const { group, flushes } = recorded({ maxBatch: 2, lingerMs: 10_000 });
    const started = performance.now();
    expect(await Promise.all([group.add(1), group.add(2)])).toEqual([2, 4]);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(flushes).toEqual([[1, 2]]);
  });

  it('rejects every item of a failed flush, and flushes later items afresh', async () => {
    const { group, flushes } = recorded({}, (items) => items.includes(1));
    const failed = group.add(1);
    await expect(failed).rejects.toThrow('flush failed');
    expect(await group.add(5)).toBe(10);
    await group.idle();
    expect(flushes).toEqual([[1], [5]]);
  });
});
