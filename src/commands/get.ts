import type { CommandModule } from './types.ts';
import { makeContext } from '../context.ts';
import { formatItem, printJson } from '../output.ts';
import { findItem, imageOptions, imageRefFromArgs } from './lookup.ts';

export const getCommand: CommandModule = {
  command: 'get',
  describe: 'Show one image\'s item (GetItem with --uploaded-at, else a Query in the animal\'s partition)',
  builder: (y) => imageOptions(y).example('$0 get --animal dog --image-id 9b2c…', 'show one dog picture\'s item'),
  async handler(argv) {
    const ref = imageRefFromArgs(argv);
    const ctx = makeContext(argv);
    const { items, close } = ctx.stores();
    try {
      const { item, raw } = await findItem(items, ref);
      if (ctx.json) printJson(raw);
      else process.stdout.write(formatItem(item) + '\n');
    } finally {
      close();
    }
  },
};
