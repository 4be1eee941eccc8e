import { u32le } from '../../formats/compression/read.js';
import { contained } from '../pe-arithmetic.js';
import type { PeFile, PeSection } from '../pe-file.js';
import { rebuildPe } from './rebuild-pe.js';
import { MAX_ALLOCATION, NEXT, STOP, unpacked, type UnpackContext, type UnpackOutcome } from './unpacker.js';
import { hex } from '../../util/c-numbers.js';

/**
 * Petite 2.1 and 2.2: cli_scanpe's Petite block (libclamav pe.c) with petite.c's
 * petite_inflate2x_1to9. Petite's stub starts with `mov eax, <its section>`; a table after the
 * stub lists moves of packed data and the original sections, each compressed with an NRV-like
 * coder whose literals are xored with the count of bytes left. ClamAV lays the sections out as in
 * memory, follows the table, cuts Petite's own code out of the section that holds it (reading
 * the encrypted original entry point and the import list it needs from there), guesses the
 * sections' sizes from their order, and rebuilds a PE file (cli_rebuildpe) from what it found.
 * Level-zero (stored) Petite files are recognised but not unpacked, as in ClamAV.
 */

/** `mov eax, imm32`: the first instruction of Petite's stub. */
const MOV_EAX = 0xb8;
/** The dword at epbuff+0x80 of a level-zero stub. */
const LEVEL_ZERO_MARK = 0x163c988d;
/** The dwords that open the code Petite appends to a section (`xor eax,eax; pop esi; mov ebx,fs:[eax]; mov ebx,[ebx]`). */
const STUB_CODE = [0x645ec033, 0x1b8b188b];
/** Where an import list's entries point when ClamAV cannot tell (KERNEL32 in Win9x). */
const KERNEL_API = 0xbff01337;
/** A stub whose import walk was never patched leaves nops where the mangling code would be. */
const UNMANGLED = 0x90909090;
/** cli_rebuildpe takes at most this many sections; Petite's table may not list more. */
const MAX_SECTIONS = 96;
/** INT_MAX / 2: a back-reference distance this large means the data is not Petite's. */
const DISTANCE_LIMIT = 0x3fffffff;
/**
 * How many import entries the entry point's decryption may visit. ClamAV sets no bound, and
 * crafted import lists (every thunk naming one long list) make its walk quadratic in the image
 * size, hours for a large image. Past this many entries (about a second here, far more than any
 * real import table has) ClamTS takes ClamAV's own fallback for a walk that does not end: the
 * first section's address.
 */
const IMPORT_WALK_LIMIT = 1 << 26;

/** Layout constants of the two stub versions ClamAV knows. */
interface Version {
  /** Where the table of moves and sections starts in the stub's section. */
  readonly table: number;
  /** How far from the end of a section Petite's code starts. */
  readonly grown: number;
  /** How much further it starts when the original file kept its relocations. */
  readonly skew: number;
  /** Whether the entry point's key depends on the import lists (2.2; 2.1's is used as it is). */
  readonly walksImports: boolean;
}

const VERSIONS: Readonly<Record<1 | 2, Version>> = {
  1: { table: 0x178, grown: 0x323, skew: 0x34, walksImports: false },
  2: { table: 0x1b8, grown: 0x355, skew: 0x35, walksImports: true },
};

