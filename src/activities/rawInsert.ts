// Inserts documents as the BSON bytes they were read as, without decoding and re-encoding them.
//
// The copy reads each document raw and writes it unchanged, as mongorestore and mongosync do.
// The Node driver has no public API for that: its `insert` builds an OP_MSG document sequence
// (payload type 1) from pre-serialized bytes, through a class it does not export. We use that
// class when it is there and behaves as expected, and decode and `insertMany` otherwise, so a
// driver upgrade that moves it makes the copy slower, never wrong. Both paths have tests.
import { MongoBulkWriteError, type Db, type Document, type WriteConcern } from 'mongodb';
import { EXACT_TYPES } from './bsonOptions';
import { decodeDocument } from './rawDocuments';
import { ServerWriteError, writeErrorsOf, writeErrorsOfReply } from './serverErrors';

interface DocumentSequence {
  push(document: Document, bytes: Uint8Array): number;
}
type DocumentSequenceClass = new (field: string) => DocumentSequence;

function loadDocumentSequence(): DocumentSequenceClass | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const commands = require('mongodb/lib/cmap/commands') as { DocumentSequence?: unknown };
    const candidate = commands.DocumentSequence;
    const prototype = (candidate as { prototype?: Record<string, unknown> } | undefined)?.prototype;
    if (
      typeof candidate === 'function' &&
      typeof prototype?.push === 'function' &&
      typeof prototype?.toBin === 'function'
    ) {
      return candidate as unknown as DocumentSequenceClass;
    }
  } catch {
    // Not in this driver version: the decoding path serves.
  }
  return null;
}

const DOCUMENT_SEQUENCE = loadDocumentSequence();

/** Whether documents are sent as read (false: decoded and re-encoded by `insertMany`). */
export const insertsRawBytes = DOCUMENT_SEQUENCE !== null;

/** The command form of a collection's write concern (the `insert` command does not inherit it). */
function writeConcernCommandField(writeConcern: WriteConcern | undefined): Document | undefined {
  if (!writeConcern) return undefined;
  const field: Document = {};
  if (writeConcern.w !== undefined) field.w = writeConcern.w;
  if (writeConcern.journal !== undefined) field.j = writeConcern.journal;
  if (writeConcern.wtimeoutMS !== undefined) field.wtimeout = writeConcern.wtimeoutMS;
  return Object.keys(field).length > 0 ? field : undefined;
}

/**
 * Inserts the documents unordered, bypassing document validation. Returns the write errors (each
 * with the index of its document); any other failure, a write concern error included, throws.
 */
export async function insertRawDocuments(
  db: Db,
  collectionName: string,
  documents: readonly Uint8Array[],
  options: { decode?: boolean } = {},
): Promise<ServerWriteError[]> {
  if (documents.length === 0) return [];
  const collection = db.collection(collectionName);
  if (DOCUMENT_SEQUENCE === null || options.decode) {
    try {
      await collection.insertMany(documents.map(decodeDocument), {
        ordered: false,
        bypassDocumentValidation: true,
      });
      return [];
    } catch (error) {
      if (error instanceof MongoBulkWriteError && !error.writeConcernError && writeErrorsOf(error).length > 0)
        return writeErrorsOf(error);
      throw error;
    }
  }
  const sequence = new DOCUMENT_SEQUENCE('documents');
  for (const bytes of documents) sequence.push({}, bytes);
  const command: Document = {
    insert: collection.collectionName,
    documents: sequence,
    ordered: false,
    bypassDocumentValidation: true,
  };
  const writeConcern = writeConcernCommandField(collection.writeConcern);
  if (writeConcern) command.writeConcern = writeConcern;
  const reply = await db.command(command, EXACT_TYPES);
  if (reply.writeConcernError) {
    const { code, errmsg } = reply.writeConcernError as { code?: unknown; errmsg?: string };
    throw new Error(
      `write concern error inserting into ${collection.namespace} (code ${String(code)}): ${errmsg}`,
    );
  }
  return writeErrorsOfReply(reply);
}
