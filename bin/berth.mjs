#!/usr/bin/env node
// The `berth` command. Runs the TypeScript sources directly through tsx, so `npx berth …` works right
// after `npm install` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../core/cli/main.ts');
await main(process.argv.slice(2));
