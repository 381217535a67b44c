import type { Argv } from 'yargs';

export interface CommandModule {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv;
  handler: (argv: Record<string, unknown>) => Promise<void>;
}
