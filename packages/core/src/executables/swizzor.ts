import { u16le, u32le } from '../formats/compression/read.js';
import { rawAddress, type PeFile } from './pe-file.js';

/**
 * ClamAV's Trojan.Swizzor heuristic (cli_scanpe with cli_parseres_special, special.c's
 * cli_detect_swizz_str and cli_detect_swizz): Swizzor filled the menus, dialogs, string and
 * message tables of its files with made-up words. The English resources of those types are
 * reduced to lower-case words, their letter trigrams are counted, and two decision trees (ClamAV's
 * J48 rules, kept as they are) judge each string resource and then all trigrams together.
 *
 * Counters keep ClamAV's widths (a string's trigram counts are 8-bit, the file's 16-bit and read
 * back through 8 bits), since they decide what is reported.
 */

const RESOURCE_DIRECTORY = 2;
/** The file sizes the heuristic looks at: above 64 KiB, below 4 MiB. */
const MIN_FILE_SIZE = 64 * 1024;
const MAX_FILE_SIZE = 4 * 1024 * 1024;
/** Resource directories visited at most. */
const MAX_DIRECTORIES = 1000;
/** SWIZZ_MAXERRORS: this many bad data entries and the resources are ignored. */
const MAX_ERRORS = 2000;
/** RT_MENU, RT_DIALOG, RT_STRING, RT_MESSAGETABLE, RT_VERSION: the types whose text is read. */
const TEXT_TYPES = new Set([4, 5, 6, 11, 16]);
const RT_VERSION = 16;
const RT_MANIFEST = 24;
/** LANG_ENGLISH, the low byte of a language ID: only English resources are read. */
const LANG_ENGLISH = 0x09;
/** The text kept of one resource (ClamAV's 4096-byte buffer, less room for the terminator). */
const MAX_TEXT = 4096 - 2;
const TRIGRAMS = 26 * 26 * 26;
const SUBDIRECTORY = 0x8000_0000;
const DIRECTORY_HEADER_SIZE = 16;
const ENTRY_SIZE = 8;
const SPACE = 0x20;

/** swizz_stats: what the resource walk gathers. */
class SwizzorStats {
  /** Trigram counts over every string resource (16-bit, as ClamAV's). */
  readonly trigrams = new Uint16Array(TRIGRAMS);
  /** Text bytes of all string resources judged, and of those judged suspicious. */
  total = 0;
  suspicious = 0;
  hasVersion = false;
  hasManifest = false;
  errors = 0;
  entries = 0;
}

/** Is `data` a file the heuristic looks at (cli_scanpe's conditions, --heuristic-alerts aside)? */
function qualifies(data: Uint8Array, pe: PeFile): boolean {
  return (
    pe.sections.length > 1 &&
    data.length > MIN_FILE_SIZE &&
    data.length < MAX_FILE_SIZE &&
    pe.directoryCount > RESOURCE_DIRECTORY &&
    pe.directories[RESOURCE_DIRECTORY]!.size !== 0
  );
}

/** Heuristics.Trojan.Swizzor.Gen: does the PE file's resource text look generated? `debug` gets ClamAV's debug lines. */
export function looksLikeSwizzor(data: Uint8Array, pe: PeFile, debug: (message: string) => void): boolean {
  if (!qualifies(data, pe)) return false;
  const stats = new SwizzorStats();
  const base = pe.directories[RESOURCE_DIRECTORY]!.rva;
  new ResourceTextWalk(data, pe, base, stats, debug).directory(base, 0, 0);
  return judgeFile(stats, debug);
}

/** cli_parseres_special: the ID entries of the resource tree, three levels deep, 1000 directories at most. */
class ResourceTextWalk {
  private directoriesLeft = MAX_DIRECTORIES;

  constructor(
    private readonly data: Uint8Array,
    private readonly pe: PeFile,
    private readonly base: number,
    private readonly stats: SwizzorStats,
    private readonly debug: (message: string) => void,
  ) {}

