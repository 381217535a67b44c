// Writes an image exactly the way the original boto3 script upload_image.py does: the object
// with s3.upload_file (one PutObject for a small file: no user metadata, no sha256, no content
// type, so its ETag is the plain MD5 of the bytes), then table.put_item with only the nine
// attributes it knew and a microsecond uploaded_at (datetime.utcnow().isoformat() + 'Z').
import { randomInt, randomUUID } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { LOCAL_CREDENTIALS } from '../../src/local/stack.ts';
import type { CatalogueItem, ImageKey } from '../../src/model.ts';

/** The item as upload_image.py writes it: the two keys and these seven attributes, nothing more. */
export type LegacyItem = ImageKey & Required<Pick<CatalogueItem, 'image_id' | 'animal' | 's3_bucket' | 's3_key' | 'filename' | 'content_type' | 'uploaded_at'>>;

export interface LegacyTarget {
  /** s3rver and DynamoDB Local endpoints (a TestStack has both). */
  s3Endpoint: string;
  dynamodbEndpoint: string;
  bucket: string;
  table: string;
}

export interface LegacyImage {
  animal: string;
  filename: string;
  body: Buffer;
  /** Default: now, with microseconds. */
  uploadedAt?: string;
  imageId?: string;
}

/** Python's isoformat() of a UTC datetime: six fraction digits, "Z" appended by the script. */
export function microsecondTimestamp(at = new Date()): string {
  return at.toISOString().replace(/\.(\d{3})Z$/, (_m, ms: string) => `.${ms}${String(randomInt(0, 1000)).padStart(3, '0')}Z`);
}

export async function putLegacyItem(target: LegacyTarget, image: LegacyImage): Promise<LegacyItem> {
  const imageId = image.imageId ?? randomUUID();
  const uploadedAt = image.uploadedAt ?? microsecondTimestamp();
  const key = `animals/${image.animal}/${uploadedAt.slice(0, 10)}/${imageId}-${image.filename}`;
  const credentials = { accessKeyId: LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY };
  const s3 = new S3Client({ region: 'us-east-1', endpoint: target.s3Endpoint, forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
  const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: target.dynamodbEndpoint, credentials });
  try {
    await s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: image.body, ContentLength: image.body.length }));
    const item: LegacyItem = {
      partition_key: `ANIMAL#${image.animal}`,
      sort_key: `IMG#${uploadedAt}#${imageId}`,
      image_id: imageId,
      animal: image.animal,
      s3_bucket: target.bucket,
      s3_key: key,
      filename: image.filename,
      content_type: 'image/png',
      uploaded_at: uploadedAt,
    };
    await dynamo.send(new PutItemCommand({ TableName: target.table, Item: marshall(item) }));
    return item;
  } finally {
    s3.destroy();
    dynamo.destroy();
  }
}

/** Deletes a legacy item by its keys, as the original delete script's `table.delete_item`. */
export async function deleteLegacyItem(target: LegacyTarget, item: ImageKey): Promise<void> {
  const credentials = { accessKeyId: LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY };
  const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: target.dynamodbEndpoint, credentials });
  try {
    await dynamo.send(new DeleteItemCommand({ TableName: target.table, Key: marshall({ partition_key: item.partition_key, sort_key: item.sort_key }) }));
  } finally {
    dynamo.destroy();
  }
}
