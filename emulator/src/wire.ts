// MongoDB wire protocol framing: OP_QUERY (the driver's first handshake) answered with OP_REPLY,
// OP_MSG both ways. Reply batches of stored documents are spliced in as raw BSON, without a
// deserialize/serialize round trip.
import { BSON, type Document } from 'bson';
import { exactDeserializeOptions, withReceivedBytes } from './bson';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;
export const OP_COMPRESSED = 2012;

const CHECKSUM_PRESENT = 1;
export const MORE_TO_COME = 2;

export interface IncomingMessage {
  requestId: number;
  opCode: number;
  /** The command document, kind-1 sections merged in as arrays. */
  command: Document;
  /** OP_MSG flag bits (0 for OP_QUERY). */
  flags: number;
}

/** A batch of documents for a cursor reply; Buffers are raw BSON documents sent as they are. */
export class RawBatch {
  constructor(readonly docs: Array<Buffer | Document>) {}
}

/** A document value that is already BSON (a stored document): written as is, never re-encoded. */
export class RawDocument {
  constructor(readonly bytes: Buffer) {}
}

export function parseMessage(buffer: Buffer): IncomingMessage {
  const requestId = buffer.readInt32LE(4);
  const opCode = buffer.readInt32LE(12);
  if (opCode === OP_MSG) {
    const flags = buffer.readUInt32LE(16);
    const end = flags & CHECKSUM_PRESENT ? buffer.length - 4 : buffer.length;
    let offset = 20;
    let command: Document | undefined;
    const sequences: Array<[string, Document[]]> = [];
    while (offset < end) {
      const kind = buffer[offset++];
      if (kind === 0) {
        const size = buffer.readInt32LE(offset);
        command = BSON.deserialize(buffer.subarray(offset, offset + size), exactDeserializeOptions);
        offset += size;
      } else if (kind === 1) {
        const size = buffer.readInt32LE(offset);
        const sectionEnd = offset + size;
        let cursor = offset + 4;
        const nameEnd = buffer.indexOf(0, cursor);
        const identifier = buffer.toString('utf8', cursor, nameEnd);
        cursor = nameEnd + 1;
        const docs: Document[] = [];
        while (cursor < sectionEnd) {
          const docSize = buffer.readInt32LE(cursor);
          const bytes = buffer.subarray(cursor, cursor + docSize);
          docs.push(withReceivedBytes(BSON.deserialize(bytes, exactDeserializeOptions), bytes));
          cursor += docSize;
        }
        sequences.push([identifier, docs]);
        offset = sectionEnd;
      } else {
        throw new Error(`unsupported OP_MSG section kind ${kind}`);
      }
    }
    if (!command) throw new Error('OP_MSG without a body section');
    for (const [identifier, docs] of sequences) command[identifier] = docs;
    return { requestId, opCode, command, flags };
  }
  if (opCode === OP_QUERY) {
    let offset = 20;
    const nameEnd = buffer.indexOf(0, offset);
    const fullCollectionName = buffer.toString('utf8', offset, nameEnd);
    offset = nameEnd + 1 + 8; // skip numberToSkip, numberToReturn
    const size = buffer.readInt32LE(offset);
    let query = BSON.deserialize(buffer.subarray(offset, offset + size), exactDeserializeOptions);
    if (query.$query && typeof query.$query === 'object') query = query.$query as Document;
    const db = fullCollectionName.split('.')[0];
    return { requestId, opCode, command: { ...query, $db: query.$db ?? db }, flags: 0 };
  }
  throw new Error(`unsupported opCode ${opCode}`);
}

let nextResponseId = 1;

/**
 * A reply as the buffers to write in order (header first): large batches are sent from the stored
 * documents' own bytes, never copied into one buffer.
 */
export function encodeReply(request: IncomingMessage, reply: Document): Buffer[] {
  const pieces: Buffer[] = [];
  const bodyLength = encodeDocumentInto(reply, pieces);
  const body = coalesced(pieces);
  const responseId = nextResponseId++ & 0x7fffffff;
  if (request.opCode === OP_QUERY) {
    const header = Buffer.alloc(36);
    header.writeInt32LE(36 + bodyLength, 0);
    header.writeInt32LE(responseId, 4);
    header.writeInt32LE(request.requestId, 8);
    header.writeInt32LE(OP_REPLY, 12);
    header.writeInt32LE(0, 16); // responseFlags
    header.writeBigInt64LE(0n, 20); // cursorID
    header.writeInt32LE(0, 28); // startingFrom
    header.writeInt32LE(1, 32); // numberReturned
    return [header, ...body];
  }
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + bodyLength, 0);
  header.writeInt32LE(responseId, 4);
  header.writeInt32LE(request.requestId, 8);
  header.writeInt32LE(OP_MSG, 12);
  header.writeUInt32LE(0, 16);
  header[20] = 0; // kind 0 section
  return [header, ...body];
}

