// A WAN stand-in on loopback: every request is held `delayMs` before it is passed on,
// streamed and with its headers untouched (rclone's signed requests must reach the server as
// sent; tests/helpers/fault-proxy.ts reads bodies whole and rewrites their length).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DelayProxy {
  url: string;
  stop(): Promise<void>;
}

export async function startDelayProxy(target: string, delayMs: number): Promise<DelayProxy> {
  const to = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((req, res) => {
    req.pause();
    setTimeout(() => {
      const up = http.request({ hostname: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
      req.resume();
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
