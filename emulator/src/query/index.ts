// The emulator's query engine: BSON ordering, path traversal, filters, updates, projections, sorts.
export { compareValues, valuesEqual, canonicalTypeOrder, bsonTypeName, keyString, toNumber } from './compare';
export { getPathValues, getPath } from './paths';
export { compileFilter, type Matcher } from './match';
export {
  isOperatorUpdate,
  applyUpdate,
  applyReplacement,
  upsertSeedFromQuery,
  validateStorableDocument,
  type UpdateResult,
} from './update';
export { compileProjection } from './projection';
export { compileSort } from './sort';
export {
  collationDocument,
  parseCollation,
  parseCollationSpec,
  resolveCollation,
  type Collation,
} from './collation';
export { evaluateLet } from './expression';
