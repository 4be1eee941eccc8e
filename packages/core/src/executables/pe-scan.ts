import type { ExtractedObject, ExtractionContext } from '../formats/handler.js';
import { guarded } from '../formats/compression/guard.js';
import { installShieldOverlayFiles, type InstallShieldLimits } from '../formats/installshield.js';
import { importTableText } from './import-hash.js';
import { firstEmptySection, readPeHeaders, type PeFile } from './pe-file.js';
import { peHeuristics } from './pe-heuristics.js';
import { looksLikeSwizzor } from './swizzor.js';
import { unpackAspack } from './unpackers/aspack.js';
import { unpackFsg } from './unpackers/fsg.js';
import { unpackMew } from './unpackers/mew.js';
import { unpackNspack } from './unpackers/nspack.js';
import { unpackPespin } from './unpackers/pespin.js';
import { unpackPetite } from './unpackers/petite.js';
import { unpackUpack } from './unpackers/upack.js';
import { unpackUpx } from './unpackers/upx.js';
import { unpackWwpack } from './unpackers/wwpack.js';
import { unpackYc } from './unpackers/yc.js';
import { NEXT, STOP, type UnpackContext, type UnpackOutcome } from './unpackers/unpacker.js';
import type { DconfFlags } from '../engine/dconf.js';

/**
 * ClamAV's cli_scanpe, which runs after the raw scan of a PE file: the headers are read (a
 * broken one is reported with --alert-broken), each section's data is matched against the
 * section hash signatures (.mdb/.msb), the files of an InstallShield setup in the overlay are
 * scanned, the import table is matched against the import-table hash signatures (.imp), and then
 * the unpackers are tried in ClamAV's order. The first that recognises its packer decides: its
 * output is scanned as a new file, or the PE scan ends there.
 *
 * DCONF's PE options decide which of these steps run: section hashes (MD5SECT), the import
 * table (IMPTBL), each heuristic, each unpacker; the Trojan.Swizzor heuristic is off unless a
 * `.cfg` database turns it on. Not done yet: bytecode hooks.
 */

export interface PeScanHost {
  /** DETECT_BROKEN_PE: --alert-broken is on and the object was not rebuilt from another. */
  readonly strict: boolean;
  /** SCAN_HEURISTICS: --heuristic-alerts is on. */
  readonly heuristics: boolean;
  /** The engine's DCONF PE options (SWIZZOR is off unless a .cfg database turns it on). */
  readonly dconf: PeDconf;
  /** --allmatch. */
  readonly allMatch: boolean;
  /** Reports a heuristic's name (as potentially unwanted). */
  report(name: string): void;
  /** scan_pe_mdb for one section's data; false when the scan must stop. */
  matchSection(data: Uint8Array): boolean;
  /** Whether import-table hash signatures (.imp) are loaded: ClamAV then reads the import table. */
  readonly hashesImports: boolean;
  /**
   * scan_pe_imp's matching of the import table's hash text; false when the PE scan must stop (a
   * sized match ended the scan: after an any-size one ClamAV goes on with the later steps).
   */
  matchImports(text: Uint8Array): boolean;
  /** Scans an unpacker's output as a new file, one level deeper. */
  scanUnpacked(data: Uint8Array): void;
  /**
   * Scans the files `extract` finds in the PE file as its members (container metadata, then the
   * file, one level deeper); false when the scan must stop there (a virus or a limit).
   */
  scanMembers(extract: (ctx: ExtractionContext) => Iterable<ExtractedObject>): boolean;
  /** The scan's --max-files and --max-filesize, which the InstallShield extractor applies too. */
  readonly limits: InstallShieldLimits;
  /** cli_checklimits for an unpacker's sizes. */
  withinLimits(size: number): boolean;
  debug(message: string): void;
}

/** How much of the entry point cli_scanpe reads for the unpackers' checks (epbuff). */
const ENTRY_BYTES = 4096;

/**
 * The unpacking steps in cli_scanpe's order. The bare size check is cli_scanpe's own: with fewer
 * bytes at the entry point than the following packers look at, the scan ends (Petite's step
 * opens with the next one, at 200 bytes).
 */
