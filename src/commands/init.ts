import type { CommandModule } from './types.ts';
import { makeContext } from '../context.ts';
import { ensureInbox } from '../inbox.ts';
import { printJson } from '../output.ts';

/**
 * What a table without the stream the Lambda needs means, said where it is found (the sync works
 * either way: the stream only feeds the Lambda log and the live gallery). Empty when all is well.
 */
export function streamAdvice(stream: string | null): string[] {
  if (stream === 'NEW_AND_OLD_IMAGES') return [];
  if (stream === null) {
    return [
      'no stream: this DynamoDB endpoint ignored the stream specification (or the table was made without one).',
      'sync, list, get, download and delete work; there is no Lambda log (`animal-sync stream`) and no live gallery.',
      'On AWS: aws dynamodb update-table --table-name <table> --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES',
    ];
  }
  return [`the stream is ${stream}, but the Lambda log needs NEW_AND_OLD_IMAGES (it logs the item's fields): change the table's stream view type.`];
}

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
      const streamNote = streamAdvice(table.stream);
      const result = {
        bucket: { name: ctx.config.bucket, status: bucket },
        table: { name: ctx.config.table, status: table.status, stream: table.stream, ...(streamNote.length ? { note: streamNote.join(' ') } : {}) },
        inbox: { path: ctx.config.inbox, status: inbox.created ? 'created' : 'exists', marker: inbox.markerCreated ? 'created' : 'exists' },
      };
      if (ctx.json) printJson(result);
      else {
        process.stdout.write(`bucket  ${result.bucket.name}: ${result.bucket.status}\n`);
        process.stdout.write(`table   ${result.table.name}: ${result.table.status} (ACTIVE, ${table.stream ? `stream ${table.stream}` : 'no stream'})\n`);
        for (const line of streamNote) process.stdout.write(`        ${line}\n`);
        process.stdout.write(`inbox   ${result.inbox.path}: ${result.inbox.status}, marker ${result.inbox.marker}\n`);
      }
    } finally {
      close();
    }
  },
};
