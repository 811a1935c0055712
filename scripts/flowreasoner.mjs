#!/usr/bin/env node
// The installed `flowreasoner` binary: registers tsx so the TypeScript sources run as they are, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../pipeline/cli/main.ts');
process.exit(await main(process.argv));
