#!/usr/bin/env node
// Bundles the tools whose start-up time people feel — clamscan, clamconf and clamdscan, run once
// per scan, report or file — into one module each, and their launcher into another. Node then
// reads one file instead of resolving, loading and linking up to 220 modules, which takes several
// times longer (see docs/benchmarks.md).
//
// Input is tsc's output (`packages/*/dist`), so this runs after `tsc -b`. clamd (long-lived, with
// worker threads that load their own modules) and clamdtop (a long-running screen) stay
// unbundled.
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cliDist = resolve(root, 'packages/cli/dist');
const BUNDLE_DIR = resolve(cliDist, 'bundles');

const TOOLS = ['clamscan', 'clamconf', 'clamdscan'];

// Classic (CommonJS) scripts: V8 caches their compiled code (see packages/cli/src/bundle-launcher.ts),
// and Node runs them without its ES module loader.
const classicScript = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // The modules' import.meta.url becomes the output file's own URL (the launcher runs a bundle
  // with the bundle's path as __filename).
  define: { 'import.meta.url': 'scriptUrl' },
  banner: { js: "const scriptUrl = require('node:url').pathToFileURL(__filename).href;" },
  // Without whitespace and comments a bundle is a third smaller and pure ASCII (esbuild escapes
  // the strings; one comment's arrow made Node decode the whole file to two-byte text): a start
  // reads it sooner. Names are kept, so stack traces still name the functions.
  minifyWhitespace: true,
  logLevel: 'warning',
};

await build({
  ...classicScript,
  entryPoints: Object.fromEntries(TOOLS.map((tool) => [tool, resolve(cliDist, tool, 'main.js')])),
  outdir: BUNDLE_DIR,
  outExtension: { '.js': '.cjs' },
  // Packages with native addons are loaded from their own directories at run time.
  external: ['@clamts/filemap', '@clamts/fdpass'],
  plugins: [keepModuleRelativeUrls()],
});

// The launcher itself, which bin/clamscan, bin/clamdscan and bin/clamconf require. It is written
// next to its module, so that its URLs relative to import.meta.url still find the bundles.
await build({
  ...classicScript,
  entryPoints: [resolve(cliDist, 'bundle-launcher.js')],
  outfile: resolve(cliDist, 'bundle-launcher.cjs'),
});

// The launcher runs a bundle as a classic script, which cannot import() in Node 20.
for (const tool of TOOLS) {
  const bundle = await readFile(resolve(BUNDLE_DIR, `${tool}.cjs`), 'utf8');
  if (/(?<![\w$.])import\(/.test(bundle)) throw new Error(`${tool}.cjs calls import(), which bundle-launcher.ts cannot serve`);
}

/**
 * A module that finds a file near itself with `new URL('<relative path>', import.meta.url)`
 * would, once bundled, look relative to the bundle instead. This rewrites each such literal
 * path so that it still names the same file from the bundle's directory.
 */
function keepModuleRelativeUrls() {
  // Only relative paths ('./x', '../x', '..'): an absolute URL means the same from anywhere.
  const pattern = /new URL\((['"])(\.\.?(?:\/[^'"]*)?)\1, import\.meta\.url\)/g;
  return {
    name: 'keep-module-relative-urls',
    setup(context) {
      context.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, async ({ path }) => {
        // The file is read here once, whether or not it has such a URL to rewrite.
        const source = await readFile(path, 'utf8');
        const contents = source.replace(pattern, (_match, quote, target) => {
          const fromBundle = relative(BUNDLE_DIR, resolve(dirname(path), target)).split('\\').join('/');
          return `new URL(${quote}${fromBundle}${quote}, import.meta.url)`;
        });
        return { contents, loader: 'js' };
      });
    },
  };
}
