// Installs the service inside the container by running systemd/README.md's own commands: the
// "Install" block, then the "AWS credentials" block, read from the README at test time, so a
// wrong step there fails the suite. Only what a person does by hand is stood in for:
// - step 1 (git clone, npm ci): the checkout is bind-mounted at /opt/animal-sync;
// - `sudoedit`: the edits are written into the installed files;
// - `systemctl edit`: an `editor` on PATH pastes the drop-in the README shows.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/cli.ts';
import { CHECKOUT_INSIDE, type Container } from './container.ts';

export const README = path.join(ROOT, 'systemd', 'README.md');
export const CAMERA_USER = 'camera';
/** Inside the container: what the test hands over to the install steps. */
const HANDOVER = '/run/animal-sync-test';

export interface InstallPlan {
  /** Keys set in /etc/animal-sync/config.json (on top of config.example.json). */
  config: Record<string, unknown>;
  /** NAME=value lines set in /etc/animal-sync/animal-sync.env (on top of the example). */
  env: Record<string, string>;
  /** The content of the AWS credentials file handed over with LoadCredential=. */
  credentials: string;
}

/** The body of the first ```sh block after the heading `## <title>`, unindented. */
export function readmeBlock(title: string, text = readFileSync(README, 'utf8')): string[] {
  const start = text.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`systemd/README.md has no "## ${title}" section`);
  const m = /^( *)```sh\n([\s\S]*?)\n\1```/m.exec(text.slice(start));
  if (!m) throw new Error(`systemd/README.md: no sh block under "## ${title}"`);
  return m[2]!.split('\n').map((l) => l.slice(m[1]!.length));
}

/** The README's exposure score (`rates it **1.6 OK**`). */
export function readmeSecurityScore(text = readFileSync(README, 'utf8')): number {
  const m = /systemd-analyze security[^*]*\*\*(\d+(?:\.\d+)?) (?:OK|SAFE)\*\*/.exec(text);
  if (!m) throw new Error('systemd/README.md does not state a `systemd-analyze security` score as **N.N OK**');
  return Number(m[1]);
}

/** The example env file with NAME=value set: a commented or existing line is replaced, else appended. */
export function editEnvFile(example: string, set: Record<string, string>): string {
  let text = example;
  for (const [name, value] of Object.entries(set)) {
    const re = new RegExp(`^#?${name}=.*$`, 'm');
    text = re.test(text) ? text.replace(re, `${name}=${value}`) : `${text.trimEnd()}\n${name}=${value}\n`;
  }
  return text;
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The install script: the README's lines, with the stand-ins above. */
export function installScript(): string {
  const lines = ['set -eux', `mkdir -p ${HANDOVER}`];
  for (const line of readmeBlock('Install')) {
    if (/^\s*(#|$)/.test(line)) continue;
    if (/^sudo git clone /.test(line)) continue; // the bind mount
    if (/npm ci/.test(line)) {
      // node_modules with the pinned Node comes with the checkout (npm ci ran on the host).
      lines.push(line.replace(/\s*&&\s*sudo npm ci.*$/, ''));
      continue;
    }
    const edit = /^sudoedit (.+)$/.exec(line);
    if (edit) {
      // Keep the installed files' owner and mode: write into them, as an editor does.
      for (const file of edit[1]!.split(/\s+/)) lines.push(`cat ${HANDOVER}/${path.basename(file)} > ${file}`);
      continue;
    }
    lines.push(line.replaceAll('<camera-user>', CAMERA_USER));
  }
  lines.push(`cd ${HANDOVER}`);
  for (const line of readmeBlock('AWS credentials')) {
    if (/^\s*(#|$)/.test(line)) continue;
    // `systemctl edit` refuses to run without a terminal: `script` gives it one.
    lines.push(/systemctl edit/.test(line) ? `script -qec ${shellQuote(line)} /dev/null` : line);
  }
  return lines.join('\n') + '\n';
}

/** The drop-in the README tells the reader to type into `systemctl edit`. */
export function readmeDropIn(): string {
  return readmeBlock('AWS credentials').filter((l) => /^#\s{3}\S/.test(l)).map((l) => l.replace(/^#\s{3}/, '')).join('\n') + '\n';
}

export async function installByReadme(c: Container, plan: InstallPlan): Promise<string> {
  const example = (name: string): string => readFileSync(path.join(ROOT, 'systemd', name), 'utf8');
  const config = { ...(JSON.parse(example('config.example.json')) as Record<string, unknown>), ...plan.config };
  const files: Record<string, string> = {
    'config.json': JSON.stringify(config, null, 2) + '\n',
    'animal-sync.env': editEnvFile(example('animal-sync.env.example'), plan.env),
    'aws-credentials': plan.credentials,
    'dropin.conf': readmeDropIn(),
  };
  const prepare = [
    `mkdir -p ${HANDOVER}`,
    // sudo looks the host name up; the container has none in /etc/hosts.
    'echo "127.0.1.1 $(hostname)" >> /etc/hosts',
    ...Object.entries(files).map(([name, text]) => `printf %s ${shellQuote(text)} > ${HANDOVER}/${name}`),
    // The people who drop pictures; one of them has a home, which the service must not see.
    `useradd --create-home ${CAMERA_USER}`,
    `echo 'private' > /home/${CAMERA_USER}/secret.txt`,
    // `systemctl edit` runs `editor`: this one pastes the README's drop-in where systemctl wants it.
    `cat > /usr/local/bin/editor <<'EOF'
#!/bin/sh
if grep -q '^### Anything between here' "$1"; then
  sed -i "/^### Anything between here/r ${HANDOVER}/dropin.conf" "$1"
else
  cat ${HANDOVER}/dropin.conf > "$1"
fi
EOF`,
    'chmod 0755 /usr/local/bin/editor',
  ].join('\n');
  await c.must(['sh', '-euc', prepare]);
  const run = await c.run(['sh', '-c', `cd ${CHECKOUT_INSIDE} && sh -s`], { input: installScript(), timeoutMs: 180_000 });
  if (run.code !== 0) throw new Error(`systemd/README.md's install steps failed inside the container (exit ${run.code}):\n${run.stderr}`);
  return run.stderr;
}
