#!/usr/bin/env node
// The `tasdiq` command. Node 24 runs the TypeScript sources directly (type stripping).
import { main } from '../src/main.ts';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (error) => {
    console.error(`tasdiq: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
    // A failed command has already closed what it opened; should anything still hold the
    // event loop (a socket, a timer), the failure must still end the process.
    globalThis.setTimeout(() => process.exit(1), 2_000).unref();
  },
);