/** Serialize a document whose values may include RawBatch arrays or RawDocuments (at any depth of plain objects). */
export function encodeDocument(doc: Document): Buffer {
  const parts: Buffer[] = [];
  const length = encodeDocumentInto(doc, parts);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, length);
}

/** Appends the document's bytes to `out` as pieces; returns their total length. */
function encodeDocumentInto(doc: Document, out: Buffer[]): number {
  if (!containsRaw(doc)) {
    const bytes = BSON.serialize(doc, { checkKeys: false });
    out.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
    return bytes.length;
  }
  const head = Buffer.alloc(4);
  out.push(head);
  let length = 4;
  // Plain fields between raw ones are serialized together, as one document's elements.
  let plain: Document | undefined;
  const flushPlain = () => {
    if (plain === undefined) return;
    const bytes = BSON.serialize(plain, { checkKeys: false });
    length += pushed(out, Buffer.from(bytes.buffer, bytes.byteOffset + 4, bytes.length - 5));
    plain = undefined;
  };
  for (const [name, value] of Object.entries(doc)) {
    if (value === undefined) continue;
    if (value instanceof RawBatch) {
      flushPlain();
      length += pushed(out, elementHeader(0x04, name)) + encodeArrayInto(value.docs, out);
    } else if (value instanceof RawDocument) {
      flushPlain();
      length += pushed(out, elementHeader(0x03, name)) + pushed(out, value.bytes);
    } else if (isPlainObject(value) && containsRaw(value)) {
      flushPlain();
      length += pushed(out, elementHeader(0x03, name)) + encodeDocumentInto(value, out);
    } else {
      (plain ??= {})[name] = value;
    }
  }
  flushPlain();
  length += pushed(out, TERMINATOR);
  head.writeInt32LE(length, 0);
  return length;
}

function encodeArrayInto(docs: Array<Buffer | Document>, out: Buffer[]): number {
  const head = Buffer.alloc(4);
  out.push(head);
  let length = 4;
  docs.forEach((doc, index) => {
    length += pushed(out, elementHeader(0x03, String(index)));
    if (Buffer.isBuffer(doc)) length += pushed(out, doc);
    else length += encodeDocumentInto(doc, out);
  });
  length += pushed(out, TERMINATOR);
  head.writeInt32LE(length, 0);
  return length;
}

const TERMINATOR = Buffer.from([0]);
/** Pieces smaller than this are copied together; larger ones are written from their own memory. */
const SMALL_PIECE_BYTES = 16 * 1024;
const CHUNK_BYTES = 1024 * 1024;

/** Runs of small pieces joined into chunks: a batch of many small documents is a few writes, not thousands. */
function coalesced(pieces: Buffer[]): Buffer[] {
  if (pieces.length <= 16) return pieces;
  const result: Buffer[] = [];
  let run: Buffer[] = [];
  let runBytes = 0;
  const flush = () => {
    if (run.length === 1) result.push(run[0]);
    else if (run.length > 1) result.push(Buffer.concat(run, runBytes));
    run = [];
    runBytes = 0;
  };
  for (const piece of pieces) {
    if (piece.length >= SMALL_PIECE_BYTES) {
      flush();
      result.push(piece);
      continue;
    }
    run.push(piece);
    runBytes += piece.length;
    if (runBytes >= CHUNK_BYTES) flush();
  }
  flush();
  return result;
}

function pushed(out: Buffer[], part: Buffer): number {
  out.push(part);
  return part.length;
}

function elementHeader(type: number, name: string): Buffer {
  const nameLength = Buffer.byteLength(name, 'utf8');
  const header = Buffer.allocUnsafe(nameLength + 2);
  header[0] = type;
  header.write(name, 1, 'utf8');
  header[header.length - 1] = 0;
  return header;
}

function isPlainObject(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function containsRaw(doc: Document): boolean {
  for (const value of Object.values(doc)) {
    if (value instanceof RawBatch || value instanceof RawDocument) return true;
    if (isPlainObject(value) && containsRaw(value)) return true;
  }
  return false;
}
