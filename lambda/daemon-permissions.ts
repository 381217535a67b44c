// What the sync daemon may do in AWS, derived from what its code calls. Every AWS SDK
// operation imported by src/stores/*.ts appears exactly once below: either with the IAM
// permissions it needs, or as an init-only operation the daemon's policy leaves out.
// tests/lambda/daemon-permissions.test.ts parses src/stores and fails when the two drift.

/** What a permission applies to: objects under the key prefix, the bucket itself, or the table. */
export type DaemonResource = 'objects' | 'bucket' | 'table';

export interface Grant {
  readonly on: DaemonResource;
  readonly actions: readonly string[];
}

/** The daemon only writes keys of the form animals/<animal>/<date>/<image_id>-<name> (src/model.ts). */
export const OBJECT_KEY_PREFIX = 'animals/';

/** SDK operation (command class, or lib-storage's Upload) → IAM permissions. */
export const DAEMON_OPERATIONS: Readonly<Record<string, readonly Grant[]>> = {
  // lib-storage Upload: PutObject for small files; CreateMultipartUpload, UploadPart and
  // CompleteMultipartUpload (all authorised as s3:PutObject) above the part size; and
  // AbortMultipartUpload when a multipart upload fails (leavePartsOnError: false).
  Upload: [{ on: 'objects', actions: ['s3:PutObject', 's3:AbortMultipartUpload'] }],
  // S3ObjectStore.put() sends a body already in memory (up to the part size) as one PutObject.
  PutObjectCommand: [{ on: 'objects', actions: ['s3:PutObject'] }],
  GetObjectCommand: [{ on: 'objects', actions: ['s3:GetObject'] }],
  // HeadObject is authorised as s3:GetObject. Without s3:ListBucket on the bucket, S3 answers
  // a HEAD of a missing key with 403 instead of 404, and ObjectStore.head() (which maps 404
  // to null) would throw: the daemon's /healthz store probe HEADs animals/.health-probe, a key
  // that never exists, and would report the stores unreachable forever.
  HeadObjectCommand: [
    { on: 'objects', actions: ['s3:GetObject'] },
    { on: 'bucket', actions: ['s3:ListBucket'] },
  ],
  DeleteObjectCommand: [{ on: 'objects', actions: ['s3:DeleteObject'] }],
  // ListObjects (v1, with a Marker) finds the animal folders for `list` and `restore`; the
  // same permission as ListObjectsV2.
  ListObjectsCommand: [{ on: 'bucket', actions: ['s3:ListBucket'] }],
  PutCommand: [{ on: 'table', actions: ['dynamodb:PutItem'] }],
  GetCommand: [{ on: 'table', actions: ['dynamodb:GetItem'] }],
  QueryCommand: [{ on: 'table', actions: ['dynamodb:Query'] }],
  DeleteCommand: [{ on: 'table', actions: ['dynamodb:DeleteItem'] }],
  BatchWriteCommand: [{ on: 'table', actions: ['dynamodb:BatchWriteItem'] }],
  // TransactWriteItems has no action of its own: each Put in it is authorised as PutItem.
  TransactWriteCommand: [{ on: 'table', actions: ['dynamodb:PutItem'] }],
  // Read-only; ensureTable() polls it until the table is ACTIVE.
  DescribeTableCommand: [{ on: 'table', actions: ['dynamodb:DescribeTable'] }],
};

/**
 * Operations in src/stores that only `animal-sync init` (and `animal-sync local`) use. Creating
 * the bucket and the table is init's job, run once with administrator rights (or done by this
 * stack); the daemon never needs it, so its policy does not allow it.
 */
export const INIT_ONLY_OPERATIONS: Readonly<Record<string, string>> = {
  CreateBucketCommand: 'ensureBucket() creates the bucket (init)',
  HeadBucketCommand: 'ensureBucket() checks whether the bucket exists (init)',
  CreateTableCommand: 'ensureTable() creates the table (init)',
};

/** The sorted, distinct actions the daemon needs on one kind of resource. */
export function daemonActions(on: DaemonResource): string[] {
  const actions = Object.values(DAEMON_OPERATIONS).flat().filter((g) => g.on === on).flatMap((g) => g.actions);
  return [...new Set(actions)].sort();
}
