#!/usr/bin/env node
// Builds the native addon of the package in the current directory (its `install` script) with
// node-gyp, against the headers of the Node.js that runs it. Official Node.js builds and
// distribution packages ship them under <prefix>/include/node; using them means the build needs
// no download (npm's `nodedir` setting, when given, still wins).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';

const prefix = resolve(process.execPath, '../..');
const nodedir =
  process.env.npm_config_nodedir ||
  (existsSync(resolve(prefix, 'include/node/node_api.h')) ? prefix : undefined);
const args = ['rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const result = spawnSync('node-gyp', args, { stdio: 'inherit', shell: process.platform === 'win32' });
if (result.error) {
  console.error(`${basename(process.cwd())}: cannot run node-gyp: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
