// OrderedWrites: writes in flight side by side, committed only in submission order, never past a
// failed one, and never more in flight than the capacity.
import { OrderedWrites } from '../../../src/activities/orderedWrites';

/** A write the test finishes when it chooses. */
function controlled() {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return { promise, finish, fail };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('OrderedWrites', () => {
  it('commits in submission order although the writes finish out of order', async () => {
    const committed: number[] = [];
    const writes = new OrderedWrites<number>(3, (n) => committed.push(n));
    const controls = [controlled(), controlled(), controlled()];
    for (const [n, control] of controls.entries()) await writes.submit(n, () => control.promise);

    controls[2].finish();
    controls[1].finish();
    await tick();
    expect(committed).toEqual([]);
    controls[0].finish();
    await writes.drain();
    expect(committed).toEqual([0, 1, 2]);
  });

  it('keeps no more writes in flight than its capacity', async () => {
    const writes = new OrderedWrites<number>(2, () => undefined);
    const controls = [controlled(), controlled(), controlled()];
    let started = 0;
    const start = (n: number) => () => {
      started++;
      return controls[n].promise;
    };
    await writes.submit(0, start(0));
    await writes.submit(1, start(1));
    let thirdSubmitted = false;
    const third = writes.submit(2, start(2)).then(() => (thirdSubmitted = true));
    await tick();
    expect([started, thirdSubmitted]).toEqual([2, false]);
    controls[1].finish();
    await third;
    expect(started).toBe(3);
    controls[0].finish();
    controls[2].finish();
    await writes.drain();
  });

  it('never commits past a failed write, and reports the failure', async () => {
    const committed: number[] = [];
    const writes = new OrderedWrites<number>(3, (n) => committed.push(n));
    const controls = [controlled(), controlled(), controlled()];
    for (const [n, control] of controls.entries()) await writes.submit(n, () => control.promise);

    controls[0].finish();
    controls[2].finish();
    controls[1].fail(new Error('write 1 failed'));
    await expect(writes.drain()).rejects.toThrow('write 1 failed');
    expect(committed).toEqual([0]);
    await expect(writes.submit(3, () => Promise.resolve())).rejects.toThrow('write 1 failed');
  });

  it('settles without throwing, waiting for every write in flight', async () => {
    const writes = new OrderedWrites<number>(2, () => undefined);
    const slow = controlled();
    await writes.submit(0, () => slow.promise);
    await writes.submit(1, () => Promise.reject(new Error('fast failure')));
    let settled = false;
    const settling = writes.settle().then(() => (settled = true));
    await tick();
    expect(settled).toBe(false);
    slow.finish();
    await settling;
    expect(settled).toBe(true);
  });

  it('refuses a capacity below one', () => {
    expect(() => new OrderedWrites(0, () => undefined)).toThrow(RangeError);
  });
});
