// Reading command fields that arrive in exact BSON form (numbers wrapped as Int32/Double/Long).
import { Decimal128, Double, Int32, Long } from 'bson';

/** The numeric value of a JS number or a BSON Int32/Double/Long/Decimal128, else undefined. */
export function numberValue(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Int32 || value instanceof Double) return value.value;
  if (value instanceof Long) return value.toNumber();
  if (value instanceof Decimal128) return Number(value.toString());
  return undefined;
}

/** mongod's truthiness for option flags: booleans as is, numbers when non-zero. */
export function isTruthy(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const number = numberValue(value);
  if (number !== undefined) return number !== 0;
  return value !== undefined && value !== null;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !('_bsontype' in value);
}
