// Date part and formatting operators. Dates are taken in UTC unless a `timezone` (UTC/GMT, an
// offset like "+05:30", or an Olson name resolved through Intl) is given.
import type { Document, ObjectId, Timestamp } from 'bson';
import { bsonTypeName } from './compare';
import {
  expressionError,
  isNullish,
  isPlainObject,
  namedArgs,
  type OperatorFn,
  type Scope,
} from './expr-core';
import { makeInt } from './expr-numeric';

const DAY_MS = 86_400_000;

function typeNameOf(value: unknown): string {
  return value === undefined ? 'missing' : bsonTypeName(value);
}

/** The Date of a date-like value (Date, Timestamp, ObjectId), as MongoDB coerces it. */
function toDateValue(value: unknown): Date {
  if (value instanceof Date) return value;
  const tag =
    value !== null && typeof value === 'object' ? (value as { _bsontype?: string })._bsontype : undefined;
  if (tag === 'Timestamp') return new Date((value as Timestamp).high * 1000);
  if (tag === 'ObjectId') return (value as ObjectId).getTimestamp();
  throw expressionError(16006, `can't convert from BSON type ${typeNameOf(value)} to Date`);
}

/** Offset of a timezone from UTC in milliseconds at the given instant. */
function timezoneOffsetMs(timezone: string, instant: Date): number {
  if (timezone === 'UTC' || timezone === 'GMT' || timezone === 'Z') return 0;
  const offset = /^([+-])(\d{2}):?(\d{2})?$/.exec(timezone);
  if (offset) {
    const minutes = Number(offset[2]) * 60 + Number(offset[3] ?? 0);
    return (offset[1] === '-' ? -1 : 1) * minutes * 60_000;
  }
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    }).formatToParts(instant);
  } catch {
    throw expressionError(40485, `unrecognized time zone identifier: "${timezone}"`);
  }
  const field = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  const localAsUtc = Date.UTC(
    field('year'),
    field('month') - 1,
    field('day'),
    field('hour'),
    field('minute'),
    field('second'),
  );
  return localAsUtc - (instant.getTime() - instant.getUTCMilliseconds());
}

interface LocalTime {
  /** A Date whose UTC fields are the local wall-clock fields. */
  local: Date;
  offsetMs: number;
}

function localTime(date: Date, timezone: unknown): LocalTime {
  if (timezone === undefined) return { local: date, offsetMs: 0 };
  if (typeof timezone !== 'string')
    throw expressionError(40517, `timezone must evaluate to a string, found ${typeNameOf(timezone)}`);
  const offsetMs = timezoneOffsetMs(timezone, date);
  return { local: new Date(date.getTime() + offsetMs), offsetMs };
}

function dayOfYear(local: Date): number {
  return Math.floor((local.getTime() - Date.UTC(local.getUTCFullYear(), 0, 1)) / DAY_MS) + 1;
}

function isoDayOfWeek(local: Date): number {
  return local.getUTCDay() === 0 ? 7 : local.getUTCDay();
}

/** ISO-8601 week number and week-numbering year. */
function isoWeek(local: Date): { week: number; year: number } {
  const thursday = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()));
  thursday.setUTCDate(thursday.getUTCDate() + 4 - isoDayOfWeek(local));
  const year = thursday.getUTCFullYear();
  const week = Math.ceil(((thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS + 1) / 7);
  return { week, year };
}

/** Week of the year with weeks starting on Sunday (strftime %U). */
function sundayWeek(local: Date): number {
  return Math.floor((dayOfYear(local) - 1 + 7 - local.getUTCDay()) / 7);
}

const DATE_PARTS: Record<string, (local: Date) => number> = {
  $year: (d) => d.getUTCFullYear(),
  $month: (d) => d.getUTCMonth() + 1,
  $dayOfMonth: (d) => d.getUTCDate(),
  $hour: (d) => d.getUTCHours(),
  $minute: (d) => d.getUTCMinutes(),
  $second: (d) => d.getUTCSeconds(),
  $millisecond: (d) => d.getUTCMilliseconds(),
  $dayOfWeek: (d) => d.getUTCDay() + 1,
  $dayOfYear: dayOfYear,
  $week: sundayWeek,
  $isoWeek: (d) => isoWeek(d).week,
  $isoWeekYear: (d) => isoWeek(d).year,
  $isoDayOfWeek: isoDayOfWeek,
};

