// Who is told when the stream logger falls behind or gives up: three CloudWatch alarms with
// one SNS topic as their action. Subscribe to the topic (the stack's AlarmTopicArn output).
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The thresholds, exported so tests compare against one source. */
export const ALARM_THRESHOLDS = {
  /** The stream's oldest unread record is older than this (ms): the logger falls behind. */
  iteratorAgeMs: Duration.minutes(5).toMilliseconds(),
  /** Any batch in the failure queue: records were given up on and are not in the logs. */
  failedBatches: 1,
  /** Any invocation that threw (not a partial failure, which is answered record by record). */
  functionErrors: 1,
} as const;

export interface StreamAlarmsProps {
  readonly fn: lambda.IFunction;
  readonly failedRecords: sqs.IQueue;
}

export class StreamAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: StreamAlarmsProps) {
    super(scope, id);

    // A customer managed key: CloudWatch cannot publish to a topic encrypted with the AWS
    // managed alias/aws/sns, whose key policy it cannot be added to.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'animal-sync alarm topic',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
    }));
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'animal-sync alarms', masterKey: key, enforceSSL: true });

    const period = Duration.minutes(5);
    const alarm = (name: string, alarmDescription: string, metric: cloudwatch.IMetric, threshold: number, comparisonOperator: cloudwatch.ComparisonOperator) =>
      new cloudwatch.Alarm(this, name, { alarmDescription, metric, threshold, comparisonOperator, evaluationPeriods: 1, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING });
    this.alarms = [
      alarm('IteratorAge', 'The stream logger falls behind the table stream: its oldest unread record is older than 5 minutes.',
        props.fn.metric('IteratorAge', { statistic: cloudwatch.Stats.MAXIMUM, period }),
        ALARM_THRESHOLDS.iteratorAgeMs, cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD),
      alarm('FailedRecords', 'Stream records were given up on (retries or age exhausted): their batches are in the failure queue, not in the logs.',
        props.failedRecords.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period }),
        ALARM_THRESHOLDS.failedBatches, cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD),
      alarm('FunctionErrors', 'The stream logger threw: the whole batch is retried.',
        props.fn.metricErrors({ statistic: cloudwatch.Stats.SUM, period }),
        ALARM_THRESHOLDS.functionErrors, cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD),
    ];
    const action = new SnsAction(this.topic);
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(action);
      // Also say when it is over, so a reader of the topic knows the state without the console.
      alarm.addOkAction(action);
    }
  }
}
