// Several writes of one reader in flight at once, committed in the order they were submitted.
//
// A copy checkpoint says "everything up to this `_id` is written". With more than one batch being
// written at a time, batches finish out of order, so a batch counts only once it and every batch
// before it have finished: the checkpoint never passes a batch still in flight or one that failed.

interface Pending<T> {
  item: T;
  /** The write has finished, successfully or not. */
  finished: boolean;
  succeeded: boolean;
  settled: Promise<void>;
}

export class OrderedWrites<T> {
  /** Submitted and not yet committed, in submission order. */
  private pending: Pending<T>[] = [];
  private failure: { error: unknown } | null = null;

  /**
   * @param capacity how many writes may be in flight at once (1 gives one write after another)
   * @param onCommitted called for each item, in submission order, once its write and all before it succeeded
   */
  constructor(
    private readonly capacity: number,
    private readonly onCommitted: (item: T) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a whole number >= 1');
  }

  /** Starts `write` once there is room, and returns then (not when it finishes). Throws the first failure. */
  async submit(item: T, write: () => Promise<void>): Promise<void> {
    this.throwIfFailed();
    while (this.inFlight().length >= this.capacity) {
      await Promise.race(this.inFlight().map((entry) => entry.settled));
      this.throwIfFailed();
    }
    const entry: Pending<T> = { item, finished: false, succeeded: false, settled: Promise.resolve() };
    entry.settled = write().then(
      () => {
        entry.finished = true;
        entry.succeeded = true;
        try {
          this.commitReady();
        } catch (error) {
          this.failure ??= { error };
        }
      },
      (error: unknown) => {
        entry.finished = true;
        this.failure ??= { error };
      },
    );
    this.pending.push(entry);
  }

  /** Waits for every write submitted so far; throws the first failure. */
  async drain(): Promise<void> {
    await this.settle();
    this.throwIfFailed();
  }

  /** Waits for every write in flight to finish, failed or not (before returning or retrying). */
  async settle(): Promise<void> {
    for (let open = this.inFlight(); open.length > 0; open = this.inFlight()) {
      await Promise.all(open.map((entry) => entry.settled));
    }
  }

  private inFlight(): Pending<T>[] {
    return this.pending.filter((entry) => !entry.finished);
  }

  private commitReady(): void {
    // After a failure nothing more commits: a later batch's success must not move the checkpoint
    // past the batch that failed.
    while (!this.failure && this.pending.length > 0 && this.pending[0].succeeded) {
      this.onCommitted(this.pending.shift()!.item);
    }
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
