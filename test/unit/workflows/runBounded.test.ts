import { runBounded } from '../../../src/workflows/runBounded';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('runBounded', () => {
  it('runs every item with at most `limit` at once', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await runBounded(
      [1, 2, 3, 4, 5, 6, 7],
      3,
      () => false,
      async (item) => {
        running += 1;
        peak = Math.max(peak, running);
        await tick();
        running -= 1;
        done.push(item);
      },
    );
    expect(peak).toBe(3);
    expect([...done].sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('stops launching when told to, and after the first failure, which it throws', async () => {
    const started: number[] = [];
    await runBounded(
      [1, 2, 3, 4],
      1,
      () => started.length >= 2,
      async (item) => {
        started.push(item);
      },
    );
    expect(started).toEqual([1, 2]);

    const launched: number[] = [];
    await expect(
      runBounded(
        [1, 2, 3, 4],
        2,
        () => false,
        async (item) => {
          launched.push(item);
          await tick();
          if (item === 1) throw new Error('partition 1 failed');
        },
      ),
    ).rejects.toThrow('partition 1 failed');
    expect(launched).toEqual([1, 2]);
  });

  it('does nothing for no items', async () => {
    const work = jest.fn();
    await runBounded([], 4, () => false, work);
    expect(work).not.toHaveBeenCalled();
  });
});
