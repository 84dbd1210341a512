// Short, mongod-like renderings of values for error messages (e.g. `{_id: 1}`, `"abc"`, `[ 1, 2 ]`).
import type { BSONRegExp, Decimal128, Long, ObjectId, Timestamp } from 'bson';
import { bsonTypeName, isPlainDocument, toNumber } from './compare';

export function describeValue(value: unknown, depth = 0): string {
  if (depth > 4) return '...';
  if (Array.isArray(value)) {
    return value.length === 0 ? '[]' : `[ ${value.map((v) => describeValue(v, depth + 1)).join(', ')} ]`;
  }
  if (isPlainDocument(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return '{}';
    return `{ ${keys.map((key) => `${key}: ${describeValue(value[key], depth + 1)}`).join(', ')} }`;
  }
  switch (bsonTypeName(value)) {
    case 'string':
      return JSON.stringify(value);
    case 'int':
      return String(toNumber(value));
    case 'double': {
      const n = toNumber(value) as number;
      return Number.isInteger(n) ? n.toFixed(1) : String(n);
    }
    case 'long':
      return (value as Long).toString();
    case 'decimal':
      return `NumberDecimal("${(value as Decimal128).toString()}")`;
    case 'objectId':
      return `ObjectId('${(value as ObjectId).toHexString()}')`;
    case 'date':
      return `new Date(${(value as Date).getTime()})`;
    case 'timestamp':
      return `Timestamp(${(value as Timestamp).t}, ${(value as Timestamp).i})`;
    case 'regex':
      return `/${(value as BSONRegExp).pattern}/${(value as BSONRegExp).options}`;
    case 'undefined':
      return 'undefined';
    default:
      return String(value);
  }
}
