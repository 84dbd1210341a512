// Renders a command the way mongod quotes it in "not authorized ... to execute command { ... }".
import type { Document } from 'bson';

const MAX_DEPTH = 4;
const MAX_ARRAY_ITEMS = 10;
const MAX_STRING = 100;

function formatValue(value: unknown, depth: number): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') {
    return JSON.stringify(value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}...` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (Array.isArray(value)) {
    if (depth >= MAX_DEPTH) return '[ ... ]';
    const items = value.slice(0, MAX_ARRAY_ITEMS).map((item) => formatValue(item, depth + 1));
    if (value.length > MAX_ARRAY_ITEMS) items.push('...');
    return items.length === 0 ? '[]' : `[ ${items.join(', ')} ]`;
  }
  if (typeof value === 'object') {
    const bsonType = (value as { _bsontype?: string })._bsontype;
    switch (bsonType) {
      case 'Int32':
      case 'Double':
        return String((value as { value: number }).value);
      case 'Long':
      case 'Decimal128':
        return String(value);
      case 'ObjectId':
        return `ObjectId('${String(value)}')`;
      case 'Timestamp':
        return `Timestamp(${String((value as { t: number }).t)}, ${String((value as { i: number }).i)})`;
      case 'Binary': {
        const binary = value as { sub_type: number; toUUID?: () => { toHexString(): string } };
        if (binary.sub_type === 4 && binary.toUUID) return `UUID("${binary.toUUID().toHexString()}")`;
        return `BinData(${binary.sub_type}, ...)`;
      }
      case undefined:
        return formatDocument(value as Document, depth);
      default:
        return bsonType;
    }
  }
  return String(value);
}

function formatDocument(document: Document, depth: number): string {
  if (depth >= MAX_DEPTH) return '{ ... }';
  const entries = Object.entries(document).map(([key, value]) => `${key}: ${formatValue(value, depth + 1)}`);
  return entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`;
}

export function formatCommandForError(command: Document, dbName: string): string {
  return formatDocument('$db' in command ? command : { ...command, $db: dbName }, 0);
}
