// node:http and node:https through require(), not `import`: Node builds the ESM facade of a
// built-in by reading every export, and one of node:http's lazy getters loads undici (fetch,
// with http2): ~9 MiB of RSS and ~40 ms at start-up for a module nothing here uses.
import { createRequire } from 'node:module';

const builtin = createRequire(import.meta.url);

export const http = builtin('node:http') as typeof import('node:http');
/** Loaded when first asked for (the SDK's clients): it brings tls, which a pass with nothing to send does not need. */
export const loadHttps = (): typeof import('node:https') => builtin('node:https') as typeof import('node:https');
