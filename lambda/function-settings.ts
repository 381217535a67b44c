// The stream logger's settings that both sides need: the CDK stack deploys the function with
// them, and the local stream runner gives the handler a context that says the same.
export const STREAM_LOGGER = {
  /** POWERTOOLS_SERVICE_NAME: the `service` of every line. */
  serviceName: 'animal-sync-stream-logger',
  /** The local runner's function name (in AWS, CloudFormation names the function). */
  localFunctionName: 'animal-sync-stream-logger',
  memoryMB: 256,
  timeoutSeconds: 30,
} as const;
