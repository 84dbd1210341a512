// Catalog commands: create, drop, dropDatabase, renameCollection, collMod, list*, indexes,
// collStats/dbStats, validate, and the emulator-only legacy-unique-index test hook.
import { type Document, Int32, Long } from 'bson';
import { deserializeExact } from '../bson';
import { ArrayCursorSource } from '../cursor';
import { CommandError, ErrorCodes } from '../errors';
import { hiddenFromReader, markCreatedInTransaction } from '../transaction-catalog';
import { collationDocument, compileFilter, compareValues, parseCollationSpec, toNumber } from '../query';
import { validatePipeline } from '../query/aggregate';
import { validateCollectionName, validateDatabaseName, type ViewDefinition } from '../storage/catalog';
import type { Collection, IndexSpec } from '../storage/collection';
import { storedIndexSpec } from '../storage/index-spec';
import type { CommandContext, CommandTable } from './context';
import { collectionNameOf } from './crud';
import { collectionStats, toInt32Counts } from './stats';
import { createCollectionRecorded } from './writeOps';
import { RawBatch } from '../wire';
import { oplogCollStats } from './system-namespaces';
import { atLeast, BEHAVIOUR_SINCE } from '../version-gates';

const CREATE_OPTIONS = new Set([
  'capped',
  'size',
  'max',
  'validator',
  'validationLevel',
  'validationAction',
  'collation',
  'viewOn',
  'pipeline',
  'clusteredIndex',
  'changeStreamPreAndPostImages',
  'timeseries',
  'expireAfterSeconds',
  'storageEngine',
  'indexOptionDefaults',
  'encryptedFields',
  'idIndex',
  'autoIndexId',
  'flags',
  'temp',
  'recordIdsReplicated',
]);
const ENVELOPE = new Set([
  '$db',
  'lsid',
  'txnNumber',
  'autocommit',
  'startTransaction',
  '$clusterTime',
  '$readPreference',
  'readConcern',
  'writeConcern',
  'maxTimeMS',
  'comment',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
  '$audit',
  'mayBypassWriteBlocking',
]);
const INDEX_OPTIONS = new Set([
  'v',
  'key',
  'name',
  'unique',
  'sparse',
  'partialFilterExpression',
  'expireAfterSeconds',
  'hidden',
  'collation',
  'background',
  'weights',
  'default_language',
  'language_override',
  'textIndexVersion',
  '2dsphereIndexVersion',
  'bits',
  'min',
  'max',
  'bucketSize',
  'wildcardProjection',
  'storageEngine',
  'prepareUnique',
  'clustered',
  'ns',
  'dropDups',
  'coarsestIndexedLevel',
  'finestIndexedLevel',
]);

function assertNotInternalWrite(ctx: CommandContext, db: string): void {
  ctx.engine.assertDdlAllowed(ctx, db);
}

