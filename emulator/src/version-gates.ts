// What each emulated server version refuses. A feature is gated by the release that introduced it
// (counted at the next long-term release: 5.1–5.3 features are 6.0's), and an older server answers
// as mongod does for a name it has never heard of: an unknown command, stage, expression, group
// operator, field or enumeration value.
import type { Document } from 'bson';
import { CommandError, ErrorCodes } from './errors';

export type ServerVersion = '5.0' | '6.0' | '7.0' | '8.0';

const RELEASES: readonly ServerVersion[] = ['5.0', '6.0', '7.0', '8.0'];

export function atLeast(version: ServerVersion, since: ServerVersion): boolean {
  return RELEASES.indexOf(version) >= RELEASES.indexOf(since);
}

/** Commands (lower-cased) by the release that introduced them. */
const COMMANDS_SINCE: Record<string, ServerVersion> = {
  setuserwriteblockmode: '6.0',
  bulkwrite: '8.0',
};

/** Aggregation stages: $documents arrived in 5.1. */
const STAGES_SINCE: Record<string, ServerVersion> = { $documents: '6.0' };

/** The n-ary accumulators of 5.2. */
const GROUP_OPERATORS_SINCE: Record<string, ServerVersion> = {
  $top: '6.0',
  $bottom: '6.0',
  $topN: '6.0',
  $bottomN: '6.0',
  $firstN: '6.0',
  $lastN: '6.0',
  $maxN: '6.0',
  $minN: '6.0',
};

/** Array expressions of 5.2 (the accumulators' expression forms). */
const EXPRESSIONS_SINCE: Record<string, ServerVersion> = {
  $firstN: '6.0',
  $lastN: '6.0',
  $maxN: '6.0',
  $minN: '6.0',
};

/** Collection options of `create`: clustered collections (5.3), pre- and post-images and encryption (6.0). */
const CREATE_OPTIONS_SINCE: Record<string, ServerVersion> = {
  clusteredIndex: '6.0',
  changeStreamPreAndPostImages: '6.0',
  encryptedFields: '6.0',
};

const COLL_MOD_OPTIONS_SINCE: Record<string, ServerVersion> = { changeStreamPreAndPostImages: '6.0' };

/** collMod's index conversion to unique (6.0). */
const COLL_MOD_INDEX_OPTIONS_SINCE: Record<string, ServerVersion> = { prepareUnique: '6.0', unique: '6.0' };

const INDEX_OPTIONS_SINCE: Record<string, ServerVersion> = { prepareUnique: '6.0', clustered: '6.0' };

/** $changeStream options: expanded events and pre-images (6.0). */
const CHANGE_STREAM_OPTIONS_SINCE: Record<string, ServerVersion> = {
  showExpandedEvents: '6.0',
  fullDocumentBeforeChange: '6.0',
};

/** `fullDocument` values beyond "default" and "updateLookup" read post-images (6.0). */
const FULL_DOCUMENT_VALUES_SINCE: Record<string, ServerVersion> = { required: '6.0', whenAvailable: '6.0' };

/** An update statement's `sort` (updateOne/replaceOne with a sort, 8.0). */
const UPDATE_STATEMENT_FIELDS_SINCE: Record<string, ServerVersion> = { sort: '8.0' };

/** Behaviour that changed rather than arrived: both 7.0. */
export const BEHAVIOUR_SINCE = {
  /** `drop` of a namespace that does not exist succeeds (earlier: NamespaceNotFound). */
  dropMissingNamespaceSucceeds: '7.0',
  /** `create` of an existing collection with identical options succeeds (earlier: NamespaceExists). */
  identicalCreateSucceeds: '7.0',
} as const satisfies Record<string, ServerVersion>;

function lacks(version: ServerVersion, table: Record<string, ServerVersion>, name: string): boolean {
  const since = Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
  return since !== undefined && !atLeast(version, since);
}

function unknownField(path: string): CommandError {
  return new CommandError(40415, `BSON field '${path}' is an unknown field.`, { codeName: 'Location40415' });
}

function isObject(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Refuses a command the version does not know, before anything else about it is looked at. */
export function assertCommandKnown(version: ServerVersion, commandName: string): void {
  if (lacks(version, COMMANDS_SINCE, commandName.toLowerCase()))
    throw new CommandError(ErrorCodes.CommandNotFound, `no such command: '${commandName}'`);
}

/** Walks an aggregation pipeline, filter or expression for names the version does not know. */
function assertExpressionsKnown(version: ServerVersion, value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) assertExpressionsKnown(version, item);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, argument] of Object.entries(value)) {
    if (key === '$literal') continue;
    if (lacks(version, STAGES_SINCE, key))
      throw new CommandError(40324, `Unrecognized pipeline stage name: '${key}'`);
    if (lacks(version, EXPRESSIONS_SINCE, key))
      throw new CommandError(ErrorCodes.InvalidPipelineOperator, `Unrecognized expression '${key}'`);
    if (key === '$changeStream' && isObject(argument)) assertChangeStreamOptionsKnown(version, argument);
    if ((key === '$group' || key === '$bucket' || key === '$bucketAuto') && isObject(argument)) {
      const outputs = key === '$group' ? argument : argument.output;
      if (isObject(outputs)) assertAccumulatorsKnown(version, outputs, key === '$group');
    }
    assertExpressionsKnown(version, argument);
  }
}

