// Loads the native addon built by `node-gyp rebuild` (the package's install step). CommonJS, so
// that the tools can load it optionally (createRequire), from a bundle too, and work without it.
module.exports = require('./build/Release/fdpass.node');