function create(ctx: CommandContext): Document {
  const { command, dbName } = ctx;
  const name = collectionNameOf(ctx);
  assertNotInternalWrite(ctx, dbName);
  const options: Document = {};
  for (const [key, value] of Object.entries(command)) {
    if (key === 'create' || ENVELOPE.has(key)) continue;
    if (!CREATE_OPTIONS.has(key))
      throw new CommandError(40415, `BSON field 'create.${key}' is an unknown field.`, {
        codeName: 'Location40415',
      });
    options[key] = value;
  }
  // mongod builds the _id index from `idIndex` and keeps it out of the collection's options
  // (listCollections shows the index as `idIndex`, never in `options`).
  delete options.idIndex;
  if (options.collation !== undefined) {
    // mongod stores the full spec (defaults filled in) and drops the simple collation.
    const collation = parseCollationSpec(options.collation);
    if (collation) options.collation = collationDocument(collation);
    else delete options.collation;
  }
  const existing = ctx.engine.catalog.collection(dbName, name) ?? ctx.engine.catalog.view(dbName, name);
  if (options.viewOn !== undefined) {
    if (typeof options.viewOn !== 'string')
      throw new CommandError(ErrorCodes.TypeMismatch, "'viewOn' option must be a string");
    const pipeline = validatePipeline(options.pipeline ?? []);
    if (existing)
      throw new CommandError(ErrorCodes.NamespaceExists, `Namespace ${dbName}.${name} already exists`);
    const viewOptions: Document = { viewOn: options.viewOn, pipeline };
    if (options.collation) viewOptions.collation = options.collation;
    ctx.engine.catalog.createView(dbName, name, options.viewOn, pipeline, viewOptions);
    ctx.engine.recordWrite(
      ctx,
      { op: 'create', db: dbName, coll: name, operationDescription: viewOptions, size: 128 },
      () => ctx.engine.catalog.dropCollection(dbName, name),
    );
    return { ok: 1 };
  }
  if (options.capped === true) {
    const size = toNumber(options.size);
    if (size === undefined || size <= 0)
      throw new CommandError(
        ErrorCodes.InvalidOptions,
        'the size field is required when creating a capped collection',
      );
  }
  if (existing) {
    if (
      atLeast(ctx.engine.options.version, BEHAVIOUR_SINCE.identicalCreateSucceeds) &&
      !('viewOn' in existing) &&
      compareValues((existing as Collection).options, options) === 0
    )
      return { ok: 1 };
    throw new CommandError(ErrorCodes.NamespaceExists, `Collection ${dbName}.${name} already exists.`);
  }
  const collection = createCollectionRecorded(ctx, dbName, name, options);
  if (options.clusteredIndex) {
    const clustered = options.clusteredIndex as Document;
    collection.indexes.push({
      v: 2,
      key: clustered.key ?? { _id: 1 },
      name: (clustered.name as string) ?? '_id_',
      unique: true,
      clustered: true,
    });
  }
  return { ok: 1 };
}

function drop(ctx: CommandContext): Document {
  const { dbName } = ctx;
  const name = collectionNameOf(ctx);
  assertNotInternalWrite(ctx, dbName);
  const target = ctx.engine.catalog.collection(dbName, name) ?? ctx.engine.catalog.view(dbName, name);
  if (!target) {
    if (atLeast(ctx.engine.options.version, BEHAVIOUR_SINCE.dropMissingNamespaceSucceeds)) return { ok: 1 };
    throw new CommandError(ErrorCodes.NamespaceNotFound, 'ns not found');
  }
  dropRecorded(ctx, dbName, name);
  return { ns: `${dbName}.${name}`, nIndexesWas: 'indexes' in target ? target.indexes.length : 0, ok: 1 };
}

function dropRecorded(ctx: CommandContext, db: string, name: string): void {
  const dropped = ctx.engine.catalog.dropCollection(db, name);
  if (!dropped) return;
  for (const [id, cursor] of ctx.engine.cursors) {
    if (cursor.ns === `${db}.${name}` && !cursor.awaitData) {
      cursor.source.close();
      ctx.engine.cursors.delete(id);
    }
  }
  const isCollection = 'indexes' in dropped;
  ctx.engine.recordWrite(
    ctx,
    { op: 'drop', db, coll: name, uuid: isCollection ? (dropped as Collection).uuid : undefined, size: 64 },
    () => {
      if (isCollection) ctx.engine.catalog.attach(dropped as Collection);
      else {
        const view = dropped as ViewDefinition;
        ctx.engine.catalog.createView(view.db, view.name, view.viewOn, view.pipeline, view.options);
      }
    },
  );
}

function dropDatabase(ctx: CommandContext): Document {
  const { dbName } = ctx;
  assertNotInternalWrite(ctx, dbName);
  const database = ctx.engine.catalog.database(dbName);
  if (!database) return { ok: 1 };
  for (const name of [...database.collections.keys(), ...database.views.keys()])
    dropRecorded(ctx, dbName, name);
  ctx.engine.catalog.dropDatabase(dbName);
  ctx.engine.recordWrite(ctx, { op: 'dropDatabase', db: dbName, size: 64 });
  return { dropped: dbName, ok: 1 };
}

function splitNamespace(ns: unknown, field: string): { db: string; coll: string } {
  if (typeof ns !== 'string' || !ns.includes('.'))
    throw new CommandError(ErrorCodes.InvalidNamespace, `Invalid ${field} namespace: ${String(ns)}`);
  const dot = ns.indexOf('.');
  return { db: validateDatabaseName(ns.slice(0, dot)), coll: ns.slice(dot + 1) };
}

