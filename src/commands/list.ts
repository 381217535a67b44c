import type { CommandModule } from './types.ts';
import { makeContext } from '../context.ts';
import { UsageError } from '../errors.ts';
import { assertAnimal, type ImageItem } from '../model.ts';
import { formatBytes, formatTable, printJson } from '../output.ts';

export const listCommand: CommandModule = {
  command: 'list',
  describe: 'List an animal\'s images, newest first (a Query, never a Scan)',
  builder: (y) =>
    y
      .option('animal', { type: 'string', demandOption: true, describe: 'animal name' })
      .option('limit', { type: 'number', describe: 'show at most this many' })
      .example('$0 list --animal dog --limit 5', 'the five newest dog pictures'),
  async handler(argv) {
    const animal = assertAnimal(argv.animal);
    const limit = argv.limit as number | undefined;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError(`--limit: expected an integer >= 1, got ${JSON.stringify(argv.limit)}`);
    const ctx = makeContext(argv);
    const { items, close } = ctx.stores();
    try {
      const found: ImageItem[] = [];
      let next: Record<string, unknown> | undefined;
      do {
        const page = await items.query(animal, { limit: limit === undefined ? undefined : limit - found.length, next });
        found.push(...page.items);
        next = page.next;
      } while (next && (limit === undefined || found.length < limit));
      if (ctx.json) {
        printJson(found);
      } else if (found.length === 0) {
        process.stdout.write(`no images for animal ${animal}\n`);
      } else {
        process.stdout.write(formatTable(
          ['ANIMAL', 'IMAGE_ID', 'UPLOADED_AT', 'SIZE', 'S3_KEY'],
          found.map((i) => [i.animal, i.image_id, i.uploaded_at, formatBytes(i.size_bytes), i.s3_key]),
        ) + '\n');
      }
    } finally {
      close();
    }
  },
};
