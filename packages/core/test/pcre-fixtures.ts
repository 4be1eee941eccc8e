/**
 * Test data for the PCRE engine: the real PCRE subsignatures of main.ldb, and sample text.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { sharedSigs } from '../../../test/support/shared-sigs.js';

export const MAIN_LDB = sharedSigs('clamav-main/main.ldb.gz');

export interface PcreSubsig {
  name: string;
  pattern: string;
  flags: string;
}

/**
 * Splits like libclamav's cli_ldbtokenize(): a delimiter inside /.../ (an unescaped slash
 * toggles) does not count, once `skip` tokens have been read.
 */
function tokenize(line: string, delimiter: string, skip: number): string[] {
  const tokens: string[] = [];
  let current = '';
  let withinPcre = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (!withinPcre && c === delimiter) {
      tokens.push(current);
      current = '';
      continue;
    }
    if (tokens.length + 1 > skip && i > 0 && line[i - 1] !== '\\' && c === '/') withinPcre = !withinPcre;
    current += c;
  }
  tokens.push(current);
  return tokens;
}

/** The distinct PCRE subsignatures ([offset:]trigger/regex/flags) of main.ldb; [] if absent. */
export function mainLdbPcres(): PcreSubsig[] {
  if (!existsSync(MAIN_LDB)) return [];
  const found = new Map<string, PcreSubsig>();
  for (const line of gunzipSync(readFileSync(MAIN_LDB)).toString('latin1').split('\n')) {
    if (!line) continue;
    const fields = tokenize(line, ';', 3);
    for (const subsig of fields.slice(3)) {
      if (!subsig.includes('/')) continue;
      const parts = tokenize(subsig, ':', 0);
      const sig = parts.length === 2 ? parts[1]! : parts[0]!;
      const first = sig.indexOf('/');
      const last = sig.lastIndexOf('/');
      if (first === last) continue;
      const pattern = sig.slice(first + 1, last);
      const flags = sig.slice(last + 1);
      found.set(`${pattern}/${flags}`, { name: fields[0]!, pattern, flags });
    }
  }
  return [...found.values()];
}

/** `size` bytes of text: this package's own source files, repeated as needed. */
export function sampleText(size: number): Uint8Array {
  const root = join(dirname(fileURLToPath(import.meta.url)), '../src');
  const chunks: Buffer[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else if (entry.name.endsWith('.ts')) chunks.push(readFileSync(join(dir, entry.name)));
    }
  };
  walk(root);
  const text = Buffer.concat(chunks);
  const out = Buffer.alloc(size);
  for (let at = 0; at < size; at += text.length) text.copy(out, at);
  return out;
}