function renameCollection(ctx: CommandContext): Document {
  const { command, engine } = ctx;
  if (ctx.dbName !== 'admin')
    throw new CommandError(
      ErrorCodes.Unauthorized,
      'renameCollection may only be run against the admin database.',
    );
  const from = splitNamespace(command.renameCollection, 'source');
  const to = splitNamespace(command.to, 'target');
  validateCollectionName(to.db, to.coll);
  assertNotInternalWrite(ctx, from.db);
  assertNotInternalWrite(ctx, to.db);
  const source = engine.catalog.collection(from.db, from.coll);
  if (!source) {
    if (engine.catalog.view(from.db, from.coll))
      throw new CommandError(
        ErrorCodes.CommandNotSupportedOnView,
        `cannot rename view: ${from.db}.${from.coll}`,
      );
    throw new CommandError(
      ErrorCodes.NamespaceNotFound,
      'Source collection ' + `${from.db}.${from.coll}` + ' does not exist',
    );
  }
  if (from.db === to.db && from.coll === to.coll)
    throw new CommandError(ErrorCodes.IllegalOperation, "Can't rename a collection to itself");
  const target = engine.catalog.collection(to.db, to.coll);
  const description: Document = { to: { db: to.db, coll: to.coll } };
  if (target || engine.catalog.view(to.db, to.coll)) {
    if (command.dropTarget !== true)
      throw new CommandError(ErrorCodes.NamespaceExists, 'target namespace exists');
    if (target) description.dropTarget = target.uuid;
    // The target's drop is part of the rename event (operationDescription.dropTarget), as in mongod.
    engine.catalog.dropCollection(to.db, to.coll);
  }
  engine.catalog.rename(source, to.db, to.coll);
  engine.recordWrite(
    ctx,
    {
      op: 'rename',
      db: from.db,
      coll: from.coll,
      uuid: source.uuid,
      to: { db: to.db, coll: to.coll },
      operationDescription: description,
      size: 128,
    },
    () => engine.catalog.rename(source, from.db, from.coll),
  );
  return { ok: 1 };
}

function normalizeIndexSpec(collection: Collection | undefined, raw: Document): IndexSpec {
  if (!raw || typeof raw !== 'object')
    throw new CommandError(ErrorCodes.TypeMismatch, 'index specification must be an object');
  const key = raw.key as Document | undefined;
  if (!key || typeof key !== 'object' || Object.keys(key).length === 0) {
    throw new CommandError(
      ErrorCodes.CannotCreateIndex,
      "Error in specification { } :: caused by :: The 'key' field is a required property of an index specification",
    );
  }
  if (typeof raw.name !== 'string' || raw.name.length === 0) {
    throw new CommandError(
      ErrorCodes.CannotCreateIndex,
      "Error in specification :: caused by :: The 'name' field is a required property of an index specification",
    );
  }
  for (const option of Object.keys(raw)) {
    if (!INDEX_OPTIONS.has(option))
      throw new CommandError(
        ErrorCodes.InvalidIndexSpecificationOption,
        `The field '${option}' is not valid for an index specification. Specification: { ... }`,
      );
  }
  if (raw.unique === true && raw.prepareUnique === true) {
    throw new CommandError(
      ErrorCodes.InvalidOptions,
      'Index with both unique and prepareUnique is not allowed',
    );
  }
  if (raw.expireAfterSeconds !== undefined && Object.keys(key).length > 1) {
    throw new CommandError(
      ErrorCodes.CannotCreateIndex,
      'TTL indexes are single-field indexes, compound indexes do not support TTL',
    );
  }
  return storedIndexSpec(raw, collection?.options.collation as Document | undefined) as IndexSpec;
}

function sameIndexOptions(a: IndexSpec, b: IndexSpec): boolean {
  const strip = (spec: IndexSpec) => {
    const { v: _v, name: _name, key: _key, ...rest } = spec;
    return rest;
  };
  return compareValues(strip(a), strip(b)) === 0;
}

