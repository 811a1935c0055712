#!/usr/bin/env node
// The installed `flowreasoner` binary: runs the CLI compiled in dist/, or its TypeScript sources through tsx when dist/ is missing or stale.
import { pathToFileURL } from 'node:url';
import { entryFile } from './build/dist.mjs';

const { main } = await import(pathToFileURL(await entryFile('pipeline/cli/main.ts', 'flowreasoner')).href);
process.exit(await main(process.argv));
