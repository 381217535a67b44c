// The stream consumer: one structured JSON log line per DynamoDB stream record of the
// AnimalImages table. Deployed alone (bundled by esbuild), so it never imports from src/:
// it reads the images itself with @aws-sdk/util-dynamodb.
//
// Shape (Powertools' processPartialResponse): a loop over a pure per-record function.
// A record that cannot be described is reported by its SequenceNumber in
// batchItemFailures; the other records of the batch are still logged. Lambda then resumes
// from the lowest failed sequence number, so records after it may be delivered again:
// every line carries the eventID, which is what a reader deduplicates on.
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { isDeepStrictEqual } from 'node:util';

export interface BatchResponse { batchItemFailures: { itemIdentifier: string }[] }

/** Receives one JSON line, without a trailing newline. */
export type LineSink = (line: string) => void;

const EVENT_NAMES = ['INSERT', 'MODIFY', 'REMOVE'] as const;
type EventName = (typeof EVENT_NAMES)[number];

const MESSAGES: Record<EventName, string> = {
  INSERT: 'image inserted',
  MODIFY: 'image modified',
  REMOVE: 'image removed',
};

/** Thrown by describeRecord for a record it cannot describe; the message says what is wrong. */
export class MalformedRecordError extends Error {
  override name = 'MalformedRecordError';
}

type Image = Record<string, unknown>;

function readImage(raw: unknown, what: string): Image {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MalformedRecordError(`dynamodb.${what} is missing (the stream must use NEW_AND_OLD_IMAGES)`);
  }
  try {
    return unmarshall(raw as Record<string, AttributeValue>);
  } catch (err) {
    throw new MalformedRecordError(`dynamodb.${what} is not in DynamoDB AttributeValue form: ${(err as Error).message}`);
  }
}

function stringField(image: Image, name: string, what: string): string {
  const value = image[name];
  if (typeof value !== 'string' || value === '') {
    throw new MalformedRecordError(`${what}.${name} must be a non-empty string, got ${describeValue(value)}`);
  }
  return value;
}

function numberField(image: Image, name: string, what: string): number {
  const value = image[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new MalformedRecordError(`${what}.${name} must be a finite number, got ${describeValue(value)}`);
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'bigint') return `a number too large for JavaScript (${value})`;
  if (typeof value === 'number') return String(value);
  return `${typeof value} ${JSON.stringify(value)}`.slice(0, 120);
}

/**
 * ApproximateCreationDateTime is epoch seconds in Lambda's events; the SDK's
 * DynamoDBStreams client (used by the local stream runner) gives a Date instead.
 */
function creationTime(raw: unknown): string | null {
  if (raw === undefined || raw === null) return null;
  const ms = raw instanceof Date ? raw.getTime() : typeof raw === 'number' ? raw * 1000 : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new MalformedRecordError(`dynamodb.ApproximateCreationDateTime must be epoch seconds, got ${describeValue(raw)}`);
  }
  return new Date(ms).toISOString();
}

/** The fields every line about an image carries, taken from the image the event is about. */
function imageFields(image: Image, what: string): Record<string, unknown> {
  return {
    animal: stringField(image, 'animal', what),
    image_id: stringField(image, 'image_id', what),
    filename: stringField(image, 'filename', what),
    s3_key: stringField(image, 's3_key', what),
    size_bytes: numberField(image, 'size_bytes', what),
    version: numberField(image, 'version', what),
  };
}

/** What a MODIFY changed: content (sha256, size), version, and the names of all changed attributes. */
function changesOf(oldImage: Image, newImage: Image): Record<string, unknown> {
  const names = [...new Set([...Object.keys(oldImage), ...Object.keys(newImage)])].sort();
  return {
    sha256: { old: stringField(oldImage, 'sha256', 'OldImage'), new: stringField(newImage, 'sha256', 'NewImage') },
    size_bytes: { old: numberField(oldImage, 'size_bytes', 'OldImage'), new: numberField(newImage, 'size_bytes', 'NewImage') },
    version: { old: numberField(oldImage, 'version', 'OldImage'), new: numberField(newImage, 'version', 'NewImage') },
    attributes: names.filter((n) => !isDeepStrictEqual(oldImage[n], newImage[n])),
  };
}

