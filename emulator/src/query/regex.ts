// Query regular expressions: MongoDB's PCRE pattern + option letters translated to a JS RegExp.
import { CommandError } from '../errors';

const allowedOptions = new Set(['i', 'm', 's', 'x', 'u']);

/** Removes whitespace and `#` comments outside character classes, as PCRE's extended mode does. */
function stripExtended(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      out += c + (pattern[i + 1] ?? '');
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
    } else if (c === '#') {
      while (i < pattern.length && pattern[i] !== '\n') i++;
    } else if (!/\s/.test(c)) {
      out += c;
    }
  }
  return out;
}

const cache = new Map<string, RegExp>();

export function compileRegex(pattern: string, options: string): RegExp {
  const cacheKey = `${options}/${pattern}`;
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  let flags = '';
  let source = pattern;
  // A leading inline flag group such as (?i) is PCRE syntax JS lacks.
  const inline = /^\(\?([imsx]+)\)/.exec(source);
  let letters = options;
  if (inline) {
    letters += inline[1];
    source = source.slice(inline[0].length);
  }
  for (const letter of letters) {
    if (!allowedOptions.has(letter)) {
      throw new CommandError(51108, `invalid flag in regex options: ${letter}`);
    }
    if (letter === 'x') continue;
    if (!flags.includes(letter)) flags += letter;
  }
  if (letters.includes('x')) source = stripExtended(source);
  source = source.replace(/\\A/g, '^').replace(/\\[zZ]/g, '$');
  let regex: RegExp;
  try {
    regex = new RegExp(source, flags);
  } catch (error) {
    throw new CommandError(51091, `Regular expression is invalid: ${(error as Error).message}`);
  }
  if (cache.size > 1000) cache.clear();
  cache.set(cacheKey, regex);
  return regex;
}