export function unpackPetite(ctx: UnpackContext): UnpackOutcome {
  const { pe, entry, data } = ctx;
  // cli_scanpe ends here when fewer than 200 bytes follow the entry point.
  if (entry.length < 200) return STOP;
  const version = petiteVersion(pe, entry);
  if (version === undefined) return NEXT;
  ctx.debug(`cli_scanpe: Petite: v2.${version} compression detected`);
  if (u32le(entry, 0x80) === LEVEL_ZERO_MARK) {
    ctx.debug('cli_scanpe: Petite: level zero compression is not supported yet');
    return NEXT;
  }
  const size = (pe.maxRva - pe.minRva) >>> 0;
  if (!ctx.withinLimits(size)) return STOP;
  if (size === 0 || size > MAX_ALLOCATION) {
    ctx.debug(`cli_scanpe: Petite: Can't allocate ${size | 0} bytes`);
    return STOP;
  }
  // The image from the lowest section address on, each section with data at its place.
  const image = new Uint8Array(size);
  for (const section of pe.sections) {
    if (section.rawOffset === 0) continue;
    const at = section.rva - pe.minRva;
    const length = section.declaredRawSize;
    if (section.rawSize === 0 || !contained(0, size, at, length) || section.rawOffset + length > data.length) return STOP;
    image.set(data.subarray(section.rawOffset, section.rawOffset + length), at);
  }
  // Version 2.1 keeps its stub in the last section but one, and the last is left out.
  const sections = pe.sections.slice(0, pe.sections.length - (version === 1 ? 1 : 0));
  const resources = pe.directories[2]!;
  const file = new PetiteInflater(ctx, image, pe, sections, VERSIONS[version]).run(resources.rva, resources.size);
  if (file === undefined) {
    ctx.debug('Petite: Unpacking failed');
    return NEXT;
  }
  return unpacked(file);
}

/** 2 when the stub's `mov eax` names the last section, 1 when it names the one before, else not Petite. */
function petiteVersion(pe: PeFile, entry: Uint8Array): 1 | 2 | undefined {
  const { sections, imageBase } = pe;
  const names = (index: number) => entry[0] === MOV_EAX && u32le(entry, 1) === ((sections[index]!.rva + imageBase) >>> 0);
  if (names(sections.length - 1)) return 2;
  if (sections.length >= 2 && names(sections.length - 2)) return 1;
  return undefined;
}

/** One original section as Petite's table describes it (rsz, vsz, raw of a cli_exe_section). */
interface Unpacked {
  rva: number;
  virtualSize: number;
  rawSize: number;
  rawOffset: number;
}

/**
 * petite_inflate2x_1to9 over the image. Offsets are into `image`, which starts at the lowest
 * section address (`minRva`); ClamAV's pointers into it are checked with CLI_ISCONTAINED before
 * each use, which `inImage` stands for.
 */
class PetiteInflater {
  private readonly found: Unpacked[] = [];
  /** Where the packed data moved by the last move entry ends (plus 4): the next section's virtual end. */
  private bottom = 0;
  /**
   * Sections unpacked since the last move entry (check4resources): only the first is widened to
   * the start of the header's section that holds it.
   */
  private sectionsSinceMove = 0;
  private encryptedEntry = 0;
  private importArray = 0;
  private mangled = false;

  constructor(
    private readonly ctx: UnpackContext,
    private readonly image: Uint8Array,
    private readonly pe: PeFile,
    private readonly sections: readonly PeSection[],
    private readonly version: Version,
  ) {}

  private get minRva(): number {
    return this.pe.minRva;
  }

  private inImage(at: number, length: number): boolean {
    return contained(0, this.image.length, at, length);
  }

  /** The rebuilt file, or undefined where ClamAV's returns 1. */
  run(resourceRva: number, resourceSize: number): Uint8Array | undefined {
    const stubRva = this.sections[this.sections.length - 1]!.rva;
    for (let entry = stubRva + this.version.table - this.minRva; ; ) {
      if (!this.inImage(entry, 4)) return undefined;
      const word = u32le(this.image, entry);
      if (word === 0) return this.found.length === 0 ? undefined : this.rebuild(resourceRva, resourceSize);
      if (word >= 0x80000000) {
        if (!this.move(entry, word & 0x7fffffff)) return undefined;
        entry += 0x0c;
      } else {
        if (!this.inImage(entry + 4, 8)) return undefined;
        const size = u32le(this.image, entry + 4);
        const rva = u32le(this.image, entry + 8);
        entry += 0x10;
        if (!this.section(word, size, rva)) return undefined;
      }
    }
  }

