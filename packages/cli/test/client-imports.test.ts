// clamdscan and clamdtop start often (once per file in some mail pipelines): they must load
// @clamts/core/client, which leaves the engine out, and never the full @clamts/core.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const PACKAGES = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every package a module imports at run time, following the project's own relative imports. */
function runtimeImports(entry: string): Map<string, string> {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const [, specifier] of source.matchAll(/^(?:import|export) (?!type )[^;]*? from '([^']+)'/gms)) {
      if (!specifier!.startsWith('.')) {
        packages.set(specifier!, file);
        continue;
      }
      const target = resolve(dirname(file), specifier!).replace(/\.js$/, '');
      visit([`${target}.ts`, `${target}.tsx`].find(existsSync)!);
    }
  };
  visit(entry);
  return packages;
}

describe('client tools load no engine', () => {
  for (const entry of ['cli/src/clamdscan/main.ts', 'top/src/main.tsx']) {
    it(entry, () => {
      const packages = runtimeImports(resolve(PACKAGES, entry));
      assert.ok(packages.has('@clamts/core/client'));
      assert.equal(packages.get('@clamts/core'), undefined, 'imports the full @clamts/core');
    });
  }

  it('sees an import of the full core (clamscan does)', () => {
    assert.ok(runtimeImports(resolve(PACKAGES, 'cli/src/clamscan/main.ts')).has('@clamts/core'));
  });
});
