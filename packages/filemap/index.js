// Loads the native addon built by `node-gyp rebuild` (the package's install step). CommonJS, so
// that the engine can load it optionally (createRequire) and work without it.
module.exports = require('./build/Release/filemap.node');
