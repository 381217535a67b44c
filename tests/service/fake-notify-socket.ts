// A stand-in for systemd's NOTIFY_SOCKET: a unix datagram socket (Node's dgram cannot do
// AF_UNIX, so python3 holds it) that reports every datagram it receives.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { tempDir } from '../helpers/stack.ts';

// Each datagram becomes one JSON string on stdout. recv() without an ancillary buffer drops
// the pipe fd that systemd-notify passes with BARRIER=1, which completes its barrier just as
// the real manager does.
const LISTENER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("LISTENING"), flush=True)
while True:
    print(json.dumps(s.recv(65536).decode("utf-8", "replace")), flush=True)
`;

export interface NotifyMessage {
  /** The datagram's VARIABLE=VALUE lines, parsed. */
  fields: Record<string, string>;
  raw: string;
  at: number;
}

export interface FakeNotifySocket {
  path: string;
  /** Every datagram so far, BARRIER=1 ones left out. */
  messages: NotifyMessage[];
  /** Messages that carry `name` (e.g. READY, WATCHDOG). */
  with(name: string): NotifyMessage[];
  stop(): Promise<void>;
}

export async function startFakeNotifySocket(): Promise<FakeNotifySocket> {
  const dir = tempDir('animal-sync-notify-');
  const socketPath = path.join(dir, 'notify.sock');
  const child: ChildProcess = spawn('python3', ['-c', LISTENER, socketPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const messages: NotifyMessage[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string): void => reject(new Error(`fake NOTIFY_SOCKET (python3) did not start: ${why}\n${stderr}`));
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code) => fail(`exited with ${code}`));
    const timer = setTimeout(() => fail('no answer within 10 s'), 10_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const raw = JSON.parse(line) as string;
      if (raw === 'LISTENING') {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve();
        return;
      }
      const fields: Record<string, string> = {};
      for (const l of raw.split('\n')) {
        const eq = l.indexOf('=');
        if (eq > 0) fields[l.slice(0, eq)] = l.slice(eq + 1);
      }
      if (!('BARRIER' in fields)) messages.push({ fields, raw, at: Date.now() });
    });
  });
  return {
    path: socketPath,
    messages,
    with: (name) => messages.filter((m) => name in m.fields),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
