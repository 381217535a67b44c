// Pure: one DynamoDB stream record of the AnimalImages table → the message and fields of its
// log line. No I/O, no clock: tests call it with plain objects.
//
// The table is shared (DESIGN.md, "Items the daemon did not write"): items written by the
// original boto3 scripts have no size_bytes, sha256, version, source_host... So the only
// thing a record must have is what identifies it: its SequenceNumber (how a failure is
// reported) and the table's keys. Everything else is described as far as it is there;
// a missing attribute is left out of the line, never logged as null or NaN. A record that
// is identified but odd (no images, an unknown eventName) is logged as a warning rather than
// failed: retrying it would never make it readable, only move it to the failure queue.
import type { DynamoDBRecord } from 'aws-lambda';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { convertToNative } from '@aws-sdk/util-dynamodb';
import { isDeepStrictEqual } from 'node:util';

/** Thrown for a record that cannot be identified: no SequenceNumber, or not the table's keys. */
export class UnidentifiedRecordError extends Error {
  override name = 'UnidentifiedRecordError';
}

export interface RecordLine {
  level: 'info' | 'warn';
  message: string;
  fields: Record<string, unknown>;
}

const MESSAGES = { INSERT: 'image inserted', MODIFY: 'image modified', REMOVE: 'image removed' } as const;
type EventName = keyof typeof MESSAGES;

/** The attributes a line shows about the image, in this order, when the item has them. */
const IMAGE_ATTRIBUTES = ['animal', 'image_id', 'filename', 's3_key', 'size_bytes', 'version', 'source_host'] as const;
/** What a MODIFY shows old and new values of, when either side has it. */
const CHANGE_ATTRIBUTES = ['sha256', 'size_bytes', 'version'] as const;

type RawImage = Record<string, AttributeValue>;

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number') return String(value);
  return `${typeof value} ${JSON.stringify(value)}`.slice(0, 120);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Numbers beyond 2^53 stay strings: the line shows them exactly instead of failing. */
function toNative(value: AttributeValue): unknown {
  return convertToNative(value, { wrapNumbers: (s: string) => (Math.abs(Number(s)) <= Number.MAX_SAFE_INTEGER ? Number(s) : s) });
}

/** One attribute of an image, or undefined when it is missing or not an AttributeValue. */
function attribute(image: RawImage, name: string): unknown {
  const raw = image[name];
  if (!isObject(raw)) return undefined;
  try {
    return toNative(raw);
  } catch {
    return undefined;
  }
}

function keyOf(keys: RawImage, name: string): string {
  const value = attribute(keys, name);
  if (typeof value !== 'string' || value === '') {
    throw new UnidentifiedRecordError(`dynamodb.Keys.${name} must be a non-empty string, got ${describeValue(value)}`);
  }
  return value;
}

function present(entries: [string, unknown][]): Record<string, unknown> {
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
}

function imageFields(image: RawImage): Record<string, unknown> {
  return present(IMAGE_ATTRIBUTES.map((name) => [name, attribute(image, name)]));
}

function changesOf(oldImage: RawImage, newImage: RawImage): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const name of CHANGE_ATTRIBUTES) {
    const pair = present([['old', attribute(oldImage, name)], ['new', attribute(newImage, name)]]);
    if (Object.keys(pair).length > 0) changes[name] = pair;
  }
  const names = [...new Set([...Object.keys(oldImage), ...Object.keys(newImage)])].sort();
  changes.attributes = names.filter((n) => !isDeepStrictEqual(oldImage[n], newImage[n]));
  return changes;
}

/**
 * ApproximateCreationDateTime is epoch seconds in Lambda's events; the SDK's DynamoDBStreams
 * client gives a Date. Anything else is left out of the line.
 */
function creationTime(raw: unknown): string | undefined {
  const ms = raw instanceof Date ? raw.getTime() : typeof raw === 'number' ? raw * 1000 : Number.NaN;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

/** The sequence number of a record, or '' when it has none (Lambda: fail the whole batch). */
export function sequenceNumberOf(record: unknown): string {
  const seq = isObject(record) && isObject(record.dynamodb) ? record.dynamodb.SequenceNumber : undefined;
  return typeof seq === 'string' ? seq : '';
}

export function eventIdOf(record: unknown): string | undefined {
  const id = isObject(record) ? record.eventID : undefined;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * Throws UnidentifiedRecordError (naming what is missing) only for a record without a
 * SequenceNumber or without the table's keys; every other record gets a line.
 */
export function describeRecord(record: DynamoDBRecord): RecordLine {
  if (!isObject(record)) throw new UnidentifiedRecordError(`the record is not an object: ${describeValue(record)}`);
  const stream = record.dynamodb as unknown;
  if (!isObject(stream)) throw new UnidentifiedRecordError('the record has no dynamodb section');
  const sequenceNumber = sequenceNumberOf(record);
  if (sequenceNumber === '') {
    throw new UnidentifiedRecordError(`dynamodb.SequenceNumber must be a non-empty string, got ${describeValue(stream.SequenceNumber)}`);
  }
  if (!isObject(stream.Keys)) throw new UnidentifiedRecordError('dynamodb.Keys is missing');
  const keys = stream.Keys as RawImage;
  const head = present([
    ['eventName', record.eventName],
    ['eventID', eventIdOf(record)],
    ['sequenceNumber', sequenceNumber],
    ['approximateCreationTime', creationTime(stream.ApproximateCreationDateTime)],
    ['partition_key', keyOf(keys, 'partition_key')],
    ['sort_key', keyOf(keys, 'sort_key')],
  ]);

  const eventName = record.eventName as unknown;
  if (eventName !== 'INSERT' && eventName !== 'MODIFY' && eventName !== 'REMOVE') {
    return { level: 'warn', message: 'unknown stream event', fields: { ...head, problem: `eventName ${describeValue(eventName)} is not INSERT, MODIFY or REMOVE` } };
  }
  const name: EventName = eventName;
  const newImage = isObject(stream.NewImage) ? (stream.NewImage as RawImage) : undefined;
  const oldImage = isObject(stream.OldImage) ? (stream.OldImage as RawImage) : undefined;
  const needed = name === 'INSERT' ? ['NewImage'] : name === 'REMOVE' ? ['OldImage'] : ['OldImage', 'NewImage'];
  const missing = needed.filter((which) => (which === 'NewImage' ? newImage : oldImage) === undefined);
  const shown = name === 'REMOVE' ? oldImage : newImage;
  const fields: Record<string, unknown> = { ...head, ...(shown ? imageFields(shown) : {}) };
  if (name === 'MODIFY' && oldImage && newImage) fields.changes = changesOf(oldImage, newImage);
  if (missing.length > 0) {
    fields.problem = `dynamodb.${missing.join(' and dynamodb.')} missing (the stream must use NEW_AND_OLD_IMAGES)`;
    return { level: 'warn', message: MESSAGES[name], fields };
  }
  return { level: 'info', message: MESSAGES[name], fields };
}
