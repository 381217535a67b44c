// The stream consumer: one structured JSON log line per DynamoDB stream record of the
// AnimalImages table. Deployed alone (bundled by esbuild), so it never imports from src/.
//
// Powertools does the plumbing: BatchProcessor runs the pure per-record function
// (describe.ts) over the batch and processPartialResponse answers with the failed records'
// SequenceNumbers; Logger writes the lines, with the function context. After a failure
// Lambda resumes from the lowest failed sequence number, so records after it may be
// delivered again: every line carries the eventID, which is what a reader deduplicates on.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describeRecord, describeValue, eventIdOf, sequenceNumberOf } from './describe.ts';
import { STREAM_LOGGER } from './function-settings.ts';
import { SinkLogger, StreamLogFormatter, type LineSink } from './log-format.ts';

export type { LineSink };
export type StreamLoggerHandler = (event: DynamoDBStreamEvent, context?: Context) => Promise<DynamoDBBatchResponse>;

function logRecord(logger: Logger, record: DynamoDBRecord): void {
  try {
    const line = describeRecord(record);
    logger[line.level](line.message, line.fields);
  } catch (err) {
    try {
      logger.error('stream record not processed', {
        eventID: eventIdOf(record) ?? null,
        sequenceNumber: sequenceNumberOf(record) || null,
        reason: err instanceof Error ? err.message : String(err),
      });
    } catch {
      // The sink itself is failing; rethrowing below reports the record for a retry.
    }
    throw err;
  }
}

/**
 * The handler, logging through Powertools' Logger: to stdout (CloudWatch in AWS), or to
 * `sink` (the local stream runner's log file). A record that cannot be identified is
 * reported by its SequenceNumber; one without a SequenceNumber is reported with an empty
 * identifier, which Lambda treats as a failure of the whole batch: retrying is safer than
 * skipping a record nobody can name (Powertools leaves such a record out of its answer).
 */
export function createHandler(sink?: LineSink): StreamLoggerHandler {
  const options = { serviceName: STREAM_LOGGER.serviceName, logFormatter: new StreamLogFormatter() };
  const logger = sink ? new SinkLogger(sink, options) : new Logger(options);
  const processor = new BatchProcessor(EventType.DynamoDBStreams);
  return async (event, context) => {
    if (!event || !Array.isArray(event.Records)) {
      throw new TypeError(`expected a DynamoDB stream event with a Records array, got ${describeValue(event)}`);
    }
    if (context) logger.addContext(context);
    // In order, and a batch that fails as a whole is still answered record by record, so
    // that the answer (not an exception) always says which records to retry.
    const response = await processPartialResponse(event, (record: DynamoDBRecord) => logRecord(logger, record), processor, {
      context,
      processInParallel: false,
      throwOnFullBatchFailure: false,
    });
    const failures = [...response.batchItemFailures];
    if (processor.failureMessages.some((record) => sequenceNumberOf(record) === '')) failures.push({ itemIdentifier: '' });
    return { batchItemFailures: failures };
  };
}

/** In AWS: Powertools writes to stdout, which Lambda sends to the function's log group. */
export const handler: StreamLoggerHandler = createHandler();
