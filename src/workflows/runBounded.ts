// Bounded fan-out for workflow code: partitions and plans run at most `limit` at a time.

/** Runs `work` over `items` with at most `limit` at once; stops launching when `shouldStop` says so or one fails. */
export async function runBounded<T>(
  items: readonly T[],
  limit: number,
  shouldStop: () => boolean,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let firstError: unknown = undefined;
  const lane = async () => {
    while (next < items.length && firstError === undefined && !shouldStop()) {
      const item = items[next++];
      try {
        await work(item);
      } catch (err) {
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (firstError !== undefined) throw firstError;
}