function assertAccumulatorsKnown(version: ServerVersion, outputs: Document, isGroup: boolean): void {
  for (const [field, accumulator] of Object.entries(outputs)) {
    if (isGroup && field === '_id') continue;
    if (!isObject(accumulator)) continue;
    for (const operator of Object.keys(accumulator)) {
      if (lacks(version, GROUP_OPERATORS_SINCE, operator))
        throw new CommandError(15952, `unknown group operator '${operator}'`, { codeName: 'Location15952' });
    }
  }
}

function assertChangeStreamOptionsKnown(version: ServerVersion, options: Document): void {
  for (const option of Object.keys(options)) {
    if (lacks(version, CHANGE_STREAM_OPTIONS_SINCE, option)) throw unknownField(`$changeStream.${option}`);
  }
  const fullDocument = options.fullDocument;
  if (typeof fullDocument === 'string' && lacks(version, FULL_DOCUMENT_VALUES_SINCE, fullDocument)) {
    throw new CommandError(
      ErrorCodes.BadValue,
      `Enumeration value '${fullDocument}' for field '$changeStream.fullDocument' is not a valid value.`,
    );
  }
}

function assertIndexSpecsKnown(version: ServerVersion, indexes: unknown): void {
  if (!Array.isArray(indexes)) return;
  for (const spec of indexes) {
    if (!isObject(spec)) continue;
    for (const option of Object.keys(spec)) {
      if (lacks(version, INDEX_OPTIONS_SINCE, option)) {
        throw new CommandError(
          ErrorCodes.InvalidIndexSpecificationOption,
          `The field '${option}' is not valid for an index specification. Specification: { ... }`,
        );
      }
    }
  }
}

function statementsOf(value: unknown): Document[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** Refuses the options, stages and operators of a command that the version does not know. */
export function assertCommandBodyKnown(version: ServerVersion, commandName: string, command: Document): void {
  if (version === RELEASES[RELEASES.length - 1]) return;
  switch (commandName.toLowerCase()) {
    case 'aggregate':
      assertExpressionsKnown(version, command.pipeline);
      return;
    case 'find':
      assertExpressionsKnown(version, [command.filter, command.projection]);
      return;
    case 'count':
    case 'distinct':
      assertExpressionsKnown(version, command.query);
      return;
    case 'update':
      for (const statement of statementsOf(command.updates)) {
        for (const field of Object.keys(statement)) {
          if (lacks(version, UPDATE_STATEMENT_FIELDS_SINCE, field))
            throw unknownField(`update.updates.${field}`);
        }
        assertExpressionsKnown(version, [statement.q, Array.isArray(statement.u) ? statement.u : undefined]);
      }
      return;
    case 'delete':
      for (const statement of statementsOf(command.deletes)) assertExpressionsKnown(version, statement.q);
      return;
    case 'findandmodify':
      assertExpressionsKnown(version, [
        command.query,
        command.fields,
        Array.isArray(command.update) ? command.update : undefined,
      ]);
      return;
    case 'create':
      for (const option of Object.keys(command)) {
        if (lacks(version, CREATE_OPTIONS_SINCE, option)) throw unknownField(`create.${option}`);
      }
      assertExpressionsKnown(version, [command.pipeline, command.validator]);
      return;
    case 'collmod':
      for (const option of Object.keys(command)) {
        if (lacks(version, COLL_MOD_OPTIONS_SINCE, option)) throw unknownField(`collMod.${option}`);
      }
      if (isObject(command.index)) {
        for (const option of Object.keys(command.index)) {
          if (lacks(version, COLL_MOD_INDEX_OPTIONS_SINCE, option))
            throw unknownField(`collMod.index.${option}`);
        }
      }
      assertExpressionsKnown(version, [command.pipeline, command.validator]);
      return;
    case 'createindexes':
      assertIndexSpecsKnown(version, command.indexes);
      return;
    case 'explain':
      if (isObject(command.explain)) {
        const [inner] = Object.keys(command.explain);
        if (inner !== undefined) assertCommandBodyKnown(version, inner, command.explain);
      }
      return;
    default:
      return;
  }
}