  private fileAt(rva: number): number | undefined {
    return rawAddress(rva >>> 0, this.pe.sections, this.data.length, this.pe.headersSize);
  }

  /** The directory at `rva`, on `level` (0: types), inside a resource type `type` (0 at level 0). */
  directory(rva: number, level: number, type: number): void {
    if (level > 2 || this.directoriesLeft === 0) return;
    this.directoriesLeft--;
    const data = this.data;
    const at = this.fileAt(rva);
    if (at === undefined || at + DIRECTORY_HEADER_SIZE > data.length) return;
    const count = u16le(data, at + 14);
    if (count === 0) return;
    const first = at + u16le(data, at + 12) * ENTRY_SIZE + DIRECTORY_HEADER_SIZE;
    if (first + count * ENTRY_SIZE > data.length) {
      this.debug(`cli_parseres_special: failed to read resource directory at:${first}`);
      return;
    }
    for (let entry = first; entry < first + count * ENTRY_SIZE; entry += ENTRY_SIZE) {
      if (this.stats.errors >= MAX_ERRORS) {
        this.debug('cli_parseres_special: resources broken, ignoring');
        return;
      }
      const id = u32le(data, entry) & 0x7fff_ffff;
      const entryType = level === 0 ? this.typeOf(id) : type;
      if (entryType === 0) continue;
      const offset = u32le(data, entry + 4);
      if ((offset & SUBDIRECTORY) !== 0) this.directory(this.base + (offset & ~SUBDIRECTORY), level + 1, entryType);
      else this.dataEntry(this.base + offset, id);
    }
  }

  /** The type of a type-level entry, 0 for those whose text is not read (noting version and manifest resources). */
  private typeOf(id: number): number {
    if (id === RT_VERSION) this.stats.hasVersion = true;
    if (id === RT_MANIFEST) this.stats.hasManifest = true;
    return TEXT_TYPES.has(id) ? id : 0;
  }

  /** A resource data entry at `rva`, whose ID (the language, normally) is `id`. */
  private dataEntry(rva: number, id: number): void {
    const data = this.data;
    const at = this.fileAt(rva);
    if (at === undefined || at + DIRECTORY_HEADER_SIZE > data.length) return;
    const size = u32le(data, at + 4);
    const textAt = this.fileAt(u32le(data, at));
    const start = textAt ?? 0;
    if (textAt === undefined || size === 0 || size >= data.length || start + size >= data.length) {
      this.debug(`cli_parseres_special: invalid resource table entry: ${start} + ${size}`);
      this.stats.errors++;
      return;
    }
    if ((id & 0xff) !== LANG_ENGLISH) return;
    judgeText(data.subarray(start, start + size), this.stats, this.debug);
  }
}

/**
 * cli_detect_swizz_str: the resource's UTF-16 text as lower-case words (letters only; digits
 * dropped, other characters end a word, characters above 0xFF skipped), its trigrams counted in
 * `stats`, and the resource judged on how often its trigrams repeat.
 */
function judgeText(text: Uint8Array, stats: SwizzorStats, debug: (message: string) => void): void {
  stats.entries++;
  const words = wordsOf(text);
  if (words.length < 4) return;
  const counts = new Uint8Array(TRIGRAMS);
  let spaces = 0;
  for (let i = 0; i < words.length - 2; i++) {
    const [a, b, c] = [words[i]!, words[i + 1]!, words[i + 2]!];
    if (a !== SPACE && b !== SPACE && c !== SPACE) {
      // The last trigram takes in the terminator: ClamAV's 16-bit index wraps, and may land in the table.
      const index = ((a - 0x61) * 676 + (b - 0x61) * 26 + (c - 0x61)) & 0xffff;
      if (index < TRIGRAMS) {
        counts[index]++;
        stats.trigrams[index]++;
      }
    } else if (a === SPACE) spaces++;
  }
  const repeats = histogram(counts, 3);
  if (repeats.total === 0) return;
  debug(`cli_detect_swizz_str: ${repeats.counts.join(', ')}`);
  const normalised = repeats.counts.map((count) => Math.floor((count << 10) / repeats.total));
  const suspicious = textTree(normalised, debug) && spaces >= 3;
  debug(`cli_detect_swizz_str: ${suspicious ? 'suspicious' : 'ok'}, ${spaces} words`);
  if (suspicious) {
    stats.suspicious += words.length;
    debug(`cli_detect_swizz_str: ${String.fromCharCode(...words.subarray(0, words.length - 1))}`);
  }
  stats.total += words.length;
}