function createIndexes(ctx: CommandContext): Document {
  const { command, dbName, engine } = ctx;
  const name = collectionNameOf(ctx);
  const indexes = command.indexes;
  if (!Array.isArray(indexes) || indexes.length === 0)
    throw new CommandError(ErrorCodes.BadValue, 'Must specify at least one index to create');
  assertNotInternalWrite(ctx, dbName);
  if (engine.catalog.view(dbName, name))
    throw new CommandError(
      ErrorCodes.CommandNotSupportedOnView,
      `Namespace ${dbName}.${name} is a view, not a collection`,
    );
  let collection = engine.catalog.collection(dbName, name);
  const createdCollectionAutomatically = !collection;
  const specs = (indexes as Document[]).map((raw) => normalizeIndexSpec(collection, raw));
  if (!collection) collection = createCollectionRecorded(ctx, dbName, name, {});
  const before = collection.indexes.length;
  let created = 0;
  for (const spec of specs) {
    const sameName = collection.findIndex(spec.name);
    const sameKey = collection.indexes.find(
      (index) =>
        compareValues(index.key, spec.key) === 0 &&
        compareValues(index.collation ?? null, spec.collation ?? null) === 0,
    );
    if (sameName) {
      if (compareValues(sameName.key, spec.key) !== 0) {
        throw new CommandError(
          ErrorCodes.IndexKeySpecsConflict,
          `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName)}`,
        );
      }
      if (!sameIndexOptions(sameName, spec)) {
        throw new CommandError(
          ErrorCodes.IndexOptionsConflict,
          `An equivalent index already exists with the same name but different options. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName)}`,
        );
      }
      continue;
    }
    if (sameKey) {
      if (sameIndexOptions(sameKey, spec)) continue;
      throw new CommandError(
        ErrorCodes.IndexOptionsConflict,
        `An equivalent index already exists with a different name and options. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameKey)}`,
      );
    }
    collection.addIndex(spec);
    markCreatedInTransaction(collection.findIndex(spec.name) ?? spec, ctx.transaction);
    created++;
    const target = collection;
    engine.recordWrite(
      ctx,
      {
        op: 'createIndexes',
        db: dbName,
        coll: name,
        uuid: collection.uuid,
        operationDescription: { indexes: [spec] },
        size: 128,
      },
      () => target.dropIndex(spec.name),
    );
  }
  const reply: Document = {
    numIndexesBefore: new Int32(before),
    numIndexesAfter: new Int32(collection.indexes.length),
    createdCollectionAutomatically,
  };
  if (created === 0) reply.note = 'all indexes already exist';
  reply.ok = 1;
  return reply;
}

function dropIndexes(ctx: CommandContext): Document {
  const { command, dbName, engine } = ctx;
  const name = collectionNameOf(ctx);
  assertNotInternalWrite(ctx, dbName);
  const collection = engine.catalog.collection(dbName, name);
  if (!collection) throw new CommandError(ErrorCodes.NamespaceNotFound, `ns not found ${dbName}.${name}`);
  const request = command.index;
  let names: string[];
  if (request === '*')
    names = collection.indexes.filter((index) => index.name !== '_id_').map((index) => index.name);
  else if (typeof request === 'string') names = [request];
  else if (Array.isArray(request)) names = request as string[];
  else if (request && typeof request === 'object') {
    // The stored key pattern (a text index's is {_fts: "text", _ftsx: 1}, not the one created).
    const found = collection.indexes.filter((index) => compareValues(index.key, request) === 0);
    if (found.length === 0)
      throw new CommandError(
        ErrorCodes.IndexNotFound,
        `can't find index with key: ${JSON.stringify(request)}`,
      );
    if (found.length > 1)
      throw new CommandError(
        181,
        `${found.length} indexes found for key: ${JSON.stringify(request)}, identify by name instead. Conflicting indexes: ${JSON.stringify(found[0])}, ${JSON.stringify(found[1])}`,
        { codeName: 'AmbiguousIndexKeyPattern' },
      );
    names = [found[0].name];
  } else
    throw new CommandError(
      ErrorCodes.TypeMismatch,
      "BSON field 'dropIndexes.index' is missing but a required field",
    );
  if (names.includes('_id_')) throw new CommandError(ErrorCodes.InvalidOptions, 'cannot drop _id index');
  for (const indexName of names)
    if (!collection.findIndex(indexName))
      throw new CommandError(ErrorCodes.IndexNotFound, `index not found with name [${indexName}]`);
  const before = collection.indexes.length;
  for (const indexName of names) {
    const spec = collection.dropIndex(indexName);
    engine.recordWrite(
      ctx,
      {
        op: 'dropIndexes',
        db: dbName,
        coll: name,
        uuid: collection.uuid,
        operationDescription: { indexes: [spec] },
        size: 128,
      },
      () => collection.addIndex(spec),
    );
  }
  return { nIndexesWas: new Int32(before), ok: 1 };
}

