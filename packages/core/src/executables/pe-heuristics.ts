import { u32le } from '../formats/compression/read.js';
import { indexOfBytes } from '../util/byte-search.js';
import { contained } from './pe-arithmetic.js';
import { rawAddress, type PeFile } from './pe-file.js';
import type { DconfFlags } from '../engine/dconf.js';

/**
 * cli_scanpe's detectors for four old polymorphic file infectors, which no signature can
 * describe: W32.Parite.B, W32.Kriz, W32.Magistr.A/B and W32.Polipos.A. Each looks at the entry
 * point's code or the last section for the virus's decryptor, exactly as ClamAV does (so that
 * the same files are reported). The names are reported as heuristics (--heuristic-alerts).
 */

/** The DCONF switches of these detectors. */
export type PeHeuristicSwitches = Pick<DconfFlags['pe'], 'parite' | 'kriz' | 'magistr' | 'polipos'>;

/** The names found in `data` by the detectors DCONF has on, in cli_scanpe's order. */
export function peHeuristics(data: Uint8Array, pe: PeFile, entry: Uint8Array, on: PeHeuristicSwitches): string[] {
  const found: string[] = [];
  if (on.parite && isParite(pe, entry)) found.push('Heuristics.W32.Parite.B');
  if (on.kriz && isKriz(pe, entry)) found.push('Heuristics.W32.Kriz');
  const magistr = on.magistr ? magistrVariant(data, pe) : undefined;
  if (magistr) found.push(`Heuristics.W32.Magistr.${magistr}`);
  if (on.polipos && hasPoliposJump(data, pe)) found.push('Heuristics.W32.Polipos.A');
  return found;
}

const ENTRY_BYTES = 4096;
const GET_PROC_ADDRESS = new TextEncoder().encode('GetProcAddress\0');

const lastSection = (pe: PeFile) => pe.sections[pe.sections.length - 1]!;

/**
 * W32.Parite.B: an EXE whose entry point opens its last section, holding "GetProcAddress"
 * followed by three XOR-masked constants.
 */
function isParite(pe: PeFile, entry: Uint8Array): boolean {
  if (pe.isDll || entry.length !== ENTRY_BYTES || pe.entryPoint !== lastSection(pe).rawOffset) return false;
  const name = indexOfBytes(entry, GET_PROC_ADDRESS, 0, 4040);
  if (name < 0) return false;
  const at = name + GET_PROC_ADDRESS.length;
  const masked = (n: number) => (u32le(entry, at + 8 * n) ^ u32le(entry, at + 8 * n + 4)) >>> 0;
  return masked(0) === 0x505a4f && masked(1) === 0xffffb && masked(2) === 0xb8;
}

/** The parts of Kriz's decryptor, in the order they follow each other (with junk between). */
const enum KrizStep {
  Junk,
  CallDelta,
  PopPointer,
  SizeCounter,
  XorPrefix,
  Xor,
  DecrementPointer,
  Loop,
  Done,
}

const KRIZ_STEPS = [
  KrizStep.Junk,
  KrizStep.CallDelta,
  KrizStep.PopPointer,
  KrizStep.SizeCounter,
  KrizStep.Junk,
  KrizStep.XorPrefix,
  KrizStep.Xor,
  KrizStep.Junk,
  KrizStep.DecrementPointer,
  KrizStep.Junk,
  KrizStep.Loop,
];
/** The size of Kriz's body, which its decryptor loads as its counter. */
const KRIZ_SIZE = 0x0fd2;
const NO_REGISTER = 0xff;

/**
 * W32.Kriz: `pushf; pusha` at the entry point in the last section, then a decryptor — a call
 * over junk, a pop of its pointer register, a counter set to Kriz's size, a XOR through the
 * pointer, a decrement, and a loop back that stays inside the decryptor.
 */
function isKriz(pe: PeFile, entry: Uint8Array): boolean {
  const last = lastSection(pe);
  if (entry.length < 200 || !contained(last.rawOffset, last.rawSize, pe.entryPoint, KRIZ_SIZE) || entry[1] !== 0x9c || entry[2] !== 0x60) return false;
  let step = 0;
  let at = 3;
  let left = 197;
  let pointer = NO_REGISTER;
  let counter = NO_REGISTER;
  let counterLeft = 0xffff;
  let xorLeft = -1;
  const byte = (offset: number) => entry[offset] ?? 0;
  while (step < KRIZ_STEPS.length && left > 6) {
    let op = byte(at++);
    left--;
    const kind = KRIZ_STEPS[step]!;
    switch (kind) {
      case KrizStep.Junk:
      case KrizStep.SizeCounter: {
        // Junk is skipped: `add/sub r32, imm32`, `mov r32, imm32` and `dec r32` on other registers.
        // Whatever else ends the junk and is read again as the next step.
        let operand = 0;
        if (op === 0x81) {
          at += 5;
          left -= 5;
          break;
        }
        const movImmediate = op >= 0xb8 && op <= 0xbf && op !== 0xbc;
        const decrement = op >= 0x48 && op <= 0x4f && op !== 0x4c;
        if (movImmediate || decrement) {
          if (movImmediate) {
            if (kind === KrizStep.SizeCounter && u32le(entry, at) === KRIZ_SIZE) {
              counterLeft = left - 5;
              counter = op - 0xb8;
              step++;
              op = 4; // a register no step uses, so the move is skipped as junk
            }
            operand = 4;
          }
          const register = op & 7;
          if (register !== pointer && register !== counter) {
            at += operand;
            left -= operand;
            break;
          }
        }
        at--;
        left++;
        step++;
        break;
      }
      case KrizStep.CallDelta:
        if (op !== 0xe8 || u32le(entry, at) >= 0xff) return false;
        left -= byte(at) + 4;
        at += byte(at) + 4;
        step++;
        break;
      case KrizStep.PopPointer:
        pointer = op - 0x58;
        if ((op & 0xf8) !== 0x58 || pointer === 4) return false;
        step++;
        break;
      case KrizStep.XorPrefix:
      case KrizStep.Xor:
        step++;
        if (kind === KrizStep.XorPrefix && op === 0x3e) break; // a DS: prefix before the XOR
        if (kind === KrizStep.XorPrefix) step++;
        if (op !== 0x80 || byte(at) !== pointer + 0xb0) return false;
        xorLeft = left;
        at += 6;
        left -= 6;
        break;
      case KrizStep.DecrementPointer:
        if (op !== pointer + 0x48) return false;
        step++;
        break;
      case KrizStep.Loop: {
        const back = (byte(at + 1) << 24) >> 24;
        return op === counter + 0x48 && byte(at) === 0x75 && left - back - 3 <= counterLeft && left - back >= xorLeft;
      }
      default:
        return false;
    }
  }
  return false;
}

