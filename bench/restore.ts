// Part of `npm run bench` (called by bench/bench.ts once the first sync has catalogued the
// 2,000 × 64 KiB set): `animal-sync restore` of every file into an empty folder, against
// `rclone copy --transfers 8` of the same objects from the bucket to a folder, run before
// and after it (this disk's speed drifts, so the ratio is taken against their mean).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { BIN } from '../tests/helpers/cli.ts';

type Timed = { ms: number; maxRssKiB: number; stdout: string; code: number | null };

export interface RestoreBenchInput {
  root: string;
  bucket: string;
  files: number;
  bytes: number;
  env: NodeJS.ProcessEnv;
  /** Null when rclone is not installed. */
  rcloneEnv: NodeJS.ProcessEnv | null;
  timeCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Timed>;
}

function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile() && !e.name.startsWith('.')) n++;
  return n;
}

export async function benchRestore(o: RestoreBenchInput): Promise<string[]> {
  // --fast-list: one recursive listing. Without it rclone lists folder by folder with a
  // Delimiter, and s3rver reports no common prefix for keys nested two levels deep: rclone
  // then copies nothing (exit 0, in well under a second). The file count is checked below.
  const rclone = async (n: number): Promise<number> => {
    const dest = path.join(o.root, `rclone-restore-${n}`);
    const r = await o.timeCommand('rclone', ['copy', '--transfers', '8', '--fast-list', `local:${o.bucket}/animals`, dest], o.rcloneEnv!);
    const copied = countFiles(dest);
    if (copied !== o.files) throw new Error(`rclone copy ${n} wrote ${copied} files, expected ${o.files}: not a fair comparison`);
    return r.ms;
  };
  const before = o.rcloneEnv ? await rclone(1) : NaN;
  const ours = await o.timeCommand(BIN, ['restore', '--to', path.join(o.root, 'restored'), '--json'], o.env);
  const after = o.rcloneEnv ? await rclone(2) : NaN;
  const summary = JSON.parse(ours.stdout || '{}') as { restored?: number; failed?: number; conflicts?: number };
  const restored = countFiles(path.join(o.root, 'restored'));
  if (restored !== o.files) throw new Error(`restore wrote ${restored} files, expected ${o.files}`);
  const s = ours.ms / 1000;
  const lines = [
    `restore of ${o.files} × 64 KiB: ${s.toFixed(2)} s, ${(o.files / s).toFixed(0)} files/s, ${(o.bytes / 1024 / 1024 / s).toFixed(1)} MiB/s, peak RSS ${(ours.maxRssKiB / 1024).toFixed(0)} MiB (restored ${summary.restored}, failed ${summary.failed}, conflicts ${summary.conflicts}, exit ${ours.code})`,
  ];
  if (o.rcloneEnv) {
    const mean = (before + after) / 2;
    lines.push(`rclone copy --transfers 8 bucket → folder: ${(before / 1000).toFixed(2)} s before, ${(after / 1000).toFixed(2)} s after; animal-sync restore / rclone mean = ${(ours.ms / mean).toFixed(2)}`);
  } else {
    lines.push('rclone: not installed, restore measured alone (apt-get install rclone to compare)');
  }
  return lines;
}