function collMod(ctx: CommandContext): Document {
  const { command, dbName, engine } = ctx;
  const name = collectionNameOf(ctx);
  assertNotInternalWrite(ctx, dbName);
  const view = engine.catalog.view(dbName, name);
  if (view) {
    if (command.viewOn !== undefined) view.viewOn = String(command.viewOn);
    if (command.pipeline !== undefined) view.pipeline = validatePipeline(command.pipeline);
    view.options = { ...view.options, viewOn: view.viewOn, pipeline: view.pipeline };
    engine.recordWrite(ctx, {
      op: 'modify',
      db: dbName,
      coll: name,
      operationDescription: { viewOn: view.viewOn, pipeline: view.pipeline },
      size: 128,
    });
    return { ok: 1 };
  }
  const collection = engine.catalog.collection(dbName, name);
  if (!collection)
    throw new CommandError(ErrorCodes.NamespaceNotFound, `ns does not exist: ${dbName}.${name}`);
  const reply: Document = {};
  const description: Document = {};
  const stateBefore: Document = {};
  const undo: Array<() => void> = [];
  for (const [key, value] of Object.entries(command)) {
    if (key === 'collMod' || ENVELOPE.has(key) || key === 'dryRun') continue;
    if (key === 'index') {
      const request = value as Document;
      const index =
        typeof request.name === 'string'
          ? collection.findIndex(request.name)
          : collection.findIndex(request.keyPattern as Document);
      if (!index)
        throw new CommandError(
          ErrorCodes.IndexNotFound,
          `cannot find index ${JSON.stringify(request.name ?? request.keyPattern)} for ns ${dbName}.${name}`,
        );
      const previous = { ...index };
      const indexBefore: Document = {};
      const indexDescription: Document = { name: index.name };
      if (request.hidden !== undefined) {
        if (index.name === '_id_') throw new CommandError(ErrorCodes.BadValue, "can't hide _id index");
        reply.hidden_old = index.hidden === true;
        reply.hidden_new = request.hidden === true;
        indexBefore.hidden = index.hidden === true;
        if (request.hidden === true) index.hidden = true;
        else delete index.hidden;
        indexDescription.hidden = request.hidden === true;
      }
      if (request.expireAfterSeconds !== undefined) {
        if (index.expireAfterSeconds === undefined)
          throw new CommandError(ErrorCodes.InvalidOptions, 'no expireAfterSeconds field to update');
        reply.expireAfterSeconds_old = index.expireAfterSeconds;
        reply.expireAfterSeconds_new = request.expireAfterSeconds;
        indexBefore.expireAfterSeconds = index.expireAfterSeconds;
        index.expireAfterSeconds = request.expireAfterSeconds;
        indexDescription.expireAfterSeconds = request.expireAfterSeconds;
      }
      if (request.prepareUnique !== undefined) {
        reply.prepareUnique_old = index.prepareUnique === true;
        reply.prepareUnique_new = request.prepareUnique === true;
        indexBefore.prepareUnique = index.prepareUnique === true;
        if (request.prepareUnique === true && index.unique !== true) index.prepareUnique = true;
        else delete index.prepareUnique;
        indexDescription.prepareUnique = request.prepareUnique === true;
      }
      if (request.unique !== undefined) {
        if (request.unique !== true)
          throw new CommandError(ErrorCodes.BadValue, "The field 'unique' can only be set to true");
        if (index.unique !== true) {
          if (index.prepareUnique !== true) {
            throw new CommandError(
              ErrorCodes.InvalidOptions,
              "Cannot make index unique with 'prepareUnique' set to false. Run collMod with 'prepareUnique: true' first.",
            );
          }
          const duplicates = collection.findDuplicateKeys({ ...index, unique: true });
          if (duplicates.length > 0) {
            throw new CommandError(
              ErrorCodes.CannotConvertIndexToUnique,
              'Cannot convert the index to unique. Please resolve conflicting documents before running collMod again.',
              {
                extra: { violations: duplicates.map((duplicate) => ({ ids: duplicate.ids })) },
              },
            );
          }
          reply.unique_new = true;
          indexBefore.unique = false;
          index.unique = true;
          delete index.prepareUnique;
          indexDescription.unique = true;
        }
      }
      collection.rebuildUniqueState();
      description.index = indexDescription;
      stateBefore.indexOptions = indexBefore;
      undo.push(() => {
        Object.keys(index).forEach((field) => delete index[field]);
        Object.assign(index, previous);
        collection.rebuildUniqueState();
      });
      continue;
    }
    if (
      [
        'validator',
        'validationLevel',
        'validationAction',
        'changeStreamPreAndPostImages',
        'expireAfterSeconds',
        'cappedSize',
        'cappedMax',
        'timeseries',
      ].includes(key)
    ) {
      const optionKey = key === 'cappedSize' ? 'size' : key === 'cappedMax' ? 'max' : key;
      const previous = collection.options[optionKey];
      stateBefore.collectionOptions = {
        ...(stateBefore.collectionOptions as Document),
        [optionKey]: previous,
      };
      collection.options = { ...collection.options, [optionKey]: value };
      description[key] = value;
      undo.push(() => (collection.options = { ...collection.options, [optionKey]: previous }));
      continue;
    }
    throw new CommandError(40415, `BSON field 'collMod.${key}' is an unknown field.`, {
      codeName: 'Location40415',
    });
  }
  engine.recordWrite(
    ctx,
    {
      op: 'modify',
      db: dbName,
      coll: name,
      uuid: collection.uuid,
      operationDescription: description,
      stateBeforeChange: stateBefore,
      size: 128,
    },
    () => undo.reverse().forEach((step) => step()),
  );
  reply.ok = 1;
  return reply;
}

