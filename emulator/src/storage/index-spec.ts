// Index specs as mongod stores them (and so as listIndexes, change events and $indexStats echo
// them): the collation filled in (the simple one dropped), text indexes rewritten to their
// `{_fts: "text", _ftsx: 1}` key with weights and languages, 2dsphere indexes versioned. Pure: the
// catalog command validates the request, then stores `storedIndexSpec`'s answer.
import type { Document } from 'bson';
import { CommandError, ErrorCodes } from '../errors';
import { collationDocument, parseCollationSpec } from '../query';

/** TEXT_INDEX_VERSION_3, the version mongod gives new text indexes. */
export const TEXT_INDEX_VERSION = 3;
/** S2_INDEX_VERSION_3, the version mongod gives new 2dsphere indexes. */
export const S2_INDEX_VERSION = 3;

const WILDCARD = '$**';
// MAX_WEIGHT / 10000 in fts_spec.cpp: weights lie in the open interval (0, 100000).
const MAX_WORD_WEIGHT = 100000;

/**
 * The languages a text index accepts as `default_language` (the Snowball stemmers of
 * fts_language.cpp, by name and by ISO 639-1 code), and "none".
 */
const TEXT_LANGUAGES = new Set([
  'none',
  'danish',
  'da',
  'dutch',
  'nl',
  'english',
  'en',
  'finnish',
  'fi',
  'french',
  'fr',
  'german',
  'de',
  'hungarian',
  'hu',
  'italian',
  'it',
  'norwegian',
  'nb',
  'portuguese',
  'pt',
  'romanian',
  'ro',
  'russian',
  'ru',
  'spanish',
  'es',
  'swedish',
  'sv',
  'turkish',
  'tr',
]);

/** Index types (key values) that take no collation (mongod: text, 2d and geoHaystack). */
const COLLATION_FREE_TYPES = new Set(['text', '2d', 'geoHaystack']);

function cannotCreate(message: string): CommandError {
  return new CommandError(ErrorCodes.CannotCreateIndex, message);
}

/** Whether a key pattern describes a text index (as given by a user, or as stored). */
export function isTextKey(key: Document): boolean {
  return Object.entries(key).some(([field, value]) => field === '_fts' || value === 'text');
}

/** The special index type of a key pattern ("text", "2dsphere", ...), or undefined for a btree. */
export function indexType(key: Document): string | undefined {
  if (isTextKey(key)) return 'text';
  for (const value of Object.values(key)) if (typeof value === 'string') return value;
  return undefined;
}

function integerWeight(value: unknown): number {
  const n = typeof value === 'number' ? value : Number((value as { valueOf(): unknown }).valueOf());
  // BSONElement::numberInt: truncation toward zero.
  return Math.trunc(n);
}

function isNumeric(value: unknown): boolean {
  if (typeof value === 'number') return true;
  const type = (value as { _bsontype?: string } | null)?._bsontype;
  return type === 'Int32' || type === 'Double' || type === 'Long' || type === 'Decimal128';
}

/**
 * The key pattern and weights of a text index spec (fts_spec.cpp's FTSSpec::fixSpec): the text
 * fields become `_fts: "text", _ftsx: 1` where the first of them stood; their names (weight 1
 * unless `weights` says otherwise) go to `weights`, sorted by name.
 */
function fixTextKey(spec: Document): { key: Document; weights: Document } {
  const given = spec.key as Document;
  const key: Document = {};
  const weights = new Map<string, number>();
  let added = false;
  const entries = Object.entries(given);
  for (const [field, value] of entries) {
    if (field === '_fts') {
      if (value !== 'text') throw cannotCreate('expecting _fts:"text"');
      key._fts = value;
      added = true;
    } else if (field === '_ftsx') {
      if (integerWeight(value) !== 1) throw cannotCreate('expecting _ftsx:1');
      key._ftsx = value;
    } else if (value === 'text') {
      if (!added) {
        key._fts = 'text';
        key._ftsx = 1;
        added = true;
      }
      weights.set(field, 1);
    } else {
      if (!isNumeric(value) || (integerWeight(value) !== 1 && integerWeight(value) !== -1))
        throw cannotCreate('expected value 1 or -1 for non-text key in compound index');
      key[field] = value;
    }
  }
  // The key's shape: fields before the text part, the text part, then the fields after it.
  let i = 0;
  while (i < entries.length && typeof entries[i][1] !== 'string') {
    if (entries[i][0] === '_fts' || entries[i][0] === '_ftsx')
      throw cannotCreate('text index with reserved fields _fts/_ftsx not allowed');
    i++;
  }
  if (i < entries.length && entries[i][0] === '_fts') {
    if (entries[i + 1]?.[0] !== '_ftsx') throw cannotCreate('expected _ftsx after _fts');
    i += 2;
  } else {
    while (i < entries.length && typeof entries[i][1] === 'string') i++;
  }
  for (; i < entries.length; i++) {
    if (typeof entries[i][1] === 'string') throw cannotCreate("'text' fields in index must all be adjacent");
    if (entries[i][0] === '_fts' || entries[i][0] === '_ftsx')
      throw cannotCreate('text index with reserved fields _fts/_ftsx not allowed');
  }

  const givenWeights = spec.weights;
  if (
    givenWeights !== undefined &&
    givenWeights !== null &&
    typeof givenWeights === 'object' &&
    !isNumeric(givenWeights)
  ) {
    for (const [field, value] of Object.entries(givenWeights as Document)) {
      if (!isNumeric(value)) throw cannotCreate('weight for text index needs numeric type');
      weights.set(field, integerWeight(value));
    }
  } else if (givenWeights === WILDCARD) {
    weights.set(WILDCARD, 1);
  } else if (givenWeights !== undefined) {
    throw cannotCreate("text index option 'weights' must be an object");
  }
  if (weights.size === 0)
    throw cannotCreate("text index option 'weights' must specify fields or the wildcard");
  const sorted: Document = {};
  for (const field of [...weights.keys()].sort(compareBytes)) {
    const weight = weights.get(field) as number;
    if (weight <= 0 || weight >= MAX_WORD_WEIGHT)
      throw cannotCreate(
        `text index weight must be in the exclusive interval (0,${MAX_WORD_WEIGHT}) but found: ${weight}`,
      );
    if (field !== WILDCARD) {
      const parts = field.split('.');
      if (field.length === 0) throw cannotCreate('weight cannot be on an empty field');
      if (parts.some((part) => part.length === 0))
        throw cannotCreate('weight cannot have empty path component');
      if (parts.some((part) => part.startsWith('$')))
        throw cannotCreate('weight cannot have path component with $ prefix');
    }
    sorted[field] = weight;
  }
  return { key, weights: sorted };
}

