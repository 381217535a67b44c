// The large set: 4 PNGs of 256 MiB, animal-sync's multipart upload against a bare
// lib-storage Upload of the same files to the same server.
import { createReadStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import { resolveConfig } from '../src/config.ts';
import { makeS3Client } from '../src/stores/aws.ts';
import { ensureInbox } from '../src/inbox.ts';
import { makePng } from '../tests/helpers/png.ts';
import { BIN } from '../tests/helpers/cli.ts';
import { timeCommand } from './child.ts';
import type { BenchServers } from './servers.ts';
import { syncEnv, type Endpoints } from './sides.ts';

export async function largeSet(servers: BenchServers, at: Endpoints, root: string): Promise<string> {
  const inbox = path.join(root, 'large-inbox');
  mkdirSync(path.join(inbox, 'whale'), { recursive: true });
  ensureInbox(inbox);
  try {
    for (let i = 0; i < 4; i++) writeFileSync(path.join(inbox, 'whale', `big-${i}.png`), makePng({ seed: 500 + i, padTo: 256 * 1024 * 1024 }));
    const fresh = await servers.fresh('Large');
    const env = syncEnv(servers, at, inbox, fresh.bucket, fresh.table, path.join(root, 'large-state'));
    const config = resolveConfig({ env, flags: {} });
    const s3 = makeS3Client(config);
    const t0 = performance.now();
    await Promise.all([0, 1, 2, 3].map((i) => new Upload({
      client: s3, partSize: config.partSizeBytes, queueSize: 4,
      params: { Bucket: fresh.bucket, Key: `bare/big-${i}.png`, Body: createReadStream(path.join(inbox, 'whale', `big-${i}.png`)) },
    }).done()));
    const bare = performance.now() - t0;
    s3.destroy();
    const run = await timeCommand(BIN, ['sync', '--once', '--json'], env);
    await fresh.drop();
    return `large set 4 × 256 MiB: sync --once ${(run.ms / 1000).toFixed(2)} s (${(1024 / (run.ms / 1000)).toFixed(0)} MiB/s, CPU ${run.cpuS.toFixed(1)} s, peak RSS ${run.rssMiB.toFixed(0)} MiB, exit ${run.code}) vs bare lib-storage Upload ${(bare / 1000).toFixed(2)} s: ratio ${(run.ms / bare).toFixed(2)}`;
  } finally {
    rmSync(inbox, { recursive: true, force: true });
  }
}