function listDatabases(ctx: CommandContext): Document {
  const { engine, command } = ctx;
  const filter = command.filter ? compileFilter(command.filter as Document) : undefined;
  const all = [...engine.catalog.databases.values()];
  const visible = engine.auth.visibleDatabases(
    ctx.conn,
    all.map((db) => db.name),
  );
  const databases: Document[] = [];
  let totalSize = 0;
  for (const db of all) {
    if (visible && !visible.includes(db.name)) continue;
    let size = 0;
    for (const collection of db.collections.values()) size += collection.sizeBytes;
    const entry: Document = {
      name: db.name,
      sizeOnDisk: Long.fromNumber(Math.max(size, 4096)),
      empty: db.collections.size === 0 && db.views.size === 0,
    };
    if (filter && !filter(entry)) continue;
    totalSize += size;
    databases.push(command.nameOnly === true ? { name: db.name } : entry);
  }
  const reply: Document = { databases };
  if (command.nameOnly !== true) {
    reply.totalSize = Long.fromNumber(totalSize);
    reply.totalSizeMb = Long.fromNumber(Math.floor(totalSize / 1048576));
  }
  reply.ok = 1;
  return reply;
}

function collectionEntry(collection: Collection): Document {
  const entry: Document = {
    name: collection.name,
    type: collection.options.timeseries ? 'timeseries' : 'collection',
    options: { ...collection.options },
    info: { readOnly: false, uuid: collection.uuid },
  };
  if (!collection.options.clusteredIndex) entry.idIndex = { v: 2, key: { _id: 1 }, name: '_id_' };
  return entry;
}

