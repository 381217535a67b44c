// The daemon's managed policy must follow the code: every AWS SDK operation imported in
// src/stores is either granted (exactly the IAM actions it needs) or declared init-only, and
// the policy grants nothing else.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAEMON_OPERATIONS, type DaemonResource, INIT_ONLY_OPERATIONS, OBJECT_KEY_PREFIX } from '../../lambda/daemon-permissions.ts';
import { onlyResource, synthStack } from './synth.ts';

const STORES_DIR = join(import.meta.dirname, '..', '..', 'src', 'stores');

/**
 * The AWS SDK operations a source file imports as values: command classes and lib-storage's
 * Upload. Type-only imports are skipped; a namespace or default import from the SDK cannot be
 * checked, so it fails the test.
 */
function sdkOperationsImported(source: string, file: string): string[] {
  const ops: string[] = [];
  const importRe = /import\s+(type\s+)?([^;]*?)\s+from\s+['"](@aws-sdk\/[^'"]+)['"]/g;
  for (const m of source.matchAll(importRe)) {
    if (m[1]) continue;
    const clause = m[2]!;
    const named = /^\{([^}]*)\}$/s.exec(clause.trim());
    assert.ok(named, `${file}: only named imports from ${m[3]} can be checked against the policy, got "import ${clause}"`);
    for (const spec of named[1]!.split(',')) {
      const name = spec.trim().replace(/\s+as\s+\w+$/, '');
      if (name === '' || name.startsWith('type ')) continue;
      if (name.endsWith('Command') || name === 'Upload') ops.push(name);
    }
  }
  return ops;
}

function operationsInStores(): Map<string, string[]> {
  const where = new Map<string, string[]>();
  for (const file of readdirSync(STORES_DIR).filter((f) => f.endsWith('.ts')).sort()) {
    for (const op of sdkOperationsImported(readFileSync(join(STORES_DIR, file), 'utf8'), file)) {
      where.set(op, [...(where.get(op) ?? []), file]);
    }
  }
  return where;
}

describe('operations imported by src/stores', () => {
  const imported = operationsInStores();

  test('the parser sees value imports only', () => {
    const source = `import { A, HeadObjectCommand as Head, type FooCommand } from '@aws-sdk/client-s3';
import type { BarCommand } from '@aws-sdk/client-s3';
import {
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { Upload } from '@aws-sdk/lib-storage';`;
    assert.deepEqual(sdkOperationsImported(source, 'x.ts'), ['HeadObjectCommand', 'PutCommand', 'QueryCommand', 'Upload']);
    assert.throws(() => sdkOperationsImported(`import * as s3 from '@aws-sdk/client-s3';`, 'x.ts'), /only named imports/);
  });

  test('src/stores still uses the SDK (the parser found its imports)', () => {
    assert.ok(imported.has('Upload') && imported.has('PutCommand'), `found: ${[...imported.keys()].join(', ')}`);
  });

  test('each is either granted to the daemon or init-only, and nothing else is listed', () => {
    const granted = Object.keys(DAEMON_OPERATIONS);
    const initOnly = Object.keys(INIT_ONLY_OPERATIONS);
    assert.deepEqual(granted.filter((op) => initOnly.includes(op)), [], 'an operation cannot be both granted and init-only');
    const unaccounted = [...imported.keys()].filter((op) => !granted.includes(op) && !initOnly.includes(op));
    assert.deepEqual(unaccounted, [], 'new SDK operations in src/stores: add them to lambda/daemon-permissions.ts with their IAM actions');
    const unused = [...granted, ...initOnly].filter((op) => !imported.has(op));
    assert.deepEqual(unused, [], 'operations no longer called by src/stores: remove them from lambda/daemon-permissions.ts');
  });
});

describe('the daemon policy in the template', () => {
  const synth = synthStack();
  after(() => synth.cleanup());
  const { stack } = synth;
  const { resource } = onlyResource(synth.template, 'AWS::IAM::ManagedPolicy');
  const statements = (resource.Properties.PolicyDocument as { Statement: { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown }[] }).Statement;

  const resourceOf: Record<DaemonResource, unknown> = {
    objects: stack.resolve(stack.bucket.arnForObjects(`${OBJECT_KEY_PREFIX}*`)),
    bucket: stack.resolve(stack.bucket.bucketArn),
    table: stack.resolve(stack.table.tableArn),
  };

  /** resource kind → sorted actions the template grants on it. */
  function grantedInTemplate(): Record<string, string[]> {
    const granted: Record<string, string[]> = {};
    for (const s of statements) {
      assert.equal(s.Effect, 'Allow');
      assert.equal(s.Condition, undefined);
      const kind = (Object.keys(resourceOf) as DaemonResource[]).find((k) => JSON.stringify(resourceOf[k]) === JSON.stringify(s.Resource));
      assert.ok(kind, `statement on an unexpected resource: ${JSON.stringify(s.Resource)}`);
      granted[kind] = [...(granted[kind] ?? []), ...[s.Action].flat()].sort();
    }
    return granted;
  }

  test('grants exactly what the operations src/stores imports need, on the right resources', () => {
    const expected: Record<string, string[]> = {};
    for (const op of operationsInStores().keys()) {
      for (const grant of DAEMON_OPERATIONS[op] ?? []) {
        expected[grant.on] = [...new Set([...(expected[grant.on] ?? []), ...grant.actions])].sort();
      }
    }
    assert.deepEqual(grantedInTemplate(), expected);
  });

  test('is exactly the reviewed action list (a change here is a change in what the daemon may do)', () => {
    assert.deepEqual(grantedInTemplate(), {
      objects: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'],
      bucket: ['s3:ListBucket'],
      table: ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
    });
  });

  test('object permissions stop at the animals/ prefix', () => {
    assert.deepEqual(resourceOf.objects, { 'Fn::Join': ['', [stack.resolve(stack.bucket.bucketArn), '/animals/*']] });
  });

  test('never lets the daemon create or delete the bucket or the table', () => {
    const actions = statements.flatMap((s) => [s.Action].flat());
    for (const forbidden of ['s3:CreateBucket', 's3:DeleteBucket', 'dynamodb:CreateTable', 'dynamodb:DeleteTable', 'dynamodb:Scan']) {
      assert.ok(!actions.includes(forbidden), `${forbidden} is granted`);
    }
    assert.ok(actions.every((a) => !a.includes('*')), `wildcard action in ${actions.join(', ')}`);
  });
});
