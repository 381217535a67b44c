// The inbox folder and its marker file. The marker proves the folder is the real inbox and
// not an empty mount point: without it, nothing may ever be deleted remotely.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';

export const MARKER_NAME = '.animal-sync-inbox';

export function markerPath(inbox: string): string {
  return path.join(inbox, MARKER_NAME);
}

export function ensureInbox(inbox: string): { created: boolean; markerCreated: boolean } {
  const created = !existsSync(inbox);
  mkdirSync(inbox, { recursive: true });
  const marker = markerPath(inbox);
  const markerCreated = !existsSync(marker);
  if (markerCreated) {
    writeFileSync(marker, 'This folder is an animal-sync inbox. Deleting this file stops animal-sync from deleting anything remotely.\n');
  }
  return { created, markerCreated };
}

export async function hasMarker(inbox: string): Promise<boolean> {
  try {
    return (await stat(markerPath(inbox))).isFile();
  } catch {
    return false;
  }
}
