// Collations: locale-aware string comparison (https://www.mongodb.com/docs/manual/reference/collation/)
// over Intl.Collator. A parsed collation is a string comparator that compareValues applies to
// strings (and symbols) wherever it compares values; `locale: "simple"` is binary comparison and
// parses to undefined, so the default path stays the code-point comparison.
import type { Document } from 'bson';
import { CommandError, ErrorCodes } from '../errors';
import { bsonTypeName, isPlainDocument, toNumber } from './compare';

export interface CollationSpec {
  locale: string;
  caseLevel: boolean;
  caseFirst: 'upper' | 'lower' | 'off';
  strength: 1 | 2 | 3 | 4 | 5;
  numericOrdering: boolean;
  alternate: 'non-ignorable' | 'shifted';
  maxVariable: 'punct' | 'space';
  normalization: boolean;
  backwards: boolean;
}

/** A non-simple collation: its full spec (as mongod reports it) and its string comparator. */
export interface Collation {
  readonly spec: CollationSpec;
  /** -1, 0 or 1. */
  compare(a: string, b: string): number;
}

const BOOLEAN_FIELDS = ['caseLevel', 'numericOrdering', 'normalization', 'backwards'] as const;
const ENUM_FIELDS: Record<string, readonly string[]> = {
  caseFirst: ['upper', 'lower', 'off'],
  alternate: ['non-ignorable', 'shifted'],
  maxVariable: ['punct', 'space'],
};
const KNOWN_FIELDS = new Set([
  'locale',
  'strength',
  'version',
  ...BOOLEAN_FIELDS,
  ...Object.keys(ENUM_FIELDS),
]);

/** ICU collation keyword values and their BCP 47 (`-u-co-`) spellings. */
const COLLATION_KEYWORDS: Record<string, string> = {
  phonebook: 'phonebk',
  traditional: 'trad',
  dictionary: 'dict',
  pinyin: 'pinyin',
  stroke: 'stroke',
  zhuyin: 'zhuyin',
  unihan: 'unihan',
  search: 'search',
  gb2312han: 'gb2312',
  big5han: 'big5han',
  standard: 'standard',
  reformed: 'reformed',
  eor: 'eor',
  compat: 'compat',
  emoji: 'emoji',
};

// language[_Script][_REGION][_VARIANT][@collation=keyword], as ICU spells the ids mongod accepts.
const LOCALE_PATTERN =
  /^([a-z]{2,3})(?:_([A-Z][a-z]{3}))?(?:_([A-Z]{2}|[0-9]{3}))?(?:_([A-Z0-9]{4,8}))?(?:@collation=([a-z0-9]+))?$/;

function invalidLocale(locale: string): CommandError {
  return new CommandError(ErrorCodes.BadValue, `Field 'locale' is invalid in: { locale: "${locale}" }`);
}

/** The BCP 47 tag Intl understands for an ICU locale id mongod accepts. */
function localeTag(locale: string): string {
  const match = LOCALE_PATTERN.exec(locale);
  if (!match) throw invalidLocale(locale);
  const [, language, script, region, variant, keyword] = match;
  let tag = [language, script, region, variant].filter((part) => part !== undefined).join('-');
  if (keyword !== undefined) {
    const co = COLLATION_KEYWORDS[keyword];
    if (co === undefined) throw invalidLocale(locale);
    tag += `-u-co-${co}`;
  }
  let supported: string[];
  try {
    supported = Intl.Collator.supportedLocalesOf(tag, { localeMatcher: 'lookup' });
  } catch {
    throw invalidLocale(locale);
  }
  if (supported.length === 0) throw invalidLocale(locale);
  if (region !== undefined && !isKnownRegion(region)) throw invalidLocale(locale);
  return tag;
}

let regionNames: Intl.DisplayNames | undefined;

function isKnownRegion(region: string): boolean {
  if (/^[0-9]{3}$/.test(region)) return true;
  if (region === 'ZZ') return false; // CLDR's "Unknown Region
  regionNames ??= new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
  return regionNames.of(region) !== undefined;
}

function wrongType(field: string, value: unknown, expected: string): CommandError {
  return new CommandError(
    ErrorCodes.TypeMismatch,
    `BSON field 'collation.${field}' is the wrong type '${bsonTypeName(value)}', expected type '${expected}'`,
  );
}

/**
 * Validates a collation document as mongod does and fills in the defaults; undefined for the
 * simple (binary) collation.
 */
