// The user's stages after `$changeStream`, applied to one event at a time. Leading `$match`
// stages become compiled predicates (the common case, and cheap); anything after them runs
// through the aggregation engine. The event's `_id` is its resume token and must survive.
import type { Document } from 'bson';
import { CommandError, ErrorCodes } from '../errors';
import { runPipeline } from '../query/aggregate';
import { compileFilter, type Matcher } from '../query/match';
import { exactlyEqual } from './exact-equality';

const ALLOWED_STAGES = new Set([
  '$match',
  '$project',
  '$addFields',
  '$set',
  '$unset',
  '$replaceRoot',
  '$replaceWith',
  '$redact',
]);

/** Stages mongod knows but refuses after $changeStream (anything else is unrecognized). */
const KNOWN_STAGES = new Set([
  '$bucket',
  '$bucketAuto',
  '$changeStream',
  '$changeStreamSplitLargeEvent',
  '$collStats',
  '$count',
  '$currentOp',
  '$densify',
  '$documents',
  '$facet',
  '$fill',
  '$geoNear',
  '$graphLookup',
  '$group',
  '$indexStats',
  '$limit',
  '$listLocalSessions',
  '$listSessions',
  '$lookup',
  '$merge',
  '$out',
  '$planCacheStats',
  '$sample',
  '$setWindowFields',
  '$skip',
  '$sort',
  '$sortByCount',
  '$unionWith',
  '$unwind',
]);

function stageName(stage: unknown): string {
  if (stage === null || typeof stage !== 'object' || Array.isArray(stage)) {
    throw new CommandError(ErrorCodes.TypeMismatch, 'Each element of the pipeline array must be an object');
  }
  const names = Object.keys(stage);
  if (names.length !== 1) {
    throw new CommandError(40323, 'A pipeline stage specification object must contain exactly one field.');
  }
  return names[0];
}

const SPLIT_STAGE = '$changeStreamSplitLargeEvent';

export interface UserPipelineOptions {
  /** The emulated server's version: $changeStreamSplitLargeEvent is known from 6.0.9 and 7.0. */
  serverVersion?: string;
}

/** Whether a $match filter may look at `fullDocument` (by path, or through the whole event). */
function mayReadImages(filter: Document): boolean {
  let text: string;
  try {
    text = JSON.stringify(filter);
  } catch {
    return true;
  }
  return /fullDocument|\$\$ROOT|\$\$CURRENT|\$where|\$function/.test(text);
}

export class UserPipeline {
  private readonly matchers: Matcher[] = [];
  private readonly transformStages: Document[] = [];
  /** The pipeline ends with $changeStreamSplitLargeEvent: events over the limit are split. */
  readonly splitLargeEvents: boolean = false;
  /** Whether a stage may read an event's document images (else they are sent without decoding). */
  readonly readsImages: boolean = false;

  constructor(stages: readonly Document[], options: UserPipelineOptions = {}) {
    for (const [index, stage] of stages.entries()) {
      const name = stageName(stage);
      if (name === SPLIT_STAGE && parseFloat(options.serverVersion ?? '8.0') >= 6) {
        const spec = stage[SPLIT_STAGE] as unknown;
        if (
          spec === null ||
          typeof spec !== 'object' ||
          Array.isArray(spec) ||
          Object.keys(spec).length > 0
        ) {
          throw new CommandError(7182800, '$changeStreamSplitLargeEvent spec should be an empty object');
        }
        if (index !== stages.length - 1) {
          throw new CommandError(
            7182802,
            '$changeStreamSplitLargeEvent must be the last stage in the pipeline',
          );
        }
        this.splitLargeEvents = true;
        continue;
      }
      if (name === SPLIT_STAGE) throw new CommandError(40324, `Unrecognized pipeline stage name: '${name}'`);
      if (!ALLOWED_STAGES.has(name)) {
        if (KNOWN_STAGES.has(name)) {
          throw new CommandError(
            ErrorCodes.IllegalOperation,
            `${name} is not permitted in a $changeStream pipeline`,
          );
        }
        throw new CommandError(40324, `Unrecognized pipeline stage name: '${name}'`);
      }
      if (name === '$match' && this.transformStages.length === 0) {
        const filter = stage.$match;
        if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
          throw new CommandError(15959, 'the match filter must be an expression in an object');
        }
        this.matchers.push(compileFilter(filter as Document));
        if (mayReadImages(filter as Document)) this.readsImages = true;
      } else {
        this.transformStages.push(stage);
        this.readsImages = true;
      }
    }
    // Validate the remaining stages now, so a malformed stage fails the aggregate, not a getMore.
    if (this.transformStages.length > 0) runPipeline([], this.transformStages, {});
  }

  /** The event as the user's stages leave it, or undefined when filtered out. */
  apply(event: Document): Document | undefined {
    for (const matcher of this.matchers) if (!matcher(event)) return undefined;
    if (this.transformStages.length === 0) return event;
    const [output] = runPipeline([event], this.transformStages, {});
    if (output === undefined) return undefined;
    if (!exactlyEqual(output._id, event._id)) {
      throw new CommandError(
        ErrorCodes.ChangeStreamFatalError,
        'Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. ' +
          'Modifying the _id field of an event makes it impossible to resume the stream from that point. ' +
          'Only transformations that retain the unmodified _id field are allowed.',
        { errorLabels: ['NonResumableChangeStreamError'] },
      );
    }
    return output;
  }
}
