// Events over the BSON size limit, as mongod handles them: without $changeStreamSplitLargeEvent
// such an event fails the stream with BSONObjectTooLarge (10334); with the stage it is split into
// fragments (change_stream_split_event_helpers.cpp): top-level fields, `_id` aside, in ascending
// order of their BSON size (then name), packed greedily so the first fragment holds as many as fit.
// Each fragment starts with `_id` (the event's token with `fragmentNum`, 0-based) and `splitEvent:
// {fragment, of}` (1-based), and none exceeds the fragment limit.
import { calculateObjectSize, type Document, Int32 } from 'bson';
import { CommandError } from '../errors';
import { encodeResumeToken, type ResumeTokenData } from './resume-token';

/** mongod's BSONObjMaxInternalSize: 16 MB plus 16 KB of headroom for internal use. */
export const BSON_OBJ_MAX_INTERNAL_SIZE = 16 * 1024 * 1024 + 16 * 1024;
/** DocumentSourceChangeStreamSplitLargeEvent::kBSONObjMaxChangeEventSize. */
export const MAX_CHANGE_EVENT_SIZE = BSON_OBJ_MAX_INTERNAL_SIZE - 8 * 1024;
export const BSON_OBJECT_TOO_LARGE = 10334;

export function bsonSize(doc: Document): number {
  return calculateObjectSize(doc, { ignoreUndefined: true });
}

/** The BSON size of one element `name: value` (type byte, name, value). */
function elementSize(name: string, value: unknown): number {
  // {name: value} minus the document's 4-byte length and terminating NUL.
  return bsonSize({ [name]: value }) - 5;
}

/** mongod's error for an event too large to return (when not split). */
export function eventTooLarge(event: Document, size: number): CommandError {
  const id = event._id as { _data?: string } | undefined;
  return new CommandError(
    BSON_OBJECT_TOO_LARGE,
    `BSONObj size: ${size} (0x${size.toString(16).toUpperCase()}) is invalid. Size must be between 0 and ` +
      `${BSON_OBJ_MAX_INTERNAL_SIZE}(16MB) First element: _id: { _data: "${id?._data ?? ''}" }`,
    { codeName: 'BSONObjectTooLarge' },
  );
}

/**
 * Splits `event` (whose resume token is `token`) into fragments of at most `maxFragmentSize`
 * bytes, leaving out the first `skip` fragments. Throws mongod's 7182500 when one field alone is
 * too large, 7182502 for an event with nothing but `_id`.
 */
export function splitChangeEvent(
  event: Document,
  token: ResumeTokenData,
  maxFragmentSize: number,
  skip = 0,
): Document[] {
  const fields = Object.entries(event)
    .filter(([name, value]) => name !== '_id' && value !== undefined)
    .map(([name, value]) => ({ name, value, size: elementSize(name, value) }))
    .sort((a, b) => a.size - b.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (fields.length === 0) {
    throw new CommandError(7182502, "Cannot split an empty event or an event containing solely '_id' field");
  }
  const fragments: Document[] = [];
  let index = 0;
  while (index < fields.length) {
    const fragmentToken = encodeResumeToken({ ...token, fragmentNum: fragments.length });
    const fragment: Document = {
      _id: fragmentToken,
      splitEvent: { fragment: new Int32(fragments.length + 1), of: new Int32(0) },
    };
    // mongod counts the fragment with its metadata (the token again, as the sort key).
    let size = bsonSize({ ...fragment, $sortKey: fragmentToken });
    do {
      const field = fields[index];
      fragment[field.name] = field.value;
      size += field.size;
      index++;
    } while (index < fields.length && size + fields[index].size <= maxFragmentSize);
    if (size > maxFragmentSize) {
      throw new CommandError(
        7182500,
        `Splitting change event failed: fragment size ${size} is greater than maximum allowed fragment size ${maxFragmentSize}`,
      );
    }
    fragments.push(fragment);
  }
  const total = new Int32(fragments.length);
  for (const fragment of fragments) (fragment.splitEvent as Document).of = total;
  return fragments.slice(skip);
}
