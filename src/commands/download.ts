import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { CommandModule } from './types.ts';
import { makeContext } from '../context.ts';
import { safeKeyName } from '../model.ts';
import { printJson } from '../output.ts';
import { fetchVerified } from '../restore/fetch.ts';
import { LocalFileDiffersError, placeFile, tempPathFor } from '../restore/place-file.ts';
import { findItem, imageOptions, imageRefFromArgs, openReader } from './lookup.ts';

export const downloadCommand: CommandModule = {
  command: 'download',
  describe: 'Download one image and verify it against its item (sha256; size and MD5 for items of other tools)',
  builder: (y) =>
    imageOptions(y)
      .option('out', { type: 'string', default: '.', describe: 'folder to write the file into' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'replace a different file of the same name in --out' })
      .example('$0 download --animal dog --image-id 9b2c… --out /tmp', 'fetch a picture into /tmp'),
  async handler(argv) {
    const ref = imageRefFromArgs(argv);
    const ctx = makeContext(argv);
    const { items, close } = ctx.stores();
    const reader = await openReader(ctx.config);
    try {
      const { item } = await findItem(items, ref);
      const outDir = path.resolve(String(argv.out));
      await mkdir(outDir, { recursive: true });
      const target = path.join(outDir, safeKeyName(item.filename ?? path.posix.basename(item.s3_key ?? `${ref.imageId}.png`)));
      // Written under a temporary name and moved only once the bytes are checked, so a
      // corrupt or partial download never sits where the real file is expected.
      const temp = tempPathFor(target);
      const got = await fetchVerified(reader, item, temp, { attempts: ctx.config.maxAttempts, retryBaseMs: ctx.config.retryBaseMs });
      const placed = await placeFile(temp, target, got.sha256, { overwrite: Boolean(argv.overwrite) });
      if (placed === 'conflict') {
        throw new LocalFileDiffersError(`${target} already exists with other content; nothing was written (pass --overwrite to replace it, or --out another folder)`);
      }
      const note = got.verified ? `sha256 ${got.sha256} verified` : `${got.checked === 'size' ? 'size matches' : 'size and MD5 match'} the object; not verified: the item has no sha256`;
      if (ctx.json) printJson({ file: target, sha256: got.sha256, size_bytes: got.size, verified: got.verified, checked: got.checked, result: placed });
      else process.stdout.write(`${placed === 'identical' ? 'already there' : placed === 'replaced' ? 'replaced' : 'downloaded'} ${target} (${got.size} bytes, ${note})\n`);
    } finally {
      reader.close();
      close();
    }
  },
};
