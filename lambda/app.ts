// CDK app entry: `npx aws-cdk@2 synth|deploy` from lambda/ runs this file with Node 24 (cdk.json).
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AnimalSyncStack } from './stack.ts';

const app = new App();
new AnimalSyncStack(app, 'AnimalSync', {
  description: 'animal-sync: image bucket, AnimalImages table with stream logger, daemon policy',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
// cdk-nag 3 is a policy-validation plugin: synth fails on any finding not acknowledged in
// the stack (Validations.of(construct).acknowledge, with a reason).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