/** The text's words, as ClamAV writes them to its buffer, with the terminating NUL. */
function wordsOf(text: Uint8Array): Uint8Array {
  const out = new Uint8Array(MAX_TEXT + 1);
  let length = 0;
  let inWord = false;
  for (let i = 0; i + 1 < text.length && length < MAX_TEXT; i += 2) {
    const c = text[i]!;
    if (text[i + 1] !== 0 || c === 0) continue;
    if (!isAlphanumeric(c)) {
      if (!inWord) continue;
      inWord = false;
      out[length++] = SPACE;
    } else {
      inWord = true;
      if (!isDigit(c)) out[length++] = c | 0x20;
    }
  }
  out[length++] = 0;
  return out.subarray(0, length);
}

/** How many trigrams occur once, twice, … up to `cap` times or more (counts read as 8-bit values). */
function histogram(counts: Uint8Array | Uint16Array, cap: number): { counts: number[]; total: number } {
  const result = new Array<number>(cap).fill(0);
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = Math.min(counts[i]! & 0xff, cap);
    if (count === 0) continue;
    result[count - 1]!++;
    total++;
  }
  return { counts: result, total };
}

/** swizz_j48: the tree for one resource, on its trigram repeat shares (per 1024). */
function textTree(n: readonly number[], debug: (message: string) => void): boolean {
  debug(`swizz_j48: ${n[0]}, ${n[1]}, ${n[2]}`);
  const [once, twice, more] = n as [number, number, number];
  if (once <= 961 || twice === 0) return false;
  if (once <= 1006) return more > 0 && more <= 6;
  return twice <= 10 && more !== 0;
}

/** swizz_j48_global: the tree for the whole file, on its trigram repeat shares (per 32768). */
function fileTree(gn: readonly number[]): boolean {
  if (gn[0]! <= 24185) return gn[0]! > 22980 && gn[8]! > 0 && gn[8]! <= 97;
  if (gn[8] !== 0) return true;
  if (gn[4]! > 311) return false;
  if (gn[4] === 0) return gn[1]! > 0 && ((gn[0]! <= 26579 && gn[3]! > 0) || (gn[0]! > 28672 && gn[0]! <= 30506));
  if (gn[5]! > 616) return false;
  return gn[6]! <= 104 ? gn[9]! <= 167 : gn[6]! <= 286;
}

/** cli_detect_swizz: the verdict on the whole file. */
function judgeFile(stats: SwizzorStats, debug: (message: string) => void): boolean {
  debug(`cli_detect_swizz: ${stats.suspicious}/${stats.total}, version:${Number(stats.hasVersion)}, manifest: ${Number(stats.hasManifest)} `);
  const repeats = histogram(stats.trigrams, 10);
  let global = false;
  if (repeats.total !== 0) {
    const gn = repeats.counts.map((count) => Math.floor((count << 15) / repeats.total));
    debug(`cli_detect_swizz: gn: ${gn.map((value) => `${value}, `).join('')}`);
    global = fileTree(gn);
    debug(`cli_detect_swizz: global: ${global ? 'suspicious' : 'clean'}`);
  }
  if (stats.errors > stats.entries || stats.errors >= MAX_ERRORS) {
    debug('cli_detect_swizz: resources broken, ignoring');
    return false;
  }
  if (stats.total <= 337) return false;
  if ((stats.suspicious << 10) >>> 0 > 40 * stats.total) return true;
  return stats.suspicious !== 0 && global;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isAlphanumeric(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
