// s3rver in a process of its own (not part of the product), so that a measurement can tell
// its CPU from the client's. Prints `ready <endpoint>` on stdout; stops on SIGTERM or when
// its stdin (held by the parent) ends.
//   node bench/serve-s3.ts <port> <data dir> <bucket>...
import { startS3Server } from '../src/local/s3-server.ts';

const [port, dataDir, ...buckets] = process.argv.slice(2);
if (!port || !dataDir || buckets.length === 0) {
  process.stderr.write('usage: node bench/serve-s3.ts <port> <data dir> <bucket>...\n');
  process.exit(2);
}
const server = await startS3Server({ port: Number(port), dataDir, buckets });
process.stdout.write(`ready ${server.endpoint}\n`);
process.once('SIGTERM', () => void server.stop().then(() => process.exit(0)));
// The parent holds our stdin: when it dies, however it died, stdin ends and so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
