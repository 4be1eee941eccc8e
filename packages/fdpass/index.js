// Loads the native addon built by `node-gyp rebuild` (the package's install step).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const addon = require('./build/Release/fdpass.node');

export const sendFd = addon.sendFd;
export const Reader = addon.Reader;
