#!/usr/bin/env node
// The `tasdiq` command. Node 24 runs the TypeScript sources directly (type stripping).
import { main } from '../src/main.ts';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
