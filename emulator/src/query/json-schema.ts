// The `$jsonSchema` query operator: MongoDB's draft-4 subset with `bsonType`, compiled to a
// predicate over a value in the exact value model.
import type { Document } from 'bson';
import { CommandError, ErrorCodes } from '../errors';
import { bsonTypeName, isPlainDocument, toNumber, valuesEqual } from './compare';
import { compileRegex } from './regex';

type Validator = (value: unknown) => boolean;

const numericTypes = new Set(['int', 'long', 'double', 'decimal']);

const jsonTypeToBson: Record<string, string[]> = {
  object: ['object'],
  array: ['array'],
  number: ['int', 'long', 'double', 'decimal'],
  boolean: ['bool'],
  string: ['string'],
  null: ['null'],
};

const ignoredKeywords = new Set(['title', 'description', '$comment']);

function schemaError(message: string): CommandError {
  return new CommandError(ErrorCodes.FailedToParse, message);
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function numberArg(keyword: string, value: unknown): number {
  const n = toNumber(value);
  if (n === undefined) throw schemaError(`$jsonSchema keyword '${keyword}' must be a number`);
  return n;
}

function schemaArg(keyword: string, value: unknown): Document {
  if (!isPlainDocument(value)) throw schemaError(`$jsonSchema keyword '${keyword}' must be an object`);
  return value;
}

function typeSet(keyword: string, value: unknown, aliases?: Record<string, string[]>): Set<string> {
  const names = new Set<string>();
  for (const name of asList(value)) {
    if (typeof name !== 'string')
      throw schemaError(`$jsonSchema keyword '${keyword}' must be a string or array`);
    const expanded = aliases ? aliases[name] : name === 'number' ? [...numericTypes] : [name];
    if (!expanded) throw schemaError(`Unknown type name alias: ${name}`);
    for (const type of expanded) names.add(type);
  }
  return names;
}

function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

export function compileJsonSchema(schema: Document): Validator {
  const checks: Validator[] = [];
  const propertySchemas = new Map<string, Validator>();
  for (const [keyword, arg] of Object.entries(schema)) {
    if (ignoredKeywords.has(keyword)) continue;
    switch (keyword) {
      case 'bsonType':
      case 'type': {
        const types = keyword === 'type' ? typeSet(keyword, arg, jsonTypeToBson) : typeSet(keyword, arg);
        checks.push((v) => types.has(bsonTypeName(v)));
        break;
      }
      case 'required': {
        if (!Array.isArray(arg) || arg.some((name) => typeof name !== 'string')) {
          throw schemaError("$jsonSchema keyword 'required' must be an array of strings");
        }
        const names = arg as string[];
        checks.push((v) => !isPlainDocument(v) || names.every((name) => Object.hasOwn(v, name)));
        break;
      }
      case 'properties':
        for (const [name, sub] of Object.entries(schemaArg(keyword, arg))) {
          propertySchemas.set(name, compileJsonSchema(schemaArg(name, sub)));
        }
        checks.push(
          (v) =>
            !isPlainDocument(v) ||
            [...propertySchemas].every(([name, validate]) => !Object.hasOwn(v, name) || validate(v[name])),
        );
        break;
      case 'additionalProperties': {
        const extraValidator: Validator =
          typeof arg === 'boolean' ? () => arg : compileJsonSchema(schemaArg(keyword, arg));
        checks.push(
          (v) =>
            !isPlainDocument(v) ||
            Object.keys(v).every((name) => propertySchemas.has(name) || extraValidator(v[name])),
        );
        break;
      }
      case 'enum': {
        if (!Array.isArray(arg) || arg.length === 0)
          throw schemaError("$jsonSchema keyword 'enum' must be a non-empty array");
        checks.push((v) => arg.some((allowed) => valuesEqual(v, allowed)));
        break;
      }
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        if (keyword.startsWith('exclusive')) break; // a modifier of minimum/maximum, read below
        const bound = numberArg(keyword, arg);
        const exclusive = schema[keyword === 'minimum' ? 'exclusiveMinimum' : 'exclusiveMaximum'] === true;
        const isMin = keyword === 'minimum';
        checks.push((v) => {
          if (!numericTypes.has(bsonTypeName(v))) return true;
          const n = toNumber(v) as number;
          if (isMin) return exclusive ? n > bound : n >= bound;
          return exclusive ? n < bound : n <= bound;
        });
        break;
      }
      case 'minLength':
      case 'maxLength': {
        const bound = numberArg(keyword, arg);
        const isMin = keyword === 'minLength';
        checks.push(
          (v) => typeof v !== 'string' || (isMin ? codePointLength(v) >= bound : codePointLength(v) <= bound),
        );
        break;
      }
      case 'pattern': {
        if (typeof arg !== 'string') throw schemaError("$jsonSchema keyword 'pattern' must be a string");
        const regex = compileRegex(arg, '');
        checks.push((v) => typeof v !== 'string' || regex.test(v));
        break;
      }
      case 'minItems':
      case 'maxItems': {
        const bound = numberArg(keyword, arg);
        const isMin = keyword === 'minItems';
        checks.push((v) => !Array.isArray(v) || (isMin ? v.length >= bound : v.length <= bound));
        break;
      }
      case 'uniqueItems':
        if (arg === true) {
          checks.push(
            (v) => !Array.isArray(v) || v.every((x, i) => v.findIndex((y) => valuesEqual(x, y)) === i),
          );
        }
        break;
      case 'items': {
        if (Array.isArray(arg)) {
          const itemValidators = arg.map((sub, i) => compileJsonSchema(schemaArg(`items.${i}`, sub)));
          checks.push(
            (v) =>
              !Array.isArray(v) || itemValidators.every((validate, i) => i >= v.length || validate(v[i])),
          );
        } else {
          const validate = compileJsonSchema(schemaArg(keyword, arg));
          checks.push((v) => !Array.isArray(v) || v.every(validate));
        }
        break;
      }
      case 'minProperties':
      case 'maxProperties': {
        const bound = numberArg(keyword, arg);
        const isMin = keyword === 'minProperties';
        checks.push(
          (v) =>
            !isPlainDocument(v) || (isMin ? Object.keys(v).length >= bound : Object.keys(v).length <= bound),
        );
        break;
      }
      case 'allOf':
      case 'anyOf':
      case 'oneOf': {
        if (!Array.isArray(arg) || arg.length === 0) {
          throw schemaError(`$jsonSchema keyword '${keyword}' must be a non-empty array`);
        }
        const subs = arg.map((sub) => compileJsonSchema(schemaArg(keyword, sub)));
        if (keyword === 'allOf') checks.push((v) => subs.every((validate) => validate(v)));
        else if (keyword === 'anyOf') checks.push((v) => subs.some((validate) => validate(v)));
        else checks.push((v) => subs.filter((validate) => validate(v)).length === 1);
        break;
      }
      case 'not': {
        const validate = compileJsonSchema(schemaArg(keyword, arg));
        checks.push((v) => !validate(v));
        break;
      }
      default:
        throw schemaError(`Unknown $jsonSchema keyword: ${keyword}`);
    }
  }
  return (value) => checks.every((check) => check(value));
}
