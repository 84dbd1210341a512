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

export function encodeReply(request: IncomingMessage, reply: Document): Buffer {
  const body = encodeDocument(reply);
  const responseId = nextResponseId++ & 0x7fffffff;
  if (request.opCode === OP_QUERY) {
    const header = Buffer.alloc(36);
    header.writeInt32LE(36 + body.length, 0);
    header.writeInt32LE(responseId, 4);
    header.writeInt32LE(request.requestId, 8);
    header.writeInt32LE(OP_REPLY, 12);
    header.writeInt32LE(0, 16); // responseFlags
    header.writeBigInt64LE(0n, 20); // cursorID
    header.writeInt32LE(0, 28); // startingFrom
    header.writeInt32LE(1, 32); // numberReturned
    return Buffer.concat([header, body]);
  }
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + body.length, 0);
  header.writeInt32LE(responseId, 4);
  header.writeInt32LE(request.requestId, 8);
  header.writeInt32LE(OP_MSG, 12);
  header.writeUInt32LE(0, 16);
  header[20] = 0; // kind 0 section
  return Buffer.concat([header, body]);
}

/** Serialize a document whose values may include RawBatch arrays (at any depth of plain objects). */
export function encodeDocument(doc: Document): Buffer {
  if (!containsRawBatch(doc)) return Buffer.from(BSON.serialize(doc, { checkKeys: false }));
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(doc)) {
    if (value === undefined) continue;
    if (value instanceof RawBatch) {
      parts.push(elementHeader(0x04, name), encodeArray(value.docs));
    } else if (isPlainObject(value) && containsRawBatch(value)) {
      parts.push(elementHeader(0x03, name), encodeDocument(value));
    } else {
      const single = BSON.serialize({ [name]: value }, { checkKeys: false });
      parts.push(Buffer.from(single.buffer, single.byteOffset + 4, single.length - 5));
    }
  }
  return wrapDocument(parts);
}

function encodeArray(docs: Array<Buffer | Document>): Buffer {
  const parts: Buffer[] = [];
  docs.forEach((doc, index) => {
    parts.push(elementHeader(0x03, String(index)));
    parts.push(Buffer.isBuffer(doc) ? doc : Buffer.from(BSON.serialize(doc, { checkKeys: false })));
  });
  return wrapDocument(parts);
}

function wrapDocument(parts: Buffer[]): Buffer {
  const length = 4 + parts.reduce((sum, part) => sum + part.length, 0) + 1;
  const head = Buffer.alloc(4);
  head.writeInt32LE(length, 0);
  return Buffer.concat([head, ...parts, Buffer.from([0])], length);
}

function elementHeader(type: number, name: string): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const header = Buffer.alloc(nameBytes.length + 2);
  header[0] = type;
  nameBytes.copy(header, 1);
  header[header.length - 1] = 0;
  return header;
}

function isPlainObject(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function containsRawBatch(doc: Document): boolean {
  for (const value of Object.values(doc)) {
    if (value instanceof RawBatch) return true;
    if (isPlainObject(value) && containsRawBatch(value)) return true;
  }
  return false;
}
