import { randomUUID } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CommandModule } from './types.ts';
import { inboxRoots, inboxSourcePath } from '../catalogue/source-path.ts';
import { makeContext, type Stores } from '../context.ts';
import { BadInputError, UsageError } from '../errors.ts';
import { assertAnimal, buildItem, s3KeyFor, type ImageItem } from '../model.ts';
import { formatItem, printJson } from '../output.ts';
import { inspectPngFile } from '../png.ts';
import type { ItemStore } from '../stores/dynamodb.ts';
import { SOURCE_HOST_METADATA } from '../stores/s3-parts.ts';
import { fileNameProblem } from '../sync/scanner.ts';
import { sendFile, sha256File } from '../transfer.ts';
import { openInboxUpload, type InboxUpload } from './upload-inbox.ts';

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

interface SendInput {
  file: string;
  st: Stats;
  png: { width: number; height: number };
  animal: string;
  hostId: string;
  sourcePath: string;
  partSizeBytes: number;
}

/** Object first, then item: no item ever points at a missing object. An inbox file's keys are journaled first (crash-safe, as the daemon's). */
async function sendAndCatalogue(stores: Stores, u: SendInput, inbox: InboxUpload | undefined): Promise<{ item: ImageItem; parts: number }> {
  const { objects, items } = stores;
  const imageId = randomUUID();
  const uploadedAt = new Date().toISOString();
  const filename = path.basename(u.file);
  const key = s3KeyFor(u.animal, uploadedAt, imageId, filename);
  inbox?.journal({
    source_path: u.sourcePath, animal: u.animal, filename, image_id: imageId, uploaded_at: uploadedAt, s3_key: key,
    size: null, mtime_ms: null, sha256: null, width: null, height: null, version: 0, state: 'uploading',
  });
  const sent = await sendFile(objects, u.file, key, {
    partSizeBytes: u.partSizeBytes, before: { size: u.st.size, mtimeMs: u.st.mtimeMs }, metadata: { [SOURCE_HOST_METADATA]: u.hostId },
  });
  const item = buildItem({
    animal: u.animal, imageId, uploadedAt, bucket: objects.bucket, s3Key: key, filename,
    sizeBytes: sent.size, sha256: sent.sha256, width: u.png.width, height: u.png.height,
    sourceHost: u.hostId, sourcePath: u.sourcePath, version: 1, updatedAt: uploadedAt,
  });
  try {
    await items.putNew(item);
  } catch (err) {
    await objects.delete(key).catch(() => undefined);
    inbox?.forget();
    throw err;
  }
  inbox?.record(item, u.st);
  return { item, parts: sent.parts };
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
    const { config } = ctx;
    // A file in the inbox is the daemon's too: it gets the daemon's source_path (upload-inbox.ts).
    const sourcePath = (await lstat(file)).isSymbolicLink() ? null : inboxSourcePath(inboxRoots(config.inbox), file);
    const folder = sourcePath?.split('/')[0];
    if (folder !== undefined && folder !== animal) {
      throw new UsageError(`--file ${file} is in the inbox's ${folder}/ folder, which the daemon catalogues as ${folder}; pass --animal ${folder}, or upload a copy from outside the inbox`);
    }
    const stores = ctx.stores();
    let inbox: InboxUpload | undefined;
    try {
      const sha256 = await sha256File(file);
      if (sourcePath) {
        const opened = await openInboxUpload(config, stores, sourcePath, st, sha256);
        if ('done' in opened) {
          process.stderr.write(`animal-sync: ${opened.done.note}\n`);
          if (ctx.json) printJson({ ...opened.done.item, already_catalogued: true });
          else process.stdout.write(`${formatItem(opened.done.item)}\n`);
          return;
        }
        inbox = opened.upload;
      }
      if (!argv.force) {
        const existing = await itemWithBytes(stores.items, animal, sha256);
        if (existing) {
          process.stderr.write(`animal-sync: ${animal} already has these bytes as image ${existing.image_id} (${existing.filename}, uploaded ${existing.uploaded_at}); nothing uploaded. Use --force to upload a second copy.\n`);
          if (ctx.json) printJson({ ...existing, already_catalogued: true });
          else process.stdout.write(`${formatItem(existing)}\n`);
          return;
        }
      }
      const { item, parts } = await sendAndCatalogue(stores, { file, st, png, animal, hostId: config.hostId, sourcePath: sourcePath ?? file, partSizeBytes: config.partSizeBytes }, inbox);
      if (ctx.json) printJson({ ...item, parts });
      else process.stdout.write(`uploaded ${file} in ${parts} part(s)\n${formatItem(item)}\n`);
    } finally {
      inbox?.release();
      stores.close();
    }
  },
};
