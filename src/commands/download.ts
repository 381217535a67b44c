import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CommandModule } from './types.ts';
import { makeContext } from '../context.ts';
import { IntegrityError } from '../errors.ts';
import { safeKeyName } from '../model.ts';
import { printJson } from '../output.ts';
import { findItem, imageOptions, imageRefFromArgs } from './lookup.ts';

export const downloadCommand: CommandModule = {
  command: 'download',
  describe: 'Download one image and verify its sha256 against the item',
  builder: (y) =>
    imageOptions(y)
      .option('out', { type: 'string', default: '.', describe: 'folder to write the file into' })
      .example('$0 download --animal dog --image-id 9b2c… --out /tmp', 'fetch a picture into /tmp'),
  async handler(argv) {
    const ref = imageRefFromArgs(argv);
    const ctx = makeContext(argv);
    const { items, objects, close } = ctx.stores();
    try {
      const { item } = await findItem(items, ref);
      const outDir = path.resolve(String(argv.out));
      await mkdir(outDir, { recursive: true });
      const target = path.join(outDir, safeKeyName(item.filename));
      // Written under a temporary name and renamed only once the hash matches, so a
      // corrupt download never sits where the real file is expected.
      const temp = `${target}.${process.pid}.part`;
      const hash = createHash('sha256');
      let size = 0;
      try {
        await pipeline(
          await objects.get(item.s3_key),
          new Transform({ transform(chunk: Buffer, _e, cb) { hash.update(chunk); size += chunk.length; cb(null, chunk); } }),
          createWriteStream(temp),
        );
        const sha256 = hash.digest('hex');
        if (sha256 !== item.sha256 || size !== item.size_bytes) {
          throw new IntegrityError(`downloaded ${item.s3_key} does not match its item: sha256 ${sha256} (${size} bytes), item says ${item.sha256} (${item.size_bytes} bytes); nothing was written`);
        }
        await rename(temp, target);
      } finally {
        await rm(temp, { force: true });
      }
      if (ctx.json) printJson({ file: target, sha256: item.sha256, size_bytes: size, verified: true });
      else process.stdout.write(`downloaded ${target} (${size} bytes, sha256 ${item.sha256} verified)\n`);
    } finally {
      close();
    }
  },
};