function datePartOperator(name: string, part: (local: Date) => number): OperatorFn {
  return (args, scope) => {
    let dateExpr: unknown = args;
    let timezone: unknown;
    if (Array.isArray(args)) {
      if (args.length !== 1) throw expressionError(40536, `${name} takes exactly 1 argument`);
      dateExpr = args[0];
    } else if (isPlainObject(args) && 'date' in args) {
      const spec = namedArgs(name, args, ['date', 'timezone'], ['date']);
      dateExpr = spec.date;
      if ('timezone' in spec) {
        timezone = scope.evaluate(spec.timezone);
        if (isNullish(timezone)) return null;
      }
    }
    const value = scope.evaluate(dateExpr);
    if (isNullish(value)) return null;
    return makeInt(part(localTime(toDateValue(value), timezone).local));
  };
}

const pad = (n: number, width: number) => String(Math.abs(n)).padStart(width, '0');

export function formatDate(date: Date, format: string, timezone?: string): string {
  const { local, offsetMs } = localTime(date, timezone);
  const offsetMinutes = offsetMs / 60_000;
  let result = '';
  for (let i = 0; i < format.length; i++) {
    const char = format[i];
    if (char !== '%') {
      result += char;
      continue;
    }
    const specifier = format[++i];
    switch (specifier) {
      case 'Y':
        result += pad(local.getUTCFullYear(), 4);
        break;
      case 'm':
        result += pad(local.getUTCMonth() + 1, 2);
        break;
      case 'd':
        result += pad(local.getUTCDate(), 2);
        break;
      case 'H':
        result += pad(local.getUTCHours(), 2);
        break;
      case 'M':
        result += pad(local.getUTCMinutes(), 2);
        break;
      case 'S':
        result += pad(local.getUTCSeconds(), 2);
        break;
      case 'L':
        result += pad(local.getUTCMilliseconds(), 3);
        break;
      case 'j':
        result += pad(dayOfYear(local), 3);
        break;
      case 'w':
        result += String(local.getUTCDay() + 1);
        break;
      case 'u':
        result += String(isoDayOfWeek(local));
        break;
      case 'U':
        result += pad(sundayWeek(local), 2);
        break;
      case 'V':
        result += pad(isoWeek(local).week, 2);
        break;
      case 'G':
        result += pad(isoWeek(local).year, 4);
        break;
      case 'z':
        result += `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.trunc(offsetMinutes / 60), 2)}${pad(offsetMinutes % 60, 2)}`;
        break;
      case 'Z':
        result += String(offsetMinutes);
        break;
      case '%':
        result += '%';
        break;
      default:
        throw expressionError(18536, `Invalid format character '%${specifier ?? ''}' in format string`);
    }
  }
  return result;
}

const DEFAULT_FORMAT = '%Y-%m-%dT%H:%M:%S.%LZ';

function dateToString(args: unknown, scope: Scope): unknown {
  const spec: Document = namedArgs('$dateToString', args, ['date', 'format', 'timezone', 'onNull'], ['date']);
  const value = scope.evaluate(spec.date);
  if (isNullish(value)) return 'onNull' in spec ? scope.evaluate(spec.onNull) : null;
  const format = 'format' in spec ? scope.evaluate(spec.format) : DEFAULT_FORMAT;
  if (isNullish(format)) return null;
  if (typeof format !== 'string')
    throw expressionError(
      18533,
      `$dateToString requires that 'format' be a string, found: ${typeNameOf(format)}`,
    );
  const timezone = 'timezone' in spec ? scope.evaluate(spec.timezone) : undefined;
  if ('timezone' in spec && isNullish(timezone)) return null;
  if (timezone !== undefined && typeof timezone !== 'string') {
    throw expressionError(40517, `timezone must evaluate to a string, found ${typeNameOf(timezone)}`);
  }
  return formatDate(toDateValue(value), format, timezone as string | undefined);
}

export const dateOperators: Record<string, OperatorFn> = {
  ...Object.fromEntries(
    Object.entries(DATE_PARTS).map(([name, part]) => [name, datePartOperator(name, part)]),
  ),
  $dateToString: dateToString,
};