/**
 * W32.Magistr: a writable last section of Magistr's size whose last 28/32 KiB (or less) start
 * with a call of that size within their first 4 KiB. `.dam` when the section's raw size was cut
 * at the end of the file.
 */
function magistrVariant(data: Uint8Array, pe: PeFile): string | undefined {
  if (pe.isDll || pe.sections.length <= 1) return undefined;
  const last = lastSection(pe);
  if ((last.characteristics & 0x80000000) === 0) return undefined;
  const virtualSize = last.declaredVirtualSize;
  const damaged = last.rawSize < last.declaredRawSize;
  const rawSize = damaged ? last.declaredRawSize : last.rawSize;
  const variants: Array<[string, number, number, Uint8Array]> = [
    ['A', 0x612c, 0x7000, Uint8Array.of(0xe8, 0x2c, 0x61, 0x00, 0x00)],
    ['B', 0x7000, 0x8000, Uint8Array.of(0xe8, 0x04, 0x72, 0x00, 0x00)],
  ];
  const variant = variants.find(([name, minimum]) => virtualSize >= minimum && rawSize >= minimum && (virtualSize & 0xff) === (name === 'A' ? 0xec : 0xed));
  if (!variant) return undefined;
  const [name, , window, call] = variant;
  const start = (last.rawOffset + rawSize - Math.min(rawSize, window)) >>> 0;
  if (start + ENTRY_BYTES > data.length) return undefined;
  const found = indexOfBytes(data, call, start, start + 4091) >= 0;
  return found ? (damaged ? `${name}.dam` : name) : undefined;
}

/** At most this many distinct jump targets are collected, as ClamAV does. */
const MAX_POLIPOS_JUMPS = 1280;

/**
 * W32.Polipos.A: calls and jumps in the first section that land in Polipos's section (the last
 * executable, writable one of 40,000-70,000 bytes), on a function prologue of the virus.
 */
function hasPoliposJump(data: Uint8Array, pe: PeFile): boolean {
  const virus = poliposSection(pe);
  const { sections } = pe;
  if (virus === 0 || pe.isDll || sections.length <= 2 || sections.length >= 13 || pe.peOffset > 0x800) return false;
  if ((pe.subsystem !== 2 && pe.subsystem !== 3) || pe.machine !== 0x14c || pe.stackReserve < 0x80000) return false;
  const first = sections[0]!;
  if (first.rawSize < 5) return false;
  const code = data.subarray(first.rawOffset, first.rawOffset + first.rawSize);
  const landings = new Set<number>();
  for (let i = 0; i < first.rawSize - 5; i++) {
    if (code[i] !== 0xe8 && code[i] !== 0xe9) continue;
    const target = rawAddress((first.rva + i + 5 + u32le(code, i + 1)) >>> 0, sections, data.length, pe.headersSize);
    if (target === undefined || !contained(sections[virus]!.rawOffset, sections[virus]!.rawSize, target, 9)) continue;
    if (landings.size === MAX_POLIPOS_JUMPS) break;
    landings.add(target);
  }
  return [...landings].some((at) => {
    if (at + 9 > data.length) return false;
    // push ebp; mov ebp, esp; then pusha, or sub esp with pusha after it, or a long sub esp.
    const head = u32le(data, at);
    const subEsp = data[at + 4] === 0xec;
    return head === 0x60ec8b55 || (subEsp && ((head === 0x83ec8b55 && data[at + 6] === 0x60) || (head === 0x81ec8b55 && data[at + 7] === 0 && data[at + 8] === 0)));
  });
}

/** The last section with data, Polipos's size and characteristics; 0 when none (or only the first). */
function poliposSection(pe: PeFile): number {
  let found = 0;
  pe.sections.forEach((section, i) => {
    if (section.rawSize !== 0 && section.virtualSize > 40000 && section.virtualSize < 70000 && section.characteristics === 0xe0000060) found = i;
  });
  return found;
}
