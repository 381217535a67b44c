// Pure: a record as the DynamoDB Streams API returns it (through the SDK) → the record as
// Lambda's event source mapping hands it to a function. The differences are Lambda's:
// ApproximateCreationDateTime is epoch seconds (the SDK gives a Date), binary attributes are
// base64 strings (the SDK gives bytes), and every record carries eventSourceARN.
import type { AttributeValue as SdkAttributeValue, _Record as SdkRecord } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBRecord, StreamRecord } from 'aws-lambda';

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function toLambdaAttribute(v: SdkAttributeValue): AttributeValue {
  if (v.S !== undefined) return { S: v.S };
  if (v.N !== undefined) return { N: v.N };
  if (v.B !== undefined) return { B: toBase64(v.B) };
  if (v.SS !== undefined) return { SS: v.SS };
  if (v.NS !== undefined) return { NS: v.NS };
  if (v.BS !== undefined) return { BS: v.BS.map(toBase64) };
  if (v.M !== undefined) return { M: toLambdaImage(v.M) };
  if (v.L !== undefined) return { L: v.L.map(toLambdaAttribute) };
  if (v.NULL !== undefined) return { NULL: v.NULL };
  if (v.BOOL !== undefined) return { BOOL: v.BOOL };
  throw new TypeError(`unknown DynamoDB attribute type: ${JSON.stringify(Object.keys(v))}`);
}

export function toLambdaImage(image: Record<string, SdkAttributeValue>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(image)) out[name] = toLambdaAttribute(value);
  return out;
}

export function toLambdaRecord(r: SdkRecord, streamArn: string): DynamoDBRecord {
  const d = r.dynamodb ?? {};
  const stream: StreamRecord = {};
  if (d.ApproximateCreationDateTime !== undefined) stream.ApproximateCreationDateTime = d.ApproximateCreationDateTime.getTime() / 1000;
  if (d.Keys !== undefined) stream.Keys = toLambdaImage(d.Keys);
  if (d.NewImage !== undefined) stream.NewImage = toLambdaImage(d.NewImage);
  if (d.OldImage !== undefined) stream.OldImage = toLambdaImage(d.OldImage);
  if (d.SequenceNumber !== undefined) stream.SequenceNumber = d.SequenceNumber;
  if (d.SizeBytes !== undefined) stream.SizeBytes = d.SizeBytes;
  if (d.StreamViewType !== undefined) stream.StreamViewType = d.StreamViewType;
  const out: DynamoDBRecord = {
    eventID: r.eventID,
    eventName: r.eventName,
    eventVersion: r.eventVersion,
    eventSource: r.eventSource,
    awsRegion: r.awsRegion,
    dynamodb: stream,
    eventSourceARN: streamArn,
  };
  if (r.userIdentity !== undefined) out.userIdentity = { ...r.userIdentity };
  return out;
}

export function sequenceNumberOf(r: { dynamodb?: { SequenceNumber?: string } | undefined }): string {
  const seq = r.dynamodb?.SequenceNumber;
  if (typeof seq !== 'string' || seq === '') throw new TypeError('a stream record without dynamodb.SequenceNumber');
  return seq;
}

/** Sequence numbers are decimal strings of up to 40 digits: compare them as integers. */
export function compareSequenceNumbers(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
