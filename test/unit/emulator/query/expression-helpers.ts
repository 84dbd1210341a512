// Shared by the expression tests (one file per expr-*.ts module): evaluation through BSON and a
// document with fields of every type the operators meet.
import { Decimal128, Double, Int32, Long, ObjectId, type Document } from 'bson';
import { deserializeExact, serialize } from '../../../../emulator/src/bson';
import { evaluateExpression } from '../../../../emulator/src/query/expression';

/** Evaluates and round-trips the result through BSON, so types are what the wire would carry. */
export function evaluate(expr: unknown, doc: Document = {}, variables?: Document): unknown {
  const value = evaluateExpression(expr, doc, variables);
  return deserializeExact(serialize({ v: value })).v;
}

export function typeOf(value: unknown): string {
  return (value as { _bsontype?: string })?._bsontype ?? typeof value;
}

export function errorCode(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: number }).code;
  }
  return undefined;
}

export const doc = {
  _id: new ObjectId('64b7f0000000000000000001'),
  i: new Int32(7),
  j: new Int32(2),
  big: new Int32(2147483647),
  l: Long.fromNumber(10),
  d: new Double(1.5),
  dec: Decimal128.fromString('0.1'),
  s: 'Hello World',
  a: [new Int32(1), new Int32(2), new Int32(3)],
  o: { x: new Int32(1), y: { z: 'deep' } },
  arr: [{ b: new Int32(1) }, { b: new Int32(2) }, { c: new Int32(3) }, [{ b: new Int32(4) }]],
  date: new Date('2024-03-05T06:07:08.009Z'),
  n: null,
};