  /** A move entry: `words` dwords of packed data moved to end where the entry says. */
  private move(entry: number, words: number): boolean {
    this.sectionsSinceMove = 0;
    if (!this.inImage(entry + 4, 8)) return false;
    const end = u32le(this.image, entry + 8);
    if (end > 0xffffffff - 4) return false;
    this.bottom = end + 4;
    // The ends are signed in ClamAV's pointer arithmetic; the distance back wraps at 32 bits.
    const back = ((words - 1) * 4) >>> 0;
    const from = (u32le(this.image, entry + 4) | 0) - this.minRva - back;
    const to = (end | 0) - this.minRva - back;
    const length = (words * 4) >>> 0;
    if (!this.inImage(from, length) || !this.inImage(to, length)) return false;
    this.image.copyWithin(to, from, from + length);
    return true;
  }

  /** A section entry: `size` bytes decompressed from `source` to `rva`. */
  private section(source: number, size: number, rva: number): boolean {
    if (this.found.length >= MAX_SECTIONS) {
      this.ctx.debug('Petite: maximum number of sections exceeded, giving up.');
      return false;
    }
    const gap = (this.bottom - rva) | 0;
    const section: Unpacked = { rva, rawSize: size, virtualSize: gap > 0 ? gap >>> 0 : size, rawOffset: 0 };
    this.found.push(section);
    // An empty ("ghost") section, such as stripped relocations: nothing to decompress.
    if (size === 0) return true;
    // The first section after a move may hold data Petite left unpacked (the icon): it is
    // widened to the start of the header's section that holds it.
    const home = this.sections.find((candidate) => contained(candidate.rva, candidate.virtualSize, rva, section.virtualSize));
    if (home === undefined) return false;
    if (this.sectionsSinceMove === 0) {
      section.rva = home.rva;
      section.rawSize = (rva - home.rva + size) >>> 0;
    }
    const end = this.decompress(source - this.minRva, rva - this.minRva, size);
    if (end === undefined) return false;
    this.stripStub(section, end);
    this.sectionsSinceMove++;
    return true;
  }

  /**
   * The section's data, decompressed in place: a first byte stored as is, then literals (xored
   * with the low byte of the count left) and back-references, chosen by flag bits. Where the
   * output ends, or undefined when the data leaves the image.
   */
  private decompress(source: number, target: number, size: number): number | undefined {
    const { image } = this;
    if (!this.inImage(source, 1) || !this.inImage(target, 1)) return undefined;
    const bits = new FlagBits(image, source + 1);
    image[target] = image[source]!;
    let out = target + 1;
    let left = size - 1;
    // Longer sections use longer distances; these decide how much a far copy adds to its length.
    const [near, far, distanceBits] = size < 0x10000 ? [-0x3a0, -0x3fa0, 5] : size < 0x40000 ? [-0x680, -0x7e80, 7] : [-0x500, -0x7d00, 8];
    let distance = 0;
    let lastDistance = 0;
    while (left > 0) {
      const literal = bits.next();
      if (literal < 0) return undefined;
      if (literal === 0) {
        if (!this.inImage(bits.at, 1) || !this.inImage(out, 1)) return undefined;
        image[out++] = image[bits.at++]! ^ (left & 0xff);
        left--;
        continue;
      }
      let extra = 0;
      distance++;
      for (;;) {
        const bit = bits.next();
        if (bit < 0) return undefined;
        if (distance >= DISTANCE_LIMIT) return this.invalid();
        distance = distance * 2 + bit;
        const more = bits.next();
        if (more < 0) return undefined;
        if (more === 0) break;
      }
      distance -= 3;
      let length: number;
      if (distance >= 0) {
        for (let i = 0; i < distanceBits; i++) {
          const bit = bits.next();
          if (bit < 0) return undefined;
          if (distance >= DISTANCE_LIMIT) return this.invalid();
          distance = distance * 2 + bit;
        }
        distance = ~distance;
        extra += 1 + (distance < near ? 1 : 0) + (distance < far ? 1 : 0);
        lastDistance = distance;
        length = 0;
      } else {
        // A repeat of the last distance.
        length = (distance + 1) >>> 0;
        distance = lastDistance;
      }
      for (let i = 0; i < 2; i++) {
        const bit = bits.next();
        if (bit < 0) return undefined;
        length = (length * 2 + bit) >>> 0;
      }
      if (length === 0) {
        length = 1;
        for (;;) {
          const bit = bits.next();
          if (bit < 0) return undefined;
          length = (length * 2 + bit) >>> 0;
          const more = bits.next();
          if (more < 0) return undefined;
          if (more === 0) break;
        }
        length = (length + 2) >>> 0;
      }
      length = (length + extra) >>> 0;
      left = (left - length) >>> 0;
      if (!this.inImage(out, length) || !this.inImage(out + distance, length)) return undefined;
      // Byte by byte: the source may overlap what is being written.
      for (let i = 0; i < length; i++, out++) image[out] = image[out + distance]!;
      distance = 0;
    }
    return out;
  }

