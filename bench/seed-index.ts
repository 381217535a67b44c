// Probe helper (not part of the product): a state dir whose index says every file of an
// inbox is synced (fake keys), for timing no-change passes without a first sync first. Such
// a pass reads no catalogue and sends nothing: it only scans and compares.
//   node bench/seed-index.ts <inbox> <state-dir>
import { SyncIndex } from '../src/sync/index-db.ts';
import { scanInbox } from '../src/sync/scanner.ts';
import { META_CATALOGUE_ADOPTED } from '../src/catalogue/adopt.ts';

const [inbox, stateDir] = process.argv.slice(2);
if (!inbox || !stateDir) throw new Error('usage: node bench/seed-index.ts <inbox> <state-dir>');
const index = SyncIndex.open(stateDir);
const { files } = await scanInbox(inbox);
index.transaction(() => {
  for (const f of files) {
    index.put({
      source_path: f.sourcePath, animal: f.animal, filename: f.filename, image_id: `seed-${f.sourcePath}`, uploaded_at: '2026-01-01T00:00:00.000Z',
      s3_key: `animals/${f.sourcePath}`, size: f.size, mtime_ms: f.mtimeMs, sha256: '0'.repeat(64), width: 1, height: 1, version: 1, state: 'synced',
    });
  }
});
index.setMeta(META_CATALOGUE_ADOPTED, { at: new Date().toISOString() });
index.close();
console.log(`seeded ${files.length} rows in ${stateDir}`);
