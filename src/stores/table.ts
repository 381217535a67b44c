// The table: created with its key schema and stream if missing, waited for until ACTIVE, and
// described as it really is afterwards.
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';

/** What the table really has, read back with DescribeTable (a store may ignore what was asked). */
export interface TableReport {
  status: 'created' | 'exists';
  /** The stream's view type, or null when the table has no stream. */
  stream: string | null;
}

export async function ensureTable(raw: DynamoDBClient, table: string, opts: { timeoutMs?: number } = {}): Promise<TableReport> {
  let status: TableReport['status'] = 'exists';
  try {
    await raw.send(new DescribeTableCommand({ TableName: table }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException) && (err as Error).name !== 'ResourceNotFoundException') throw err;
    try {
      await raw.send(new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [
          { AttributeName: 'partition_key', AttributeType: 'S' },
          { AttributeName: 'sort_key', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'partition_key', KeyType: 'HASH' },
          { AttributeName: 'sort_key', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }));
      status = 'created';
    } catch (createErr) {
      if ((createErr as Error).name !== 'ResourceInUseException') throw createErr;
    }
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  for (;;) {
    const d = await raw.send(new DescribeTableCommand({ TableName: table }));
    if (d.Table?.TableStatus === 'ACTIVE') {
      // Read back, not assumed: dynalite, say, accepts the stream specification and ignores it.
      const spec = d.Table.StreamSpecification;
      return { status, stream: spec?.StreamEnabled ? (spec.StreamViewType ?? 'unknown view type') : null };
    }
    if (Date.now() > deadline) throw new Error(`table ${table} did not become ACTIVE within ${opts.timeoutMs ?? 120_000} ms (status ${d.Table?.TableStatus})`);
    await sleep(500);
  }
}
