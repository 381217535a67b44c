// How the stream logger's Powertools lines look, and where they go.
//
// The same shape as the daemon's pino lines (src/log.ts): `level` as a lowercase name and
// `msg` for the message. Lambda's JSON log format reads the lowercase level for its
// application log level filter and `timestamp` (RFC 3339) for the event time.
import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions, LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

export class StreamLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additionalLogAttributes: LogAttributes): LogItem {
    const context = attributes.lambdaContext;
    const base: LogAttributes = {
      level: attributes.logLevel.toLowerCase(),
      timestamp: this.formatTimestamp(attributes.timestamp),
      msg: attributes.message,
      service: attributes.serviceName,
      cold_start: context?.coldStart,
      function_name: context?.functionName,
      function_arn: context?.invokedFunctionArn,
      function_memory_size: context?.memoryLimitInMB,
      function_request_id: context?.awsRequestId,
      xray_trace_id: attributes.xRayTraceId,
    };
    return new LogItem({ attributes: base }).addAttributes(additionalLogAttributes);
  }
}

/** Receives one JSON line, without a trailing newline. */
export type LineSink = (line: string) => void;

/** Set after `super()`: Logger's constructor may already print (warnings about its settings). */
const sinks = new WeakMap<SinkLogger, LineSink>();

/**
 * A Powertools Logger that hands each finished line to `sink` instead of stdout: the local
 * stream runner writes them to its log file (its CloudWatch), synchronously, so a line is
 * written before its batch is checkpointed. A sink that throws makes the log call throw,
 * and so the record fail and be retried.
 */
export class SinkLogger extends Logger {
  constructor(sink: LineSink, options: ConstructorOptions = {}) {
    super(options);
    sinks.set(this, sink);
  }

  protected override printLog(_logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    const line = JSON.stringify(log.getAttributes(), this.getJsonReplacer());
    const sink = sinks.get(this);
    if (sink) sink(line);
    else process.stderr.write(line + '\n');
  }
}
