import type { CommandModule } from './types.ts';
import { makeContext } from '../context.ts';
import { ensureInbox } from '../inbox.ts';
import { printJson } from '../output.ts';

export const initCommand: CommandModule = {
  command: 'init',
  describe: 'Create the bucket, the table (with its stream) and the inbox with its marker; safe to run twice',
  builder: (y) => y.example('$0 init', 'prepare everything the configured settings point at'),
  async handler(argv) {
    const ctx = makeContext(argv);
    const { objects, items, close } = ctx.stores();
    try {
      const bucket = await objects.ensureBucket();
      const table = await items.ensureTable();
      const inbox = ensureInbox(ctx.config.inbox);
      const result = {
        bucket: { name: ctx.config.bucket, status: bucket },
        table: { name: ctx.config.table, status: table === 'created' ? 'created' : 'exists', stream: 'NEW_AND_OLD_IMAGES' },
        inbox: { path: ctx.config.inbox, status: inbox.created ? 'created' : 'exists', marker: inbox.markerCreated ? 'created' : 'exists' },
      };
      if (ctx.json) printJson(result);
      else {
        process.stdout.write(`bucket  ${result.bucket.name}: ${result.bucket.status}\n`);
        process.stdout.write(`table   ${result.table.name}: ${result.table.status} (ACTIVE, stream NEW_AND_OLD_IMAGES)\n`);
        process.stdout.write(`inbox   ${result.inbox.path}: ${result.inbox.status}, marker ${result.inbox.marker}\n`);
      }
    } finally {
      close();
    }
  },
};
