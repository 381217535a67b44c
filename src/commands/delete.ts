import type { CommandModule } from './types.ts';
import { makeContext } from '../context.ts';
import { keyOf } from '../model.ts';
import { formatItem, printJson } from '../output.ts';
import { findItem, imageOptions, imageRefFromArgs } from './lookup.ts';

export const deleteCommand: CommandModule = {
  command: 'delete',
  describe: 'Delete one image: the item first, then the object',
  builder: (y) => imageOptions(y).example('$0 delete --animal dog --image-id 9b2c…', 'remove a picture from the catalogue'),
  async handler(argv) {
    const ref = imageRefFromArgs(argv);
    const ctx = makeContext(argv);
    const { items, objects, close } = ctx.stores();
    try {
      const { item } = await findItem(items, ref);
      // Item before object: a crash in between leaves an unreferenced object, never an
      // item pointing at nothing.
      const old = (await items.delete(keyOf(item))) ?? item;
      await objects.delete(old.s3_key);
      if (ctx.json) printJson({ deleted: old });
      else process.stdout.write(`deleted item and s3://${old.s3_bucket}/${old.s3_key}\n${formatItem(old)}\n`);
    } finally {
      close();
    }
  },
};
