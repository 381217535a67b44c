import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { onlyResource, synthStack } from './synth.ts';
import { insertRecord, modifyRecord } from './stream-records.ts';

const synth = synthStack();
after(() => synth.cleanup());
const { stack, template } = synth;

const ref = (resourceType: string): { Ref: string } => ({ Ref: onlyResource(template, resourceType).id });
const getAtt = (resourceType: string, attr: string): { 'Fn::GetAtt': [string, string] } => ({ 'Fn::GetAtt': [onlyResource(template, resourceType).id, attr] });

describe('table', () => {
  test('AnimalImages: partition_key/sort_key strings, on demand, NEW_AND_OLD_IMAGES stream, PITR, retained', () => {
    const { resource } = onlyResource(template, 'AWS::DynamoDB::Table');
    assert.deepEqual(resource.Properties, {
      TableName: 'AnimalImages',
      KeySchema: [
        { AttributeName: 'partition_key', KeyType: 'HASH' },
        { AttributeName: 'sort_key', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'partition_key', AttributeType: 'S' },
        { AttributeName: 'sort_key', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    assert.equal(resource.DeletionPolicy, 'Retain');
  });
});

describe('bucket', () => {
  test('blocks public access, S3-managed encryption, retained', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
    assert.equal(onlyResource(template, 'AWS::S3::Bucket').resource.DeletionPolicy, 'Retain');
  });

  test('versioned, old versions expire after 30 days, incomplete multipart uploads are aborted after 1 day', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          { Id: 'abort-incomplete-multipart-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
          Match.objectLike({ Id: 'expire-noncurrent-versions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 }, ExpiredObjectDeleteMarker: true }),
        ]),
      },
    });
  });

  test('its policy denies every request not made over TLS', () => {
    const bucketArn = getAtt('AWS::S3::Bucket', 'Arn');
    const { resource } = onlyResource(template, 'AWS::S3::BucketPolicy');
    assert.deepEqual(resource.Properties.Bucket, ref('AWS::S3::Bucket'));
    assert.deepEqual((resource.Properties.PolicyDocument as { Statement: unknown[] }).Statement, [{
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      Resource: [bucketArn, { 'Fn::Join': ['', [bucketArn, '/*']] }],
    }]);
  });
});

