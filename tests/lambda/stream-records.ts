// DynamoDB stream records shaped like the ones Lambda delivers for the AnimalImages table
// (AttributeValue form, epoch-seconds creation time, NEW_AND_OLD_IMAGES).
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';

export const STREAM_ARN = 'arn:aws:dynamodb:eu-west-1:123456789012:table/AnimalImages/stream/2026-02-19T16:00:00.000';
export const IMAGE_ID = 'c9641f50-3b1e-4c8e-9f0a-2d4b6e8f1a3c';
export const UPLOADED_AT = '2026-02-19T16:31:30.970Z';
/** 2026-02-19T16:31:31Z, the second after UPLOADED_AT. */
export const CREATED_EPOCH_SECONDS = 1771518691;

export interface ImageVersion {
  version: number;
  sizeBytes: number;
  sha256: string;
  updatedAt: string;
}

export const V1: ImageVersion = { version: 1, sizeBytes: 48213, sha256: 'a'.repeat(64), updatedAt: UPLOADED_AT };
export const V2: ImageVersion = { version: 2, sizeBytes: 51002, sha256: 'b'.repeat(64), updatedAt: '2026-02-19T17:02:11.004Z' };

export function keys(uploadedAt = UPLOADED_AT): Record<string, AttributeValue> {
  return {
    partition_key: { S: 'ANIMAL#dog' },
    sort_key: { S: `IMG#${uploadedAt}#${IMAGE_ID}` },
  };
}

/** The attributes every writer of the table sets, the original boto3 scripts included. */
function commonAttributes(uploadedAt: string): Record<string, AttributeValue> {
  return {
    ...keys(uploadedAt),
    image_id: { S: IMAGE_ID },
    animal: { S: 'dog' },
    s3_bucket: { S: 'animal-images' },
    s3_key: { S: `animals/dog/2026-02-19/${IMAGE_ID}-rex.png` },
    filename: { S: 'rex.png' },
    content_type: { S: 'image/png' },
    uploaded_at: { S: uploadedAt },
  };
}

export function image(v: ImageVersion): Record<string, AttributeValue> {
  return {
    ...commonAttributes(UPLOADED_AT),
    size_bytes: { N: String(v.sizeBytes) },
    sha256: { S: v.sha256 },
    width: { N: '640' },
    height: { N: '480' },
    source_host: { S: 'cam-01' },
    source_path: { S: 'dog/rex.png' },
    version: { N: String(v.version) },
    updated_at: { S: v.updatedAt },
  };
}

type EventName = 'INSERT' | 'MODIFY' | 'REMOVE';

export function streamRecord(eventName: EventName, seq: string, images: { newImage?: ImageVersion; oldImage?: ImageVersion }): DynamoDBRecord {
  const newImage = images.newImage ? image(images.newImage) : undefined;
  const oldImage = images.oldImage ? image(images.oldImage) : undefined;
  return {
    eventID: `7de3041dd709b024af6f29e4fa13d34${seq.slice(-1)}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'eu-west-1',
    dynamodb: {
      ApproximateCreationDateTime: CREATED_EPOCH_SECONDS,
      Keys: keys(),
      ...(newImage ? { NewImage: newImage } : {}),
      ...(oldImage ? { OldImage: oldImage } : {}),
      SequenceNumber: seq,
      SizeBytes: 812,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: STREAM_ARN,
  };
}

export const insertRecord = (seq = '111100000000000000001'): DynamoDBRecord => streamRecord('INSERT', seq, { newImage: V1 });
export const modifyRecord = (seq = '111200000000000000002'): DynamoDBRecord => streamRecord('MODIFY', seq, { oldImage: V1, newImage: V2 });
export const removeRecord = (seq = '111300000000000000003'): DynamoDBRecord => streamRecord('REMOVE', seq, { oldImage: V2 });

/** An item as the original upload_image.py writes it: nine attributes, a microsecond timestamp. */
export const LEGACY_UPLOADED_AT = '2026-02-19T16:31:30.970876Z';
export function legacyImage(): Record<string, AttributeValue> {
  return commonAttributes(LEGACY_UPLOADED_AT);
}

/** A record of a legacy item: its keys, and the legacy image as NewImage and/or OldImage. */
export function legacyRecord(eventName: EventName, seq: string, images: { newImage?: Record<string, AttributeValue>; oldImage?: Record<string, AttributeValue> }): DynamoDBRecord {
  const base = streamRecord(eventName, seq, {});
  return {
    ...base,
    dynamodb: {
      ...base.dynamodb,
      Keys: keys(LEGACY_UPLOADED_AT),
      ...(images.newImage ? { NewImage: images.newImage } : {}),
      ...(images.oldImage ? { OldImage: images.oldImage } : {}),
    },
  };
}
