import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { CommandModule } from './types.ts';
import { makeContext } from '../context.ts';
import { BadInputError, UsageError } from '../errors.ts';
import { assertAnimal, buildItem, s3KeyFor } from '../model.ts';
import { formatItem, printJson } from '../output.ts';
import { inspectPngFile } from '../png.ts';
import { sendFile } from '../transfer.ts';

export const uploadCommand: CommandModule = {
  command: 'upload',
  describe: 'Upload one PNG and write its catalogue item',
  builder: (y) =>
    y
      .option('file', { type: 'string', demandOption: true, describe: 'PNG file to upload' })
      .option('animal', { type: 'string', demandOption: true, describe: 'animal name (lowercase letters, digits, - and _)' })
      .example('$0 upload --file rex.png --animal dog', 'upload rex.png as a dog picture'),
  async handler(argv) {
    const animal = assertAnimal(argv.animal);
    const file = path.resolve(String(argv.file));
    const st = await stat(file).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read --file ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.code}`);
    });
    if (!st.isFile()) throw new BadInputError(`--file ${file} is not a regular file`);
    // Validated before any client exists: bad input writes nothing anywhere.
    const png = await inspectPngFile(file).catch((err: unknown) => {
      if (err instanceof BadInputError) throw new BadInputError(`${file}: ${err.message}`);
      throw err;
    });
    const ctx = makeContext(argv);
    const { objects, items, close } = ctx.stores();
    try {
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
