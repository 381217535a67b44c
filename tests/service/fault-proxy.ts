// An HTTP proxy in front of the S3-compatible server that fails chosen requests with a real
// S3 error response, so one file can fail end to end while the rest goes through.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultProxy {
  url: string;
  /** Requests answered with the injected error so far. */
  failed: number;
  stop(): Promise<void>;
}

export async function startFaultProxy(target: string, shouldFail: (req: http.IncomingMessage) => boolean): Promise<FaultProxy> {
  const to = new URL(target);
  const state = { failed: 0 };
  const server = http.createServer((req, res) => {
    if (shouldFail(req)) {
      state.failed++;
      req.resume();
      req.on('end', () => {
        res.writeHead(500, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>injected fault: this object cannot be stored</Message></Error>');
      });
      return;
    }
    // Headers (Host included) pass unchanged, so the request's signature stays valid.
    const upstream = http.request({ hostname: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`fault proxy: upstream error ${err.message}`);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get failed() {
      return state.failed;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