describe('stream logger', () => {
  test('Node 24, bundled handler, explicit log group with retention', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Role: getAtt('AWS::IAM::Role', 'Arn'),
      MemorySize: 256,
      Timeout: 30,
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('logs in JSON format with an application log level, into its log group; Powertools service name', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'WARN', LogGroup: ref('AWS::Logs::LogGroup') },
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'animal-sync-stream-logger' }) },
    });
  });

  test('the event source mapping: TRIM_HORIZON, batch, bisect, retries, max age, partial batch responses, SQS on failure', () => {
    const { resource } = onlyResource(template, 'AWS::Lambda::EventSourceMapping');
    assert.deepEqual(resource.Properties, {
      FunctionName: ref('AWS::Lambda::Function'),
      EventSourceArn: getAtt('AWS::DynamoDB::Table', 'StreamArn'),
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 86400,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: getAtt('AWS::SQS::Queue', 'Arn') } },
    });
  });

  test('the failure queue is encrypted and TLS-only', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
  });

  test('its role: no managed policies; its log group, the table stream and the failure queue only', () => {
    const role = onlyResource(template, 'AWS::IAM::Role');
    assert.equal(role.resource.Properties.ManagedPolicyArns, undefined);
    const { resource } = onlyResource(template, 'AWS::IAM::Policy');
    assert.deepEqual(resource.Properties.Roles, [ref('AWS::IAM::Role')]);
    assert.deepEqual((resource.Properties.PolicyDocument as { Statement: unknown[] }).Statement, [
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAtt('AWS::Logs::LogGroup', 'Arn') },
      { Effect: 'Allow', Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], Resource: getAtt('AWS::SQS::Queue', 'Arn') },
      { Effect: 'Allow', Action: 'dynamodb:ListStreams', Resource: '*' },
      { Effect: 'Allow', Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], Resource: getAtt('AWS::DynamoDB::Table', 'StreamArn') },
    ]);
  });

  test('the bundle runs on its own: no src/, no node_modules, Powertools and util-dynamodb inside', () => {
    assert.equal(synth.assetDirs.length, 1, `assets: ${synth.assetDirs.join(', ')}`);
    const bundle = join(synth.assetDirs[0]!, 'index.js');
    assert.ok(existsSync(bundle), `${bundle} was not produced by esbuild`);
    const code = readFileSync(bundle, 'utf8');
    assert.doesNotMatch(code, /require\(["']@aws-sdk\//, 'the AWS SDK must be bundled, not required at run time');
    assert.doesNotMatch(code, /require\(["']@aws(-lambda-powertools)?\//, 'Powertools must be bundled, not required at run time');
    assert.doesNotMatch(code, /\/src\//);

    // Run it from an empty directory, so nothing outside the bundle can be resolved.
    const cwd = mkdtempSync(join(tmpdir(), 'animal-sync-bundle-'));
    try {
      const unidentified = { ...modifyRecord('200'), dynamodb: { ...modifyRecord('200').dynamodb, Keys: undefined } };
      const event = { Records: [insertRecord('100'), unidentified] };
      const context = { functionName: 'AnimalSync-StreamLogger', awsRequestId: 'req-1', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:AnimalSync-StreamLogger', memoryLimitInMB: '256' };
      const script = `require(${JSON.stringify(bundle)}).handler(${JSON.stringify(event)}, ${JSON.stringify(context)}).then((r) => console.log('RESULT ' + JSON.stringify(r)));`;
      // As Lambda starts a new execution environment; Powertools reads it for cold_start.
      const env = { PATH: process.env.PATH, AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' };
      const run = spawnSync(process.execPath, ['-e', script], { cwd, encoding: 'utf8', env, timeout: 20_000 });
      assert.equal(run.status, 0, run.stderr);
      const lines = run.stdout.trim().split('\n');
      assert.equal(lines.length, 2, run.stdout);
      // Powertools writes error lines to stderr (Lambda sends both to the log group).
      const errors = run.stderr.trim().split('\n');
      assert.equal(errors.length, 1, run.stderr);
      assert.deepEqual(JSON.parse(lines[0]!), { ...JSON.parse(lines[0]!), level: 'info', eventName: 'INSERT', sequenceNumber: '100', animal: 'dog', function_request_id: 'req-1', cold_start: true });
      assert.deepEqual(JSON.parse(errors[0]!), { ...JSON.parse(errors[0]!), level: 'error', sequenceNumber: '200', function_request_id: 'req-1' });
      assert.equal(lines[1], 'RESULT {"batchItemFailures":[{"itemIdentifier":"200"}]}');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('alarms', () => {
  const topic = ref('AWS::SNS::Topic');

  test('on the stream falling behind (IteratorAge), records in the failure queue and function errors, all to the SNS topic', () => {
    const fn = { Name: 'FunctionName', Value: ref('AWS::Lambda::Function') };
    const queue = { Name: 'QueueName', Value: getAtt('AWS::SQS::Queue', 'QueueName') };
    const expected = [
      { Namespace: 'AWS/Lambda', MetricName: 'IteratorAge', Dimensions: [fn], Statistic: 'Maximum', ComparisonOperator: 'GreaterThanThreshold', Threshold: 300_000 },
      { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [queue], Statistic: 'Maximum', ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1 },
      { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [fn], Statistic: 'Sum', ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1 },
    ];
    for (const alarm of expected) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...alarm, EvaluationPeriods: 1, Period: 300, TreatMissingData: 'notBreaching', AlarmActions: [topic], OKActions: [topic],
      });
    }
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
  });

  test('the topic is encrypted with a rotated key CloudWatch may use, and is TLS-only', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: getAtt('AWS::KMS::Key', 'Arn') });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
  });

  test('the topic is a stack output', () => {
    template.hasOutput('AlarmTopicArn', { Value: ref('AWS::SNS::Topic') });
  });
});

describe('outputs', () => {
  test('bucket name, table name, daemon policy ARN for the daemon configuration', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    assert.deepEqual(outputs.BucketName?.Value, ref('AWS::S3::Bucket'));
    assert.deepEqual(outputs.TableName?.Value, ref('AWS::DynamoDB::Table'));
    assert.deepEqual(outputs.DaemonPolicyArn?.Value, ref('AWS::IAM::ManagedPolicy'));
  });
});

/** Every acknowledged validation rule in a construct tree: id → reason. */
function acknowledgedRules(root: IConstruct): Map<string, string> {
  const found = new Map<string, string>();
  for (const c of root.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) found.set(id.replace(/^annotation::/i, ''), reason);
    }
  }
  return found;
}

describe('cdk-nag AwsSolutions', () => {
  test('no unacknowledged finding, errors or warnings', () => {
    const report = new AwsSolutionsChecks(synth.app).validateScope(stack);
    const findings = report.violations.map((v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    assert.deepEqual(findings, []);
    assert.equal(report.success, true);
  });

  test('exactly the expected findings are acknowledged, each with a reason', () => {
    const bucketId = stack.getLogicalId(stack.bucket.node.defaultChild as never);
    const acknowledged = acknowledgedRules(stack);
    assert.deepEqual([...acknowledged.keys()].sort(), [
      'AwsSolutions-IAM5[Resource::*]',
      `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/animals/*]`,
      'AwsSolutions-S1',
      'AwsSolutions-SQS3',
    ]);
    for (const [id, reason] of acknowledged) assert.ok(reason.length > 40, `${id} needs a real reason, got ${JSON.stringify(reason)}`);
  });

  test('the checks are live: a bare bucket is reported', () => {
    const other = new Stack(new App(), 'Bare');
    new Bucket(other, 'Bare');
    const report = new AwsSolutionsChecks().validateScope(other);
    assert.deepEqual(report.violations.map((v) => v.ruleName).sort(), ['AwsSolutions-S1', 'AwsSolutions-S10']);
  });
});
