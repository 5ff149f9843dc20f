/**
 * A `tasdiq` sub-command. Modules that need admin commands (operators, clients, devices)
 * add an entry to `COMMANDS` in main.ts; each parses its own arguments.
 */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** Returns the process exit code; a long-running command resolves only when it stops. */
  run(args: string[]): Promise<number | undefined>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
