// `animal-sync serve`: the read-only web gallery of the configured bucket and table (the local
// stack or AWS). Live updates come from polling each animal's newest items; the status strip
// from the state dir's index and the health address, when they are there.
import type { CommandModule } from './types.ts';
import { configFromArgs } from '../context.ts';
import { UsageError } from '../errors.ts';
import { createLogger } from '../log.ts';

export const serveCommand: CommandModule = {
  command: 'serve',
  describe: 'Serve a read-only web gallery of the catalogue (live: new pictures appear, deleted ones disappear)',
  builder: (y) =>
    y
      .option('address', { type: 'string', default: '127.0.0.1:8080', describe: 'host:port to listen on; another host than 127.0.0.1 exposes every picture to the network' })
      .option('images', { type: 'string', default: 'auto', choices: ['auto', 'presigned', 'proxied'], describe: 'full images by presigned S3 URL or through this server; auto = presigned when the browser can reach the endpoint' })
      .example('$0 serve', 'open http://127.0.0.1:8080/')
      .example('$0 serve --address 127.0.0.1:9000 --table AnimalImages', 'another port, another table'),
  async handler(argv) {
    const config = configFromArgs(argv);
    const [{ openGallery, IMAGE_MODES }, { sharedStatus }] = await Promise.all([import('../gallery/open.ts'), import('../gallery/status.ts')]);
    const images = String(argv.images) as (typeof IMAGE_MODES)[number];
    if (!IMAGE_MODES.includes(images)) throw new UsageError(`--images: expected one of ${IMAGE_MODES.join(', ')}, got ${JSON.stringify(argv.images)}`);
    const log = createLogger({ level: config.logLevel });
    const gallery = await openGallery({ config, address: String(argv.address), log, status: sharedStatus(config), images, fedByStream: false });
    process.stdout.write(`gallery  ${gallery.url}  (bucket ${config.bucket}, table ${config.table}; Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => void gallery.stop().then(resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  },
};