  private invalid(): undefined {
    this.ctx.debug('Petite: probably invalid file');
    return undefined;
  }

  /**
   * Petite's own code at the end of a section (found by its first instructions, `grown` bytes
   * before the end, or `skew` more when relocations were kept) is cut off; the encrypted entry
   * point and the address of the import list are read from it.
   */
  private stripStub(section: Unpacked, end: number): void {
    const { grown, skew } = this.version;
    const opens = (at: number) => this.inImage(at, 8) && u32le(this.image, at) === STUB_CODE[0] && u32le(this.image, at + 4) === STUB_CODE[1];
    const code = end - grown;
    let reloc: number;
    if (section.rawSize > grown && opens(code + 5 + 0x4f)) reloc = 0;
    else if (section.rawSize > grown + skew && opens(code + 5 + 0x4f - skew)) reloc = skew;
    else return;
    const stub = code - reloc;
    if (!this.inImage(stub + 0x0f - 8, 8)) return;
    const key = u32le(this.image, stub + 0x0f - 8) ^ 0x9d6661aa;
    const check = u32le(this.image, stub + 0x0f - 4) ^ 0xe908c483;
    this.ctx.debug(`Petite: Found petite code in sect${this.found.length - 1}(${hex(section.rva)}). Let's strip it.`);
    if (key === check && this.inImage(stub + 0x0f, 0x1c0 - 0x0f + 4)) {
      this.importArray = u32le(this.image, stub + 0x121);
      this.encryptedEntry = (u32le(this.image, stub + 0x0f) ^ key) >>> 0;
      this.mangled = u32le(this.image, stub + 0x1c0) !== UNMANGLED;
      this.ctx.debug(`Petite: Encrypted EP: ${hex(this.encryptedEntry)} | Array of imports: ${hex(this.importArray)}`);
    }
    section.rawSize = (section.rawSize - (grown + reloc)) >>> 0;
  }

