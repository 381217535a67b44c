import type { CommandModule } from './types.ts';
import { makeContext } from '../context.ts';
import { UsageError } from '../errors.ts';
import { assertAnimal, parseCatalogueItem, SORT_KEY_PREFIX } from '../model.ts';
import { formatSize, formatTable, MISSING, printJson } from '../output.ts';
import type { CatalogueReader } from '../stores/catalogue-reader.ts';
import { openReader } from './lookup.ts';

/** A cursor is the sort_key of the last item shown: opaque to the user, exact to resume from. */
function encodeCursor(sortKey: string): string {
  return Buffer.from(JSON.stringify({ after: sortKey })).toString('base64url');
}

function decodeCursor(cursor: unknown): string {
  try {
    const after = (JSON.parse(Buffer.from(String(cursor), 'base64url').toString('utf8')) as { after?: unknown }).after;
    if (typeof after === 'string' && after.startsWith(SORT_KEY_PREFIX)) return after;
  } catch {
    // reported below
  }
  throw new UsageError(`--cursor: ${JSON.stringify(cursor)} is not a cursor printed by \`animal-sync list\`; copy it whole from the line "more: …"`);
}

function positiveInt(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new UsageError(`--${name}: expected an integer >= 1, got ${JSON.stringify(v)}`);
  return v;
}

/** Up to `limit` items newest first, after `after`; `more` = where the next page starts. */
async function readItems(reader: CatalogueReader, animal: string, limit: number | undefined, after: string | undefined): Promise<{ raw: unknown[]; more: string | undefined }> {
  const raw: unknown[] = [];
  for await (const page of reader.itemPages(animal, { pageSize: limit, after })) {
    for (const item of page.items) {
      if (limit !== undefined && raw.length === limit) return { raw, more: lastSortKey(raw) };
      raw.push(item);
    }
    if (limit !== undefined && raw.length === limit) return { raw, more: page.lastSortKey && lastSortKey(raw) };
  }
  return { raw, more: undefined };
}

const lastSortKey = (raw: unknown[]): string | undefined => parseCatalogueItem(raw[raw.length - 1])?.sort_key;

async function listAnimals(reader: CatalogueReader, json: boolean): Promise<void> {
  const names = await reader.animalNames();
  const counts = await Promise.all(names.map(async (animal) => ({ animal, items: await reader.countItems(animal) })));
  if (json) printJson(counts);
  else if (counts.length === 0) process.stdout.write(`no animals: s3://${reader.bucket}/animals/ is empty\n`);
  else process.stdout.write(formatTable(['ANIMAL', 'ITEMS'], counts.map((c) => [c.animal, String(c.items)])) + '\n');
}

export const listCommand: CommandModule = {
  command: 'list',
  describe: 'Without --animal: the animals and their item counts. With it: that animal\'s images, newest first (Queries, never a Scan)',
  builder: (y) =>
    y
      .option('animal', { type: 'string', describe: 'animal name; without it, list the animals' })
      .option('limit', { type: 'number', describe: 'show at most this many, then print a --cursor for the next page' })
      .option('cursor', { type: 'string', describe: 'continue where a --limit listing stopped' })
      .option('all', { type: 'boolean', default: false, describe: 'every image of the animal (the default without --limit)' })
      .example('$0 list', 'the animals, with how many images each has')
      .example('$0 list --animal dog --limit 5', 'the five newest dog pictures'),
  async handler(argv) {
    const limit = positiveInt('limit', argv.limit);
    if (argv.all && limit !== undefined) throw new UsageError('--all and --limit contradict each other: give one of them');
    const ctx = makeContext(argv);
    if (argv.animal === undefined) {
      if (limit !== undefined || argv.cursor !== undefined) throw new UsageError('--limit and --cursor page through one animal: add --animal NAME');
      const reader = await openReader(ctx.config);
      try {
        return await listAnimals(reader, ctx.json);
      } finally {
        reader.close();
      }
    }
    const animal = assertAnimal(argv.animal);
    const after = argv.cursor === undefined ? undefined : decodeCursor(argv.cursor);
    const reader = await openReader(ctx.config);
    try {
      const { raw, more } = await readItems(reader, animal, limit, after);
      const next = more === undefined ? undefined : `more: animal-sync list --animal ${animal} --limit ${limit} --cursor ${encodeCursor(more)}`;
      if (ctx.json) {
        printJson(raw);
        if (next) process.stderr.write(next + '\n');
        return;
      }
      if (raw.length === 0) {
        process.stdout.write(after === undefined ? `no images for animal ${animal}\n` : `no more images for animal ${animal}\n`);
        return;
      }
      const rows = raw.map((r) => parseCatalogueItem(r)).filter((i) => i !== null).map((i) => [
        i.animal ?? animal, i.image_id ?? MISSING, i.uploaded_at ?? MISSING, formatSize(i.size_bytes), i.s3_key ?? MISSING, i.filename ?? MISSING,
      ]);
      process.stdout.write(formatTable(['ANIMAL', 'IMAGE_ID', 'UPLOADED_AT', 'SIZE', 'S3_KEY', 'FILENAME'], rows) + '\n');
      if (next) process.stdout.write(next + '\n');
    } finally {
      reader.close();
    }
  },
};
