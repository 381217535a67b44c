// An S3-compatible server for the embedded stack: @20minutes/s3rver with its data on disk.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { assertPortFree } from './dynamodb-local.ts';

const require = createRequire(import.meta.url);

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
  httpServer?: Server;
  on(event: string, cb: (...args: unknown[]) => void): void;
}

export interface RunningS3Server {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startS3Server(opts: { port: number; dataDir: string; buckets: string[]; host?: string }): Promise<RunningS3Server> {
  const host = opts.host ?? '127.0.0.1';
  await assertPortFree(host, opts.port, 'S3 server');
  mkdirSync(opts.dataDir, { recursive: true });
  const S3rver = require('@20minutes/s3rver') as new (o: Record<string, unknown>) => S3rverInstance;
  const server = new S3rver({
    address: host,
    port: opts.port,
    directory: opts.dataDir,
    silent: true,
    // Bucket-level calls from the current SDK fail s3rver's signature check otherwise.
    allowMismatchedSignatures: true,
    vhostBuckets: false,
    configureBuckets: opts.buckets.map((name) => ({ name })),
  });
  // s3rver emits 'error' for client mistakes it already answered (a 404 etc.); they are not ours.
  server.on('error', () => undefined);
  const addr = await server.run();
  // Keep-alive sockets from clients would keep close() waiting forever.
  return {
    endpoint: `http://${host}:${addr.port}`,
    async stop() {
      server.httpServer?.closeAllConnections();
      await server.close();
    },
  };
}
