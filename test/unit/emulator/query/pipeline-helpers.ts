// Shared by the pipeline-stage tests (one file per stage-*.ts module and aggregate.ts): running a
// pipeline through BSON and a small collection of people.
import { Double, Int32, type Document } from 'bson';
import { deserializeExact, serialize } from '../../../../emulator/src/bson';
import { runPipeline, type PipelineContext } from '../../../../emulator/src/query/aggregate';

/** Runs a pipeline and round-trips the output through BSON so result types are checked as sent. */
export function run(input: Document[], pipeline: Document[], ctx: PipelineContext = {}): Document[] {
  return runPipeline(input, pipeline, ctx).map((doc) => deserializeExact(serialize(doc)));
}

export function errorCode(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: number }).code;
  }
  return undefined;
}

export const int = (n: number) => new Int32(n);

export const people: Document[] = [
  { _id: int(1), name: 'ann', age: int(30), city: 'oslo', tags: ['a', 'b'], score: new Double(1.5) },
  { _id: int(2), name: 'bob', age: int(25), city: 'rome', tags: [], score: new Double(2.5) },
  { _id: int(3), name: 'cid', age: int(35), city: 'oslo', score: new Double(3) },
  { _id: int(4), name: 'dan', age: int(25), city: null, tags: ['c'], score: int(4) },
];