function listCollections(ctx: CommandContext): Promise<Document> | Document {
  const { command, dbName, engine } = ctx;
  const database = engine.catalog.database(dbName);
  const filter = command.filter ? compileFilter(command.filter as Document) : undefined;
  const entries: Document[] = [];
  if (database) {
    for (const collection of database.collections.values())
      if (!hiddenFromReader(collection, ctx.transaction)) entries.push(collectionEntry(collection));
    for (const view of database.views.values())
      entries.push({ name: view.name, type: 'view', options: { ...view.options }, info: { readOnly: true } });
  }
  const selected = entries
    .filter((entry) => !filter || filter(entry))
    .map((entry) => (command.nameOnly === true ? { name: entry.name, type: entry.type } : entry));
  return cursorFor(ctx, `${dbName}.$cmd.listCollections`, selected);
}

async function cursorFor(ctx: CommandContext, ns: string, docs: Document[]): Promise<Document> {
  const batchSize = toNumber((ctx.command.cursor as Document | undefined)?.batchSize);
  const source = new ArrayCursorSource(docs);
  const first = await source.next(batchSize);
  const id = first.exhausted ? Long.fromNumber(0) : ctx.engine.registerCursor(ns, source, ctx.session, false);
  return { cursor: { id, ns, firstBatch: new RawBatch(first.docs) }, ok: 1 };
}

function listIndexes(ctx: CommandContext): Promise<Document> {
  const { dbName, engine } = ctx;
  const name = collectionNameOf(ctx);
  if (engine.catalog.view(dbName, name))
    throw new CommandError(
      ErrorCodes.CommandNotSupportedOnView,
      `Namespace ${dbName}.${name} is a view, not a collection`,
    );
  const collection = engine.catalog.collection(dbName, name);
  if (!collection || hiddenFromReader(collection, ctx.transaction))
    throw new CommandError(ErrorCodes.NamespaceNotFound, `ns does not exist: ${dbName}.${name}`);
  return cursorFor(
    ctx,
    `${dbName}.${name}`,
    collection.indexes
      .filter((index) => !hiddenFromReader(index, ctx.transaction))
      .map((index) => ({ ...index })),
  );
}

function collStats(ctx: CommandContext): Document {
  const { dbName, engine } = ctx;
  const name = collectionNameOf(ctx);
  const oplogStats = oplogCollStats(ctx, dbName, name);
  if (oplogStats) return toInt32Counts(oplogStats);
  const collection = engine.catalog.collection(dbName, name);
  if (!collection)
    throw new CommandError(ErrorCodes.NamespaceNotFound, `Collection [${dbName}.${name}] not found.`);
  const scale = toNumber(ctx.command.scale) ?? 1;
  const stats = collectionStats(collection);
  for (const key of ['size', 'storageSize', 'totalIndexSize', 'totalSize'])
    stats[key] = Math.floor(stats[key] / scale);
  return { ...toInt32Counts(stats), ok: 1 };
}

function dbStats(ctx: CommandContext): Document {
  const database = ctx.engine.catalog.database(ctx.dbName);
  let objects = 0;
  let dataSize = 0;
  let indexes = 0;
  let indexSize = 0;
  for (const collection of database?.collections.values() ?? []) {
    const stats = collectionStats(collection);
    objects += collection.count;
    dataSize += collection.sizeBytes;
    indexes += collection.indexes.length;
    indexSize += stats.totalIndexSize as number;
  }
  return {
    db: ctx.dbName,
    collections: new Int32(database?.collections.size ?? 0),
    views: new Int32(database?.views.size ?? 0),
    objects: Long.fromNumber(objects),
    avgObjSize: objects > 0 ? dataSize / objects : 0,
    dataSize,
    storageSize: dataSize,
    indexes: Long.fromNumber(indexes),
    indexSize,
    totalSize: dataSize + indexSize,
    scaleFactor: Long.fromNumber(1),
    ...filesystemStats(ctx),
    ok: 1,
  };
}

