// The server-side cursor abstraction: find, aggregate, listCollections, listIndexes and change
// streams all register a CursorSource; getMore and killCursors are handled generically.
import type { Document } from 'bson';

export interface CursorBatch {
  /** Documents to return: raw BSON buffers (sent as they are) or documents (serialized). */
  docs: Array<Buffer | Document>;
  /** True when the cursor has nothing more; the reply then carries cursor id 0. */
  exhausted: boolean;
  /** Change streams: the token to return as `postBatchResumeToken`. */
  postBatchResumeToken?: Document;
}

export interface CursorSource {
  /**
   * The next batch of at most `batchSize` documents (no limit when undefined). Tailable/awaitData
   * sources (change streams) may wait up to `maxAwaitMS` for new data before returning an empty batch.
   */
  next(batchSize: number | undefined, maxAwaitMS: number): Promise<CursorBatch>;
  /** Release resources; called on exhaustion, killCursors and session end. */
  close(): void;
}

/** Reply batches stay under this many bytes of raw documents (mongod caps at 16 MB). */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

/** A cursor over results computed up front (find, aggregate, list commands). */
export class ArrayCursorSource implements CursorSource {
  private position = 0;

  constructor(private docs: Array<Buffer | Document>) {}

  async next(batchSize: number | undefined): Promise<CursorBatch> {
    const limit = batchSize === undefined || batchSize <= 0 ? Infinity : batchSize;
    const start = this.position;
    let bytes = 0;
    while (this.position < this.docs.length && this.position - start < limit) {
      const doc = this.docs[this.position];
      bytes += Buffer.isBuffer(doc) ? doc.length : 512;
      if (bytes > MAX_BATCH_BYTES && this.position > start) break;
      this.position++;
    }
    return { docs: this.docs.slice(start, this.position), exhausted: this.position >= this.docs.length };
  }

  close(): void {
    this.docs = [];
  }
}
