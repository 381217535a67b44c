import type { CommandModule } from './types.ts';
import { makeContext } from '../context.ts';
import { keyOf, parseCatalogueItem } from '../model.ts';
import { formatItem, printJson } from '../output.ts';
import { findItem, imageOptions, imageRefFromArgs, openReader } from './lookup.ts';

export const deleteCommand: CommandModule = {
  command: 'delete',
  describe: 'Delete one image: the item first, then the object',
  builder: (y) => imageOptions(y).example('$0 delete --animal dog --image-id 9b2c…', 'remove a picture from the catalogue'),
  async handler(argv) {
    const ref = imageRefFromArgs(argv);
    const ctx = makeContext(argv);
    const { items, close } = ctx.stores();
    const reader = await openReader(ctx.config);
    try {
      const found = await findItem(items, ref);
      // Item before object: a crash in between leaves an unreferenced object, never an
      // item pointing at nothing.
      const oldRaw: unknown = (await items.delete(keyOf(found.item))) ?? found.raw;
      const old = parseCatalogueItem(oldRaw) ?? found.item;
      // The object is where the item says (the original scripts record s3_bucket too).
      const bucket = old.s3_bucket ?? ctx.config.bucket;
      if (old.s3_key !== undefined) await reader.deleteObject(bucket, old.s3_key);
      const what = old.s3_key === undefined ? 'item (it named no object)' : `item and s3://${bucket}/${old.s3_key}`;
      if (ctx.json) printJson({ deleted: oldRaw });
      else process.stdout.write(`deleted ${what}\n${formatItem(old)}\n`);
    } finally {
      reader.close();
      close();
    }
  },
};