/** std::map<std::string, ...> order: by UTF-8 bytes. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function textLanguageFields(spec: Document): Document {
  const language = spec.default_language ?? 'english';
  if (typeof language !== 'string') throw cannotCreate('default_language needs a string type');
  if (!TEXT_LANGUAGES.has(language.toLowerCase())) throw cannotCreate('default_language is not valid');
  const override = spec.language_override ?? 'language';
  if (typeof override !== 'string') throw cannotCreate('language_override must be a string');
  if (override.length === 0 || override.startsWith('$') || override.includes('.'))
    throw cannotCreate('language_override is not valid');
  const version = spec.textIndexVersion ?? TEXT_INDEX_VERSION;
  if (!isNumeric(version)) throw cannotCreate("text index option 'textIndexVersion' must be a number");
  const textIndexVersion = integerWeight(version);
  if (textIndexVersion !== 2 && textIndexVersion !== 3)
    throw cannotCreate(`bad textIndexVersion: ${textIndexVersion}`);
  return { default_language: language, language_override: override, textIndexVersion };
}

function s2IndexVersion(value: unknown): number {
  if (value === undefined) return S2_INDEX_VERSION;
  const version = isNumeric(value) ? Number((value as { valueOf(): unknown }).valueOf()) : NaN;
  if (version !== 1 && version !== 2 && version !== 3)
    throw cannotCreate(
      `unsupported geo index version { 2dsphereIndexVersion : ${String(value)} }, only versions: [1,2,3] are supported`,
    );
  return version;
}

/**
 * The spec mongod stores for a (validated) createIndexes entry: `v`, `key` and `name` first, the
 * other options as given, then the collation (the collection's default when the index names none;
 * dropped when simple, filled in otherwise) and the per-type fields text and 2dsphere indexes get.
 */
export function storedIndexSpec(raw: Document, collectionCollation?: Document): Document {
  const text = isTextKey(raw.key as Document);
  let key = raw.key as Document;
  let weights: Document | undefined;
  if (text) ({ key, weights } = fixTextKey(raw));
  const languages = text ? textLanguageFields(raw) : undefined;
  const s2 = Object.values(key).includes('2dsphere');
  const spec: Document = { v: 2, key, name: raw.name };
  for (const [option, value] of Object.entries(raw)) {
    if (['v', 'key', 'name', 'ns', 'background', 'collation', 'textIndexVersion'].includes(option)) continue;
    if (text && option === 'weights') spec.weights = weights;
    else if (languages && (option === 'default_language' || option === 'language_override'))
      spec[option] = languages[option];
    else if (s2 && option === '2dsphereIndexVersion') spec[option] = s2IndexVersion(value);
    else spec[option] = value;
  }
  const collation = raw.collation !== undefined ? parseCollationSpec(raw.collation) : undefined;
  const effective =
    raw.collation !== undefined
      ? collation
        ? collationDocument(collation)
        : undefined
      : collectionCollation;
  if (effective !== undefined) {
    const free = Object.values(raw.key as Document).find(
      (value) => typeof value === 'string' && COLLATION_FREE_TYPES.has(value),
    );
    if (free !== undefined)
      throw cannotCreate(
        `Error in specification { key: ${JSON.stringify(raw.key)}, name: "${String(raw.name)}" } :: caused by :: Index type '${String(free)}' does not support collation: ${JSON.stringify(effective)}`,
      );
    spec.collation = effective;
  }
  if (languages) {
    // fixSpec appends what the request did not give, then the version.
    spec.weights ??= weights;
    spec.default_language ??= languages.default_language;
    spec.language_override ??= languages.language_override;
    spec.textIndexVersion = languages.textIndexVersion;
  }
  if (s2 && spec['2dsphereIndexVersion'] === undefined) spec['2dsphereIndexVersion'] = S2_INDEX_VERSION;
  return spec;
}
