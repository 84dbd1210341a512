// The emulator at the wire level under malformed input: frames of wrong lengths, unknown opcodes
// and flags, truncated or invalid BSON, bytes flipped in a valid message, and a huge batch. Each
// is answered with a well-formed reply or its connection is closed; the server keeps serving a
// client connected all along, and the connections the fuzz opened are all closed at the end.
import { connect } from 'node:net';
import fc from 'fast-check';
import { BSON } from 'bson';
import { MongoClient } from 'mongodb';
import { startEmulator, type RunningEmulator } from '../../emulator';

jest.setTimeout(300_000);

const OP_MSG = 2013;

function opMsg(body: Buffer, { flags = 0, opCode = OP_MSG, requestId = 7 } = {}): Buffer {
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + body.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(opCode, 12);
  header.writeUInt32LE(flags, 16);
  header.writeUInt8(0, 20); // section kind 0: the body
  return Buffer.concat([header, body]);
}

const ping = opMsg(Buffer.from(BSON.serialize({ ping: 1, $db: 'admin' })));

/** What the server did with a frame sent on a fresh connection (our side ends after writing it). */
function exchange(emulator: RunningEmulator, frame: Buffer): Promise<{ reply: Buffer; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(emulator.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`neither an answer nor a close for ${frame.subarray(0, 32).toString('hex')}`));
    }, 10_000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const reply = Buffer.concat(chunks);
      // One whole reply is enough: the connection may stay open for more.
      if (reply.length >= 4 && reply.length >= reply.readInt32LE(0)) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ reply, closed: false });
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ reply: Buffer.concat(chunks), closed: true });
    });
    socket.on('error', () => undefined);
    socket.on('connect', () => socket.end(frame));
  });
}

/** A reply the server wrote is one well-formed OP_MSG (or OP_REPLY) with a BSON body. */
function expectWellFormed(reply: Buffer): void {
  if (reply.length === 0) return;
  expect(reply.readInt32LE(0)).toBe(reply.length);
  const opCode = reply.readInt32LE(12);
  expect([1, OP_MSG]).toContain(opCode);
  const body = opCode === OP_MSG ? reply.subarray(21) : reply.subarray(36);
  expect(() => BSON.deserialize(body)).not.toThrow();
}

