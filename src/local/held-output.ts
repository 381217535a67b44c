// The newcomer's first screen is the banner (endpoints, exports, gallery, where to drop a
// file); the start-up log lines come right after it, not before. Lines written before
// release() are held, then written in order.
import { Writable } from 'node:stream';

export interface HeldOutput {
  readonly stream: NodeJS.WritableStream;
  release(): void;
}

export function holdOutput(out: NodeJS.WritableStream = process.stdout): HeldOutput {
  let held: string[] | null = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (held) held.push(chunk.toString('utf8'));
      else out.write(chunk);
      cb();
    },
  });
  return {
    stream,
    release() {
      const lines = held ?? [];
      held = null;
      for (const l of lines) out.write(l);
    },
  };
}
