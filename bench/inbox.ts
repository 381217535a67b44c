// The bench's inbox: N real PNGs of about `size` bytes in 8 animal folders. Kept between runs
// under a name that says what it holds (this disk is slow to create files for minutes after
// many were deleted, so an inbox is made once and reused).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureInbox } from '../src/inbox.ts';
import { makePng } from '../tests/helpers/png.ts';

export const ANIMALS = ['dog', 'cat', 'bird', 'fox', 'owl', 'cow', 'pig', 'emu'];

export function benchInbox(files: number, size: number): string {
  const inbox = path.join(os.tmpdir(), `animal-sync-bench-inbox-${files}x${size}`);
  const done = `${inbox}.complete`;
  if (existsSync(done)) return inbox;
  mkdirSync(inbox, { recursive: true });
  ensureInbox(inbox);
  for (const a of ANIMALS) mkdirSync(path.join(inbox, a), { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(path.join(inbox, ANIMALS[i % ANIMALS.length]!, `img-${i}.png`), makePng({ seed: i, padTo: size }));
  writeFileSync(done, '');
  return inbox;
}