describe('the emulator under malformed wire input', () => {
  let emulator: RunningEmulator;
  let client: MongoClient;

  beforeAll(async () => {
    emulator = await startEmulator({ replSet: 'rsWire' });
    client = await MongoClient.connect(emulator.uri);
  });
  afterAll(async () => {
    await client?.close();
    await emulator?.stop();
  });

  const stillServing = async () =>
    expect(await client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });

  test.each([
    ['a length below the header', Buffer.from([8, 0, 0, 0, 1, 2, 3, 4])],
    ['a negative length', Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0xdd, 7, 0, 0])],
    [
      'a length over 48 MB',
      (() => {
        const b = Buffer.from(ping);
        b.writeInt32LE(0x7ffffff0, 0);
        return b;
      })(),
    ],
    ['a frame cut short', ping.subarray(0, ping.length - 5)],
    ['an unknown opcode', opMsg(Buffer.from(BSON.serialize({ ping: 1, $db: 'admin' })), { opCode: 9999 })],
    ['an OP_COMPRESSED of an unknown compressor', opMsg(Buffer.from([1, 2, 3, 4, 5]), { opCode: 2012 })],
    [
      'unknown required flag bits',
      opMsg(Buffer.from(BSON.serialize({ ping: 1, $db: 'admin' })), { flags: 0x4 }),
    ],
    [
      'a section of kind 7',
      (() => {
        const b = Buffer.from(ping);
        b.writeUInt8(7, 20);
        return b;
      })(),
    ],
    [
      'a BSON length past the frame',
      (() => {
        const b = Buffer.from(ping);
        b.writeInt32LE(5000, 21);
        return b;
      })(),
    ],
    [
      'an unknown BSON element type',
      (() => {
        const b = Buffer.from(ping);
        b.writeUInt8(0x77, 25);
        return b;
      })(),
    ],
    [
      'a BSON string without its terminator',
      opMsg(Buffer.from([17, 0, 0, 0, 2, 0x78, 0, 5, 0, 0, 0, 0x61, 0x62, 0x63, 0x64, 0x65, 0])),
    ],
    ['a body that is no document', opMsg(Buffer.from('not bson at all, not even close'))],
    ['a command without $db', opMsg(Buffer.from(BSON.serialize({ ping: 1 })))],
    ['an unknown command', opMsg(Buffer.from(BSON.serialize({ frobnicate: 1, $db: 'admin' })))],
    ['a command of a wrong type', opMsg(Buffer.from(BSON.serialize({ find: 42, filter: 'x', $db: 'test' })))],
    [
      'nesting 5,000 deep',
      opMsg(
        Buffer.from(
          BSON.serialize({ insert: 'deep', documents: [nested(5_000)], $db: 'test' }, { checkKeys: false }),
        ),
      ),
    ],
  ])('%s: answered or closed, and the server serves on', async (_name, frame) => {
    const { reply } = await exchange(emulator, frame);
    expectWellFormed(reply);
    await stillServing();
  });

  test('a huge insert batch is answered in the contract, not by a crash', async () => {
    // As drivers send big batches: a document sequence (section kind 1) after the body.
    const documents = Array.from({ length: 100_000 }, (_, n) =>
      Buffer.from(BSON.serialize({ _id: n, pad: 'p'.repeat(300) })),
    );
    const identifier = Buffer.from('documents\0');
    const sequence = Buffer.concat(documents);
    const sectionSize = Buffer.alloc(4);
    sectionSize.writeInt32LE(4 + identifier.length + sequence.length, 0);
    const frame = Buffer.concat([
      opMsg(Buffer.from(BSON.serialize({ insert: 'huge', $db: 'wire' }))),
      Buffer.from([1]),
      sectionSize,
      identifier,
      sequence,
    ]);
    frame.writeInt32LE(frame.length, 0);
    expect(frame.length).toBeGreaterThan(16 * 1024 * 1024);
    const { reply } = await exchange(emulator, frame);
    expectWellFormed(reply);
    expect(BSON.deserialize(reply.subarray(21))).toMatchObject({ ok: 1, n: 100_000 });
    await stillServing();
  });

  test('2,000 frames: random bytes and valid messages with bytes flipped, cut or lengthened', async () => {
    const valid = [
      ping,
      opMsg(Buffer.from(BSON.serialize({ insert: 'f', documents: [{ a: 1, b: 'x' }], $db: 'wire' }))),
      opMsg(Buffer.from(BSON.serialize({ find: 'f', filter: { a: { $gt: 0 } }, $db: 'wire' }))),
      opMsg(
        Buffer.from(
          BSON.serialize({ aggregate: 1, pipeline: [{ $changeStream: {} }], cursor: {}, $db: 'admin' }),
        ),
      ),
    ];
    const mutated = fc
      .record({
        base: fc.constantFrom(...valid),
        flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
          maxLength: 6,
        }),
        cut: fc.option(fc.nat(), { nil: undefined }),
      })
      .map(({ base, flips, cut }) => {
        const frame = Buffer.from(base);
        // The length stays as it was, so the frame still reaches the parser whole.
        for (const { at, value } of flips) frame[4 + (at % (frame.length - 4))] = value;
        return cut === undefined ? frame : frame.subarray(0, 16 + (cut % Math.max(1, frame.length - 16)));
      });
    const random = fc.uint8Array({ minLength: 16, maxLength: 400 }).map((bytes) => {
      const frame = Buffer.from(bytes);
      frame.writeInt32LE(frame.length, 0);
      return frame;
    });
    let frames = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated, random), async (frame) => {
        frames += 1;
        const { reply } = await exchange(emulator, frame);
        expectWellFormed(reply);
      }),
      { numRuns: 2000 },
    );
    expect(frames).toBe(2000);
    await stillServing();
    // Every connection the fuzz opened is gone: only the test's client remains.
    const status = await client.db('admin').command({ serverStatus: 1 });
    expect(status.connections.current).toBeLessThanOrEqual(5);
  });
});

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let n = 0; n < depth; n++) value = { v: value };
  return value;
}
