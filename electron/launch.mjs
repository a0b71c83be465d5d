// Electron entry point: registers tsx so electron/main.ts and core/ run as TypeScript without a build
// step (as bin/berth.mjs does for the CLI), then starts the shell.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