export function parseCollationSpec(value: unknown): CollationSpec | undefined {
  if (!isPlainDocument(value))
    throw new CommandError(
      ErrorCodes.TypeMismatch,
      `collation is the wrong type '${bsonTypeName(value)}', expected type 'object'`,
    );
  for (const field of Object.keys(value)) {
    if (!KNOWN_FIELDS.has(field))
      throw new CommandError(40415, `BSON field 'collation.${field}' is an unknown field.`);
  }
  if (value.locale === undefined)
    throw new CommandError(40414, "BSON field 'collation.locale' is missing but a required field");
  if (typeof value.locale !== 'string') throw wrongType('locale', value.locale, 'string');
  const locale = value.locale;
  if (locale === 'simple') {
    if (Object.keys(value).some((field) => field !== 'locale' && field !== 'version'))
      throw new CommandError(
        ErrorCodes.FailedToParse,
        "If 'locale' is 'simple', no other collation fields may be specified",
      );
    return undefined;
  }
  const defaults = localeDefaults(locale);
  const spec: CollationSpec = {
    locale,
    caseLevel: false,
    caseFirst: defaults.caseFirst,
    strength: 3,
    numericOrdering: false,
    alternate: defaults.alternate,
    maxVariable: 'punct',
    normalization: defaults.normalization,
    backwards: defaults.backwards,
  };
  for (const field of BOOLEAN_FIELDS) {
    const v = value[field];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw wrongType(field, v, 'bool');
    spec[field] = v;
  }
  for (const [field, allowed] of Object.entries(ENUM_FIELDS)) {
    const v = value[field];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw wrongType(field, v, 'string');
    if (!allowed.includes(v))
      throw new CommandError(
        ErrorCodes.BadValue,
        `Enumeration value '${v}' for field 'collation.${field}' is not a valid value.`,
      );
    (spec as unknown as Document)[field] = v;
  }
  if (value.strength !== undefined) {
    const n = toNumber(value.strength);
    if (n === undefined) throw wrongType('strength', value.strength, 'int');
    if (!Number.isInteger(n) || n < 1 || n > 5)
      throw new CommandError(
        ErrorCodes.BadValue,
        `BSON field 'collation.strength' value must be an integer 1 through 5, actual value '${n}'`,
      );
    spec.strength = n as CollationSpec['strength'];
  }
  localeTag(locale);
  return spec;
}

/** The ICU version mongod reports as a collation's `version`. */
export const COLLATION_VERSION = '57.1';

/** A collation spec as mongod stores and reports it: every field, then `version`. */
export function collationDocument(spec: CollationSpec): Document {
  return { ...spec, version: COLLATION_VERSION };
}

type LocaleDefaults = Pick<CollationSpec, 'caseFirst' | 'alternate' | 'normalization' | 'backwards'>;

// CLDR tailorings that switch normalization on (`[normalization on]`); Intl always normalizes, so
// this one setting cannot be read back from the collator.
const NORMALIZING_LANGUAGES = new Set(['vi', 'as', 'bn']);

const localeDefaultsCache = new Map<string, LocaleDefaults>();

/**
 * The settings a locale's ICU tailoring changes from the root (the per-locale rows of mongod's
 * "Collation Default Parameters"): caseFirst (da, mt: upper), alternate (th: shifted), backwards
 * (fr_CA) and normalization. Read from ICU itself where Intl exposes them.
 */
function localeDefaults(locale: string): LocaleDefaults {
  let defaults = localeDefaultsCache.get(locale);
  if (defaults) return defaults;
  let resolved: Intl.ResolvedCollatorOptions | undefined;
  let backwards = false;
  try {
    const collator = new Intl.Collator(localeTag(locale), { usage: 'sort' });
    resolved = collator.resolvedOptions();
    // Backwards secondary ordering (French accents): côte sorts before coté.
    backwards = collator.compare('cot\u00e9', 'c\u00f4te') > 0;
  } catch {
    // An invalid locale: parseCollationSpec rejects it afterwards.
  }
  const caseFirst =
    resolved?.caseFirst === 'upper' || resolved?.caseFirst === 'lower' ? resolved.caseFirst : 'off';
  defaults = {
    caseFirst,
    alternate: resolved?.ignorePunctuation === true ? 'shifted' : 'non-ignorable',
    normalization: NORMALIZING_LANGUAGES.has(locale.split(/[_@]/)[0]),
    backwards,
  };
  localeDefaultsCache.set(locale, defaults);
  return defaults;
}

/** The collation a spec describes (undefined for simple). Collators are built once per spec. */
export function parseCollation(value: unknown): Collation | undefined {
  const spec = parseCollationSpec(value);
  if (!spec) return undefined;
  const id = JSON.stringify(spec);
  let collation = cache.get(id);
  if (!collation) {
    collation = buildCollation(spec);
    if (cache.size > 256) cache.clear();
    cache.set(id, collation);
  }
  return collation;
}

const cache = new Map<string, Collation>();

function sensitivity(spec: CollationSpec): Intl.CollatorOptions['sensitivity'] {
  if (spec.strength === 1) return spec.caseLevel ? 'case' : 'base';
  if (spec.strength === 2) return spec.caseLevel ? 'variant' : 'accent';
  return 'variant';
}

function buildCollation(spec: CollationSpec): Collation {
  const collator = new Intl.Collator(localeTag(spec.locale), {
    usage: 'sort',
    sensitivity: sensitivity(spec),
    numeric: spec.numericOrdering,
    caseFirst: spec.caseFirst === 'off' ? 'false' : spec.caseFirst,
    ignorePunctuation: spec.alternate === 'shifted',
  });
  const identical = spec.strength === 5;
  const compare = (a: string, b: string): number => {
    if (a === b) return 0;
    const c = collator.compare(a, b);
    if (c !== 0) return c < 0 ? -1 : 1;
    // Identical strength breaks ties by code point (NFD, as ICU does).
    if (!identical) return 0;
    const x = a.normalize('NFD');
    const y = b.normalize('NFD');
    return x === y ? 0 : x < y ? -1 : 1;
  };
  return { spec, compare };
}

/**
 * The collation a command runs with: its own `collation` option when present (even simple),
 * otherwise the collection's default collation.
 */
export function resolveCollation(
  commandCollation: unknown,
  collectionDefault?: unknown,
): Collation | undefined {
  if (commandCollation !== undefined) return parseCollation(commandCollation);
  if (collectionDefault !== undefined) return parseCollation(collectionDefault);
  return undefined;
}
