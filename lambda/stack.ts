// The AWS side of animal-sync: the AnimalImages table with its stream, the image bucket, the
// stream-logging Lambda (lambda/handler.ts) and the daemon's least-privilege policy.
import { join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { StreamAlarms } from './alarms.ts';
import { daemonActions, OBJECT_KEY_PREFIX } from './daemon-permissions.ts';
import { STREAM_LOGGER } from './function-settings.ts';

const HERE = import.meta.dirname;
const REPO_ROOT = join(HERE, '..');

/** The stream mapping's tunables, exported so tests compare against one source. */
export const STREAM_MAPPING = {
  batchSize: 100,
  bisectBatchOnError: true,
  retryAttempts: 3,
  maxRecordAge: Duration.hours(24),
  parallelizationFactor: 1,
} as const;

export interface AnimalSyncStackProps extends StackProps {
  /** Table name; the daemon's default is AnimalImages (docs/architecture.md). */
  readonly tableName?: string;
  readonly logRetention?: logs.RetentionDays;
  /** Days an overwritten or deleted object's old version is kept, to undo a mistake; default 30. */
  readonly noncurrentVersionDays?: number;
  /** Lines below this level are dropped by Lambda (the handler's Logger reads it too); default INFO. */
  readonly applicationLogLevel?: lambda.ApplicationLogLevel;
}

export class AnimalSyncStack extends Stack {
  readonly table: dynamodb.Table;
  readonly bucket: s3.Bucket;
  readonly streamLogger: NodejsFunction;
  readonly daemonPolicy: iam.ManagedPolicy;
  readonly alarms: StreamAlarms;

  constructor(scope: Construct, id: string, props: AnimalSyncStackProps = {}) {
    super(scope, id, props);

    // Table and bucket hold the catalogue: they stay when the stack is destroyed.
    this.table = new dynamodb.Table(this, 'Images', {
      tableName: props.tableName ?? 'AnimalImages',
      partitionKey: { name: 'partition_key', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sort_key', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new s3.Bucket(this, 'ImageBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // A wrong delete or overwrite (by the daemon, a script or a person) can be undone for a
      // while: the old version stays, then expires so that storage does not grow forever.
      versioned: true,
      lifecycleRules: [
        // A daemon killed mid-upload leaves parts that are billed but invisible; S3 drops them.
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 30),
          expiredObjectDeleteMarker: true,
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const logGroup = new logs.LogGroup(this, 'StreamLoggerLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Records the mapping gave up on (retries or age exhausted) land here, as metadata
    // pointing at the shard and sequence numbers.
    const failedRecords = new sqs.Queue(this, 'StreamFailures', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    // An explicit role instead of AWSLambdaBasicExecutionRole: writing to its own log group is
    // all the function does besides reading the stream (granted by the event source below).
    const role = new iam.Role(this, 'StreamLoggerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'animal-sync stream logger: write its log group, read the table stream',
    });
    logGroup.grantWrite(role);

    this.streamLogger = new NodejsFunction(this, 'StreamLogger', {
      entry: join(HERE, 'handler.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: STREAM_LOGGER.memoryMB,
      timeout: Duration.seconds(STREAM_LOGGER.timeoutSeconds),
      role,
      logGroup,
      // JSON: the handler's Powertools lines arrive as they are, with no text prefix, and
      // Lambda filters them by their level (it sets AWS_LAMBDA_LOG_LEVEL for the Logger).
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: props.applicationLogLevel ?? lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      environment: { POWERTOOLS_SERVICE_NAME: STREAM_LOGGER.serviceName },
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      bundling: {
        // The locally installed esbuild, never Docker: synth works offline and in tests.
        forceDockerBundling: false,
        format: OutputFormat.CJS,
        // The handler is deployed alone: util-dynamodb goes into the bundle, at the version
        // the tests ran against, rather than whatever the runtime happens to ship.
        bundleAwsSDK: true,
        minify: false,
        sourceMap: false,
      },
    });

    this.streamLogger.addEventSource(new DynamoEventSource(this.table, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      ...STREAM_MAPPING,
      reportBatchItemFailures: true,
      onFailure: new SqsDlq(failedRecords),
    }));

    this.alarms = new StreamAlarms(this, 'StreamAlarms', { fn: this.streamLogger, failedRecords });

    this.daemonPolicy = new iam.ManagedPolicy(this, 'DaemonPolicy', {
      description: 'animal-sync daemon: only the S3 and DynamoDB calls its code makes (see lambda/daemon-permissions.ts)',
      statements: [
        new iam.PolicyStatement({
          sid: 'ImageObjects',
          actions: daemonActions('objects'),
          resources: [this.bucket.arnForObjects(`${OBJECT_KEY_PREFIX}*`)],
        }),
        new iam.PolicyStatement({
          sid: 'ImageBucket',
          actions: daemonActions('bucket'),
          resources: [this.bucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'ImageTable',
          actions: daemonActions('table'),
          resources: [this.table.tableArn],
        }),
      ],
    });

    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName, description: 'ANIMAL_SYNC_BUCKET' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'ANIMAL_SYNC_TABLE' });
    new CfnOutput(this, 'DaemonPolicyArn', { value: this.daemonPolicy.managedPolicyArn, description: 'attach to the role or user the daemon runs as' });
    new CfnOutput(this, 'StreamLoggerLogGroup', { value: logGroup.logGroupName, description: 'CloudWatch log group of the stream logger' });
    new CfnOutput(this, 'StreamFailuresQueueUrl', { value: failedRecords.queueUrl, description: 'stream records the logger gave up on' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn, description: 'subscribe to hear when the stream logger falls behind, fails or gives up on records' });

    this.acknowledgeNagFindings(failedRecords, role);
  }

  /**
   * The cdk-nag (AwsSolutions) findings this stack accepts, each with its reason. Every other
   * finding fails `cdk synth` (tests/lambda/stack.test.ts checks the remaining list is empty).
   */
  private acknowledgeNagFindings(failedRecords: sqs.Queue, role: iam.Role): void {
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'Server access logs would need a second bucket per deployment; every change the daemon makes is already recorded by the table stream and logged by the stream logger.',
    });
    Validations.of(failedRecords).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the on-failure destination of the stream mapping; a DLQ of the DLQ would only move the same records again.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'dynamodb:ListStreams (added by the DynamoDB event source) does not support resource-level permissions; every other stream action is limited to the table stream ARN.',
    });
    const bucketId = this.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    Validations.of(this.daemonPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${OBJECT_KEY_PREFIX}*]`,
      reason: `There is one object per image, so object permissions must name a key pattern; they are limited to the daemon's ${OBJECT_KEY_PREFIX} key prefix.`,
    });
  }
}
