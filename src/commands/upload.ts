import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { CommandModule } from './types.ts';
import { makeContext } from '../context.ts';
import { BadInputError, UsageError } from '../errors.ts';
import { assertAnimal, buildItem, s3KeyFor, type ImageItem } from '../model.ts';
import { formatItem, printJson } from '../output.ts';
import { inspectPngFile } from '../png.ts';
import type { ItemStore } from '../stores/dynamodb.ts';
import { fileNameProblem } from '../sync/scanner.ts';
import { sendFile, sha256File } from '../transfer.ts';

/** An item of `animal` whose bytes are these (a Query of its partition, matched in memory). */
async function itemWithBytes(items: ItemStore, animal: string, sha256: string): Promise<ImageItem | undefined> {
  let next: Record<string, unknown> | undefined;
  do {
    const page = await items.query(animal, { next });
    const hit = page.items.find((i) => i.sha256 === sha256);
    if (hit) return hit;
    next = page.next;
  } while (next);
  return undefined;
}

export const uploadCommand: CommandModule = {
  command: 'upload',
  describe: 'Upload one PNG and write its catalogue item',
  builder: (y) =>
    y
      .option('file', { type: 'string', demandOption: true, describe: 'PNG file to upload' })
      .option('animal', { type: 'string', demandOption: true, describe: 'animal name (lowercase letters, digits, - and _)' })
      .option('force', { type: 'boolean', default: false, describe: 'upload even if the animal already has an image with these bytes' })
      .example('$0 upload --file rex.png --animal dog', 'upload rex.png as a dog picture'),
  async handler(argv) {
    const animal = assertAnimal(argv.animal);
    const file = path.resolve(String(argv.file));
    const st = await stat(file).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read --file ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.code}`);
    });
    if (!st.isFile()) throw new BadInputError(`--file ${file} is not a regular file`);
    // The daemon's rule for names, so that `upload` and the inbox accept the same files.
    const nameProblem = fileNameProblem(path.basename(file));
    if (nameProblem) throw new BadInputError(`--file ${file}: ${nameProblem}; only <name>.png files are catalogued (rename it)`);
    // Validated before any client exists: bad input writes nothing anywhere.
    const png = await inspectPngFile(file).catch((err: unknown) => {
      if (err instanceof BadInputError) throw new BadInputError(`${file}: ${err.message}`);
      throw err;
    });
    const ctx = makeContext(argv);
    const { objects, items, close } = ctx.stores();
    try {
      if (!argv.force) {
        const existing = await itemWithBytes(items, animal, await sha256File(file));
        if (existing) {
          process.stderr.write(`animal-sync: ${animal} already has these bytes as image ${existing.image_id} (${existing.filename}, uploaded ${existing.uploaded_at}); nothing uploaded. Use --force to upload a second copy.\n`);
          if (ctx.json) printJson({ ...existing, already_catalogued: true });
          else process.stdout.write(`${formatItem(existing)}\n`);
          return;
        }
      }
      const imageId = randomUUID();
      const uploadedAt = new Date().toISOString();
      const filename = path.basename(file);
      const key = s3KeyFor(animal, uploadedAt, imageId, filename);
      // Object first, then item: no item ever points at a missing object.
      const sent = await sendFile(objects, file, key, { partSizeBytes: ctx.config.partSizeBytes, before: { size: st.size, mtimeMs: st.mtimeMs } });
      const item = buildItem({
        animal, imageId, uploadedAt, bucket: objects.bucket, s3Key: key, filename,
        sizeBytes: sent.size, sha256: sent.sha256, width: png.width, height: png.height,
        sourceHost: ctx.config.hostId, sourcePath: file, version: 1, updatedAt: uploadedAt,
      });
      try {
        await items.putNew(item);
      } catch (err) {
        await objects.delete(key).catch(() => undefined);
        throw err;
      }
      if (ctx.json) printJson({ ...item, parts: sent.parts });
      else process.stdout.write(`uploaded ${file} in ${sent.parts} part(s)\n${formatItem(item)}\n`);
    } finally {
      close();
    }
  },
};
