// One synthesis of the AnimalSync stack per test file (bundling runs the local esbuild, so it
// works offline), into a temp directory removed by cleanup().
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AnimalSyncStack } from '../../lambda/stack.ts';

export interface Synthesized {
  app: App;
  stack: AnimalSyncStack;
  template: Template;
  /** The cloud assembly directory (cdk.out). */
  outdir: string;
  /** Directories of the stack's file assets (the bundled Lambda code). */
  assetDirs: string[];
  cleanup(): void;
}

export function synthStack(): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'animal-sync-cdk-'));
  const app = new App({ outdir });
  const stack = new AnimalSyncStack(app, 'AnimalSyncTest');
  app.synth();
  const template = Template.fromStack(stack);
  const assetDirs = readdirSync(outdir).filter((name) => name.startsWith('asset.')).map((name) => join(outdir, name));
  return { app, stack, template, outdir, assetDirs, cleanup: () => rmSync(outdir, { recursive: true, force: true }) };
}

export interface TemplateResource {
  Properties: Record<string, unknown>;
  [key: string]: unknown;
}

/** The single resource of a type, with its logical id; fails unless there is exactly one. */
export function onlyResource(template: Template, type: string): { id: string; resource: TemplateResource } {
  const found = Object.entries(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  const [id, resource] = found[0]!;
  return { id, resource: resource as TemplateResource };
}
