/**
 * PUA category filtering (`--include-pua` / `--exclude-pua`), applied to signatures from PUA
 * databases (.hdu, .hsu, .mdu, .msu, .ndu, .ldu) as ClamAV does.
 */
export interface PuaFilter {
  mode: 'include' | 'exclude';
  categories: readonly string[];
}

/**
 * True when the signature must be skipped. ClamAV takes the "category" of `PUA.A.B.Name` as
 * `.A.B.` (everything between `PUA` and the last dot) and looks for the whole `.c1.c2.` list,
 * joined with dots, inside it; names without the `PUA.` prefix or a second dot are skipped.
 */
export function skippedByPuaFilter(name: string, filter: PuaFilter): boolean {
  if (!name.startsWith('PUA.')) return true;
  const sig = name.slice(3);
  if (sig.indexOf('.', 1) < 0) return true;
  const category = sig.slice(0, sig.lastIndexOf('.') + 1);
  const wanted = `.${filter.categories.join('.')}.`;
  const found = category.includes(wanted);
  return filter.mode === 'include' ? !found : found;
}
