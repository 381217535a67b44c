// One way to start the gallery for both `serve` and `local`: the catalogue of the config, the
// thumbnail cache under the state dir, how full images reach the browser, and the live source
// (the stream runner's records when `local` hands them over, polling otherwise).
import path from 'node:path';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { parseListenAddress } from '../service/health.ts';
import { Catalogue } from './catalogue.ts';
import { isLoopback, startGallery, type Gallery, type ImageDelivery } from './server.ts';
import { pollCatalogue, streamRecordsToFeed, type Poller } from './sources.ts';
import type { StatusSource } from './status.ts';

export const IMAGE_MODES = ['auto', 'presigned', 'proxied'] as const;
export type ImageMode = (typeof IMAGE_MODES)[number];

/**
 * Presigned URLs when the browser can reach the S3 endpoint: always for AWS, and for a custom
 * endpoint unless it is this machine's loopback while the gallery is served to other machines.
 */
export function chooseImageDelivery(mode: ImageMode, config: Pick<Config, 'forcePathStyle'>, listenHost: string, env: NodeJS.ProcessEnv): { images: ImageDelivery; s3Origin?: string } {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  if (!endpoint) return mode === 'proxied' ? { images: 'proxied' } : { images: 'presigned', s3Origin: 'https://*.amazonaws.com' };
  const url = new URL(endpoint);
  const origin = config.forcePathStyle ? url.origin : `${url.origin} ${url.protocol}//*.${url.host}`;
  if (mode === 'presigned') return { images: 'presigned', s3Origin: origin };
  if (mode === 'proxied' || (isLoopback(url.hostname.replace(/^\[|\]$/g, '')) && !isLoopback(listenHost))) return { images: 'proxied' };
  return { images: 'presigned', s3Origin: origin };
}

export interface OpenGalleryOptions {
  config: Config;
  address: string;
  log: Logger;
  status: StatusSource;
  images?: ImageMode;
  /** true: the caller feeds `onStreamRecords` (local); false: poll the table. */
  fedByStream: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface OpenGallery extends Gallery {
  onStreamRecords: ReturnType<typeof streamRecordsToFeed>;
}

export async function openGallery(o: OpenGalleryOptions): Promise<OpenGallery> {
  const env = o.env ?? process.env;
  const log = o.log.child({ component: 'gallery' });
  const catalogue = new Catalogue(o.config);
  const delivery = chooseImageDelivery(o.images ?? 'auto', o.config, parseListenAddress(o.address).host, env);
  let gallery: Gallery;
  try {
    gallery = await startGallery({
      catalogue, address: o.address, log, status: o.status, ...delivery,
      thumbnailDir: path.join(o.config.stateDir, 'gallery', 'thumbnails'),
    });
  } catch (err) {
    catalogue.close();
    throw err;
  }
  const poller: Poller | undefined = o.fedByStream ? undefined : pollCatalogue(catalogue, gallery.feed, log);
  return {
    ...gallery,
    onStreamRecords: streamRecordsToFeed(gallery.feed, log),
    async stop() {
      poller?.stop();
      await gallery.stop();
      catalogue.close();
    },
  };
}