const STEPS: readonly UnpackStep[] = [
  { option: 'mew', run: withEmptySection(unpackMew) },
  { run: (ctx) => (ctx.entry.length < 168 ? STOP : NEXT) },
  { option: 'upack', run: unpackUpack },
  { option: 'fsg', run: withEmptySection(unpackFsg) },
  { option: 'upx', run: withEmptySection(unpackUpx) },
  { option: 'petite', run: unpackPetite },
  { option: 'pespin', run: unpackPespin },
  { option: 'yc', run: unpackYc },
  { option: 'wwpack', run: unpackWwpack },
  { option: 'aspack', run: unpackAspack },
  { option: 'nspack', run: unpackNspack },
];

type PeDconf = DconfFlags['pe'];

/** An unpacking step, and the DCONF PE option without which cli_scanpe passes over it. */
interface UnpackStep {
  readonly option?: keyof PeDconf;
  readonly run: (ctx: UnpackContext) => UnpackOutcome;
}

/** The packers that look for an empty section (ClamAV looks only while one of them is on). */
const EMPTY_SECTION_PACKERS = ['upx', 'fsg', 'mew'] as const;

/** A step for packers that unpack into an empty section: tried only when the file has one. */
function withEmptySection(step: (ctx: UnpackContext, emptySection: number) => UnpackOutcome): (ctx: UnpackContext) => UnpackOutcome {
  return (ctx) => {
    const empty = firstEmptySection(ctx.pe);
    return empty === undefined ? NEXT : step(ctx, empty);
  };
}

export function scanPe(data: Uint8Array, host: PeScanHost): void {
  const pe = readPeHeaders(data, { removeMissingSections: true, strict: host.strict });
  if (typeof pe === 'string') {
    if (pe === 'broken' && host.strict) host.report('Heuristics.Broken.Executable');
    host.debug('cli_scanpe: PE header appears broken - won\'t attempt .mdb / .imp / PE-specific BC rule matching or exe unpacking');
    return;
  }
  const { dconf } = host;
  for (const section of pe.sections) {
    if (dconf.md5sect && section.rawSize !== 0 && !host.matchSection(data.subarray(section.rawOffset, section.rawOffset + section.rawSize))) return;
  }
  // ClamAV goes no further with PE32+ files, nor when the entry point is past the end.
  if (pe.isPe32Plus || pe.entryPoint > data.length) return;
  if (!scanInstallShield(data, pe, host)) return;
  if (dconf.imptbl && host.hashesImports && !scanImports(data, pe, host)) return;
  const entry = data.subarray(pe.entryPoint, pe.entryPoint + ENTRY_BYTES);
  if (host.heuristics) {
    for (const name of peHeuristics(data, pe, entry, dconf)) host.report(name);
    if (dconf.swizzor && looksLikeSwizzor(data, pe, (message) => host.debug(message))) host.report('Heuristics.Trojan.Swizzor.Gen');
  }
  const ctx: UnpackContext = {
    data,
    pe,
    entry,
    withinLimits: (size) => host.withinLimits(size),
    debug: (message) => host.debug(message),
    report: (name) => host.report(name),
    allMatch: host.allMatch,
    maxFileSize: host.limits.maxFileSize ?? 0,
  };
  if (EMPTY_SECTION_PACKERS.some((packer) => dconf[packer]) && firstEmptySection(pe) !== undefined) {
    host.debug('cli_scanpe: UPX/FSG/MEW: empty section found - assuming compression');
  }
  for (const step of STEPS) {
    if (step.option && !dconf[step.option]) continue;
    const outcome = step.run(ctx);
    if (outcome.kind === 'next') continue;
    if (outcome.kind === 'unpacked') host.scanUnpacked(outcome.data);
    return;
  }
}

/** scan_pe_imp: false when the PE scan ends there (a sized match, or an import table ClamAV cannot read). */
function scanImports(data: Uint8Array, pe: PeFile, host: PeScanHost): boolean {
  const imports = importTableText(data, pe, (message) => host.debug(message));
  if (imports.kind === 'none') return true;
  return imports.kind === 'text' && host.matchImports(imports.text);
}

/** cli_scanishield on the overlay, if there is one: false when the PE scan ends there. */
function scanInstallShield(data: Uint8Array, pe: PeFile, host: PeScanHost): boolean {
  if (!pe.overlayStart || pe.overlaySize <= 0) return true;
  let goesOn = true;
  const scanned = host.scanMembers((ctx) => {
    const files = function* () {
      goesOn = yield* installShieldOverlayFiles(data, pe.overlayStart, pe.overlaySize, ctx, host.limits);
    };
    return guarded('ishield', files(), ctx);
  });
  return scanned && goesOn;
}