/**
 * Pure: one stream record → the fields of its log line. Throws MalformedRecordError naming
 * the problem for a record it cannot describe (missing keys or images, unknown eventName,
 * attributes of the wrong type).
 */
export function describeRecord(record: DynamoDBRecord): Record<string, unknown> {
  if (record === null || typeof record !== 'object') throw new MalformedRecordError('record is not an object');
  const eventName = record.eventName as unknown;
  if (!EVENT_NAMES.includes(eventName as EventName)) {
    throw new MalformedRecordError(`unknown eventName ${describeValue(eventName)}: expected INSERT, MODIFY or REMOVE`);
  }
  const name = eventName as EventName;
  if (record.eventSource !== undefined && record.eventSource !== 'aws:dynamodb') {
    throw new MalformedRecordError(`eventSource is ${describeValue(record.eventSource)}, not aws:dynamodb`);
  }
  if (typeof record.eventID !== 'string' || record.eventID === '') {
    throw new MalformedRecordError(`eventID must be a non-empty string, got ${describeValue(record.eventID)}`);
  }
  const stream = record.dynamodb;
  if (stream === null || typeof stream !== 'object') throw new MalformedRecordError('the record has no dynamodb section');
  if (typeof stream.SequenceNumber !== 'string' || stream.SequenceNumber === '') {
    throw new MalformedRecordError(`dynamodb.SequenceNumber must be a non-empty string, got ${describeValue(stream.SequenceNumber)}`);
  }
  const keys = readImage(stream.Keys, 'Keys');
  const head = {
    level: 'info',
    msg: MESSAGES[name],
    eventName: name,
    eventID: record.eventID,
    sequenceNumber: stream.SequenceNumber,
    approximateCreationTime: creationTime(stream.ApproximateCreationDateTime),
    partition_key: stringField(keys, 'partition_key', 'Keys'),
    sort_key: stringField(keys, 'sort_key', 'Keys'),
  };
  switch (name) {
    case 'INSERT':
      return { ...head, ...imageFields(readImage(stream.NewImage, 'NewImage'), 'NewImage') };
    case 'REMOVE':
      return { ...head, ...imageFields(readImage(stream.OldImage, 'OldImage'), 'OldImage') };
    case 'MODIFY': {
      const newImage = readImage(stream.NewImage, 'NewImage');
      const oldImage = readImage(stream.OldImage, 'OldImage');
      return { ...head, ...imageFields(newImage, 'NewImage'), changes: changesOf(oldImage, newImage) };
    }
  }
}

function sequenceNumberOf(record: DynamoDBRecord): string {
  const seq = (record as { dynamodb?: { SequenceNumber?: unknown } } | null)?.dynamodb?.SequenceNumber;
  return typeof seq === 'string' ? seq : '';
}

function eventIdOf(record: DynamoDBRecord): string | null {
  const id = (record as { eventID?: unknown } | null)?.eventID;
  return typeof id === 'string' ? id : null;
}

/**
 * The handler, writing through `sink`. Each record is described and logged on its own; a
 * failure (malformed record, or the sink throwing) is logged as an error line and reported by
 * SequenceNumber. A record without a SequenceNumber is reported with an empty identifier,
 * which Lambda treats as a failure of the whole batch: retrying is safer than skipping a
 * record nobody can name.
 */
export function createHandler(sink: LineSink): (event: DynamoDBStreamEvent) => Promise<BatchResponse> {
  return async (event) => {
    if (!event || !Array.isArray(event.Records)) {
      throw new TypeError(`expected a DynamoDB stream event with a Records array, got ${describeValue(event)}`);
    }
    const batchItemFailures: BatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        sink(JSON.stringify(describeRecord(record)));
      } catch (err) {
        const sequenceNumber = sequenceNumberOf(record);
        batchItemFailures.push({ itemIdentifier: sequenceNumber });
        try {
          sink(JSON.stringify({
            level: 'error',
            msg: 'stream record not processed',
            eventID: eventIdOf(record),
            sequenceNumber: sequenceNumber || null,
            reason: err instanceof Error ? err.message : String(err),
          }));
        } catch {
          // The sink itself is failing; the record is already reported for a retry.
        }
      }
    }
    return { batchItemFailures };
  };
}

/** In AWS, console.log goes to the function's CloudWatch log group. */
export const handler: (event: DynamoDBStreamEvent) => Promise<BatchResponse> = createHandler((line) => console.log(line));
