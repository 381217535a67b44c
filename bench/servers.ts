// The servers a bench run talks to: DynamoDB Local (a JVM) and s3rver in a process of its own,
// so that the client's CPU and RSS are measured without the emulators' (and theirs without
// the client's). Each timed run gets a fresh bucket and a fresh table in a fresh DynamoDB
// Local (see fresh()): with streams on, every item of another table's stream (even of a
// deleted table) makes DynamoDB Local's writes dearer — bench/probe-dynamodb.ts --pre-tables 1
// measured 5.9 ms of JVM CPU per item in a second table against 1.3 ms in the first.
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import path from 'node:path';
import { resolveConfig } from '../src/config.ts';
import { startDynamoLocal, type RunningDynamoLocal } from '../src/local/dynamodb-local.ts';
import { localEnv } from '../src/local/stack.ts';
import { makeDocumentClient, makeDynamoClient, makeS3Client } from '../src/stores/aws.ts';
import { DynamoItemStore } from '../src/stores/dynamodb.ts';
import { freePort } from '../tests/helpers/stack.ts';
import { startServerScript, type ServerChild } from './child.ts';

export interface BenchServers {
  /** Removed by the bench at the end: state dirs of the runs go here too. */
  dataDir: string;
  s3Endpoint: string;
  dynamodbEndpoint: string;
  s3Pid: number;
  /** The JVM's pid now (fresh() starts a new one). */
  dynamodbPid(): number;
  /** Endpoints and credentials. */
  env: Record<string, string>;
  /** A new bucket and a new (empty) table; drop() removes the table again. */
  fresh(name: string, opts?: { table?: boolean }): Promise<{ bucket: string; table: string; drop(): Promise<void> }>;
  stop(): Promise<void>;
}

export async function startBenchServers(opts: { dataDir: string; dynamodb: 'disk' | 'memory' }): Promise<BenchServers> {
  const dynamoPort = await freePort();
  const startDynamo = (): Promise<RunningDynamoLocal> =>
    startDynamoLocal({ port: dynamoPort, dataDir: opts.dynamodb === 'memory' ? null : path.join(opts.dataDir, `dynamodb-${Date.now()}`), scratchDir: path.join(opts.dataDir, 'jvm-tmp') });
  const [firstDynamo, s3]: [RunningDynamoLocal, ServerChild] = await Promise.all([
    startDynamo(),
    startServerScript(path.join(import.meta.dirname, 'serve-s3.ts'), [String(await freePort()), path.join(opts.dataDir, 's3'), 'bench']),
  ]);
  let dynamo = firstDynamo;
  const env = localEnv(s3.endpoint, dynamo.endpoint);
  Object.assign(process.env, env);
  const config = resolveConfig({ env: { ...process.env, ...env }, flags: {} });
  const s3Client = makeS3Client(config);
  const ddb = makeDynamoClient(config);
  return {
    s3Endpoint: s3.endpoint, dynamodbEndpoint: dynamo.endpoint, dataDir: opts.dataDir, s3Pid: s3.child.pid!, dynamodbPid: () => dynamo.pid, env,
    async fresh(name, o = {}) {
      const bucket = name.toLowerCase();
      const table = name;
      await s3Client.send(new CreateBucketCommand({ Bucket: bucket }));
      if (o.table === false) return { bucket, table, drop: async () => undefined };
      // Same port: a delay proxy in front of it keeps working.
      await dynamo.stop();
      dynamo = await startDynamo();
      await new DynamoItemStore(ddb, makeDocumentClient(ddb), table).ensureTable();
      return { bucket, table, drop: async () => void (await ddb.send(new DeleteTableCommand({ TableName: table }))) };
    },
    async stop() {
      s3Client.destroy();
      ddb.destroy();
      await Promise.allSettled([dynamo.stop(), s3.stop()]);
    },
  };
}
