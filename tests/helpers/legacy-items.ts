// Writes a picture the way the original boto3 script `upload_image.py` does, so tests can
// check that every part of animal-sync handles items it did not write (DESIGN.md, "Items the
// daemon did not write"): `s3.upload_file` with only a ContentType (no sha256 metadata),
// then `table.put_item` with nine attributes and no size_bytes, sha256, width/height,
// version, source_host, source_path or updated_at.
import { randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Config } from '../../src/config.ts';
import type { ImageItem } from '../../src/model.ts';
import { makeDynamoClient, makeS3Client } from '../../src/stores/aws.ts';

/** What upload_image.py puts into the table: nine of the attributes animal-sync writes. */
export type LegacyItem = Pick<ImageItem, 'partition_key' | 'sort_key' | 'image_id' | 'animal' | 's3_bucket' | 's3_key' | 'filename' | 'content_type' | 'uploaded_at'>;

/**
 * Python's `datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")`: microseconds,
 * and no fraction at all when they are zero (isoformat leaves it out).
 */
export function pythonIsoTimestamp(at: Date, micros: number): string {
  const base = at.toISOString().slice(0, 19);
  return micros === 0 ? `${base}Z` : `${base}.${String(micros).padStart(6, '0')}Z`;
}

/** mimetypes.guess_type for the names tests use; the script falls back to octet-stream. */
function guessContentType(filename: string): string {
  const ext = path.extname(filename).toLowerCase();
  return ext === '.png' ? 'image/png' : ext === '.jpg' || ext === '.jpeg' ? 'image/jpeg' : 'application/octet-stream';
}

export interface PutLegacyItemOptions {
  config: Pick<Config, 'bucket' | 'table'> & Parameters<typeof makeS3Client>[0];
  /** The picture to upload, as upload_image.py's --file. */
  file: string;
  /** As upload_image.py's --animal. */
  animal: string;
  /** The script's `datetime.now(timezone.utc)`; default now. */
  now?: Date;
  /** Its microseconds (a Date has milliseconds only); default: those of `now` plus a random part. */
  micros?: number;
}

/** Uploads `file` and writes its item exactly as upload_image.py does; returns the item. */
export async function putLegacyItem(opts: PutLegacyItemOptions): Promise<LegacyItem> {
  const now = opts.now ?? new Date();
  const imageId = randomUUID();
  const timestamp = pythonIsoTimestamp(now, opts.micros ?? now.getUTCMilliseconds() * 1000 + randomInt(1, 1000));
  const filename = path.basename(opts.file);
  const contentType = guessContentType(filename);
  const s3Key = `animals/${opts.animal}/${now.toISOString().slice(0, 10)}/${imageId}-${filename}`;
  const s3 = makeS3Client(opts.config);
  const dynamodb = makeDynamoClient(opts.config);
  try {
    await s3.send(new PutObjectCommand({ Bucket: opts.config.bucket, Key: s3Key, Body: readFileSync(opts.file), ContentType: contentType }));
    const item: LegacyItem = {
      partition_key: `ANIMAL#${opts.animal}`,
      sort_key: `IMG#${timestamp}#${imageId}`,
      image_id: imageId,
      animal: opts.animal,
      s3_bucket: opts.config.bucket,
      s3_key: s3Key,
      filename,
      content_type: contentType,
      uploaded_at: timestamp,
    };
    // boto3's resource layer (Table.put_item) writes every Python str as an S attribute.
    const attributes = Object.fromEntries(Object.entries(item).map(([k, v]) => [k, { S: v }]));
    await dynamodb.send(new PutItemCommand({ TableName: opts.config.table, Item: attributes }));
    return item;
  } finally {
    s3.destroy();
    dynamodb.destroy();
  }
}

/** Deletes a legacy item by its keys, as the original delete script's `table.delete_item`. */
export async function deleteLegacyItem(opts: Pick<PutLegacyItemOptions, 'config'>, item: Pick<LegacyItem, 'partition_key' | 'sort_key'>): Promise<void> {
  const dynamodb = makeDynamoClient(opts.config);
  try {
    await dynamodb.send(new DeleteItemCommand({
      TableName: opts.config.table,
      Key: { partition_key: { S: item.partition_key }, sort_key: { S: item.sort_key } },
    }));
  } finally {
    dynamodb.destroy();
  }
}