  /** The end of the table: the sections put in order, sized, packed together and written out. */
  private rebuild(resourceRva: number, resourceSize: number): Uint8Array | undefined {
    const { found, image } = this;
    found.sort((a, b) => a.rva - b.rva);
    // Each section reaches to the next.
    for (let t = 0; t + 1 < found.length; t++) found[t]!.virtualSize = (found[t + 1]!.rva - found[t]!.rva) >>> 0;
    const entry = this.encryptedEntry === 0 ? 0 : this.originalEntry();
    for (let t = 0; t < found.length; t++) {
      const section = found[t]!;
      const previous = found[t - 1];
      section.rawOffset = previous === undefined ? 0 : (previous.rawOffset + previous.rawSize) >>> 0;
      if (section.rawSize === 0) continue;
      if (this.inImage(section.rawOffset, section.rawSize)) {
        // The section's data lies in the image: its decompression wrote it there.
        const from = section.rva - this.minRva;
        image.copyWithin(section.rawOffset, from, from + section.rawSize);
      } else {
        this.ctx.debug(`Petite: Skipping section ${t}, Raw: ${hex(section.rawOffset)}, RSize:${hex(section.rawSize)}`);
        section.rawOffset = previous?.rawOffset ?? 0;
        section.rawSize = 0;
      }
    }
    this.ctx.debug('Petite: Sections dump:');
    found.forEach((s, t) => this.ctx.debug(`Petite: .SECT${t} RVA:${hex(s.rva)} VSize:${hex(s.virtualSize)} ROffset: ${hex(s.rawOffset)}, RSize:${hex(s.rawSize)}`));
    const file = rebuildPe(image, found, this.pe.imageBase, entry, resourceRva, resourceSize);
    if (file === undefined) this.ctx.debug('Petite: Rebuilding failed');
    return file;
  }

  /**
   * The original entry point: Petite 2.2 encrypts it with a walk over the import lists (each
   * entry turns the key back by one or two and rotates it), which ClamAV replays; when the walk
   * does not reach the list's end, the first section's address stands in.
   */
  private originalEntry(): number {
    const { image, minRva } = this;
    const { imageBase, entryRva } = this.pe;
    const stubVa = (this.sections[this.sections.length - 1]!.rva + imageBase) >>> 0;
    let key = this.encryptedEntry;
    let done = !this.version.walksImports;
    if (!done) {
      let address = (entryRva + 5 + imageBase) >>> 0;
      let countdown = 0;
      let listEnded = true;
      let budget = IMPORT_WALK_LIMIT;
      // CLI_ISCONTAINED for a dword, written out: this loop is the hot one.
      const fits = (at: number) => at >= 0 && at + 4 <= image.length;
      for (let thunk = this.importArray - minRva; listEnded && fits(thunk) && budget > 0; thunk += 4) {
        if (u32le(image, thunk) === 0) {
          done = true;
          break;
        }
        listEnded = false;
        for (let at = (u32le(image, thunk) | 0) - minRva; fits(at) && budget > 0; at += 4, budget--) {
          let api = u32le(image, at);
          if (api === 0) {
            listEnded = true;
            break;
          }
          // Mangled entries (not by ordinal) point into a table of jumps, one every five bytes.
          if (api < 0x80000000 && this.mangled && --countdown < 0) {
            api = address;
            address = (address + 5) >>> 0;
            countdown = address & 7;
          } else {
            api = KERNEL_API;
          }
          if (stubVa < api) key = (key - 1) >>> 0;
          if (api < address) key = (key - 1) >>> 0;
          key = ((key >>> 3) | ((key & 7) << 29)) >>> 0;
        }
      }
    }
    const entry = (entryRva + 5 + key) >>> 0;
    if (done) {
      this.ctx.debug(`Petite: Old EP: ${hex(entry)}`);
      return entry;
    }
    const bogus = this.found[0]!.rva;
    this.ctx.debug(`Petite: In troubles while attempting to decrypt old EP, using bogus ${hex(bogus)}`);
    return bogus;
  }
}

/**
 * Petite's flag bits (doubledl): a byte shifted left one bit at a time, refilled from the data
 * with a marker bit below it. The data's last byte is never taken as flags.
 */
class FlagBits {
  private flags = 0;

  constructor(
    private readonly data: Uint8Array,
    /** The shared read position: literals are read from the same stream. */
    public at: number,
  ) {}

  /** The next bit, or -1 where a flag byte would come from outside the data. */
  next(): number {
    let top = this.flags;
    let flags = (top << 1) & 0xff;
    if ((top & 0x7f) === 0) {
      if (this.at < 0 || this.at >= this.data.length - 1) return -1;
      top = this.data[this.at++]!;
      flags = ((top << 1) | 1) & 0xff;
    }
    this.flags = flags;
    return (top >> 7) & 1;
  }
}