/** The data volume as dbStats reports it: only known with the emulator's test hook (else 0, 0). */
function filesystemStats(ctx: CommandContext): { fsUsedSize: number; fsTotalSize: number } {
  const total = ctx.engine.options.testFilesystemSizeBytes;
  if (total === undefined) return { fsUsedSize: 0, fsTotalSize: 0 };
  let used = 0;
  for (const database of ctx.engine.catalog.databases.values()) {
    for (const collection of database.collections.values())
      used += collection.sizeBytes + (collectionStats(collection).totalIndexSize as number);
  }
  return { fsUsedSize: Math.min(used, total), fsTotalSize: total };
}

/** The warning `validate` gives for a unique index whose keys are in the pre-4.2 format. */
export function legacyUniqueIndexWarning(indexName: string): string {
  return `Unique index ${indexName} has one or more keys in the old (MongoDB 4.2 or earlier) unique index format. Resync this node to rebuild the index in the current format.`;
}

function validate(ctx: CommandContext): Document {
  const { dbName, engine } = ctx;
  const name = collectionNameOf(ctx);
  if (engine.catalog.view(dbName, name))
    throw new CommandError(ErrorCodes.CommandNotSupportedOnView, 'Cannot validate a view');
  const collection = engine.catalog.collection(dbName, name);
  if (!collection)
    throw new CommandError(
      ErrorCodes.NamespaceNotFound,
      `Collection '${dbName}.${name}' does not exist to validate.`,
    );
  const warnings: string[] = [];
  const keysPerIndex: Document = {};
  const indexDetails: Document = {};
  const validator = collection.options.validator
    ? compileFilter(collection.options.validator as Document)
    : undefined;
  let nInvalidDocuments = 0;
  if (validator)
    for (const stored of collection.naturalOrder())
      if (!validator(deserializeExact(stored.raw))) nInvalidDocuments++;
  for (const index of collection.indexes) {
    keysPerIndex[index.name] = collection.count;
    const indexWarnings: string[] = [];
    if (index.unique === true && collection.legacyFormatUniqueIndexes.has(index.name)) {
      const warning = legacyUniqueIndexWarning(index.name);
      indexWarnings.push(warning);
      warnings.push(warning);
    }
    indexDetails[index.name] = { valid: true, warnings: indexWarnings };
  }
  return {
    ns: collection.ns,
    uuid: collection.uuid,
    nInvalidDocuments: new Int32(nInvalidDocuments),
    nNonCompliantDocuments: new Int32(nInvalidDocuments),
    nrecords: new Int32(collection.count),
    nIndexes: new Int32(collection.indexes.length),
    keysPerIndex,
    indexDetails,
    valid: true,
    repaired: false,
    warnings,
    errors: [],
    extraIndexEntries: [],
    missingIndexEntries: [],
    corruptRecords: [],
    ok: 1,
  };
}

/**
 * EMULATOR-ONLY TEST HOOK (no such command exists in MongoDB): marks a unique index as holding
 * keys in the legacy (≤ 4.2) format, so `validate` reports it as mongod does for upgraded nodes.
 * `{emulatorMarkLegacyUniqueIndex: "<coll>", index: "<name>", legacy: true|false}`.
 */
function emulatorMarkLegacyUniqueIndex(ctx: CommandContext): Document {
  const name = collectionNameOf(ctx);
  const collection = ctx.engine.catalog.collection(ctx.dbName, name);
  if (!collection)
    throw new CommandError(ErrorCodes.NamespaceNotFound, `ns does not exist: ${ctx.dbName}.${name}`);
  const index = typeof ctx.command.index === 'string' ? collection.findIndex(ctx.command.index) : undefined;
  if (!index || index.unique !== true)
    throw new CommandError(ErrorCodes.IndexNotFound, `no unique index named ${String(ctx.command.index)}`);
  if (ctx.command.legacy === false) collection.legacyFormatUniqueIndexes.delete(index.name);
  else collection.legacyFormatUniqueIndexes.add(index.name);
  return { ok: 1 };
}

export const catalogCommands: CommandTable = {
  create,
  drop,
  dropDatabase,
  renameCollection,
  createIndexes,
  dropIndexes,
  deleteIndexes: dropIndexes,
  collMod,
  listDatabases,
  listCollections,
  listIndexes,
  collStats,
  dbStats,
  validate,
  emulatorMarkLegacyUniqueIndex,
};
