import { corrupt } from '../compression/corrupt.js';
import { RarBitInput } from './rar15-bits.js';
import type { EntryOutput, LzWindow } from './rar15-window.js';
import { recogniseProgram, runFilter, VM_MEMORY_SIZE, type FilterOutput, type FilterType } from './rar29-filters.js';

/**
 * The filters of a RAR 2.9 stream: the programs defined so far and the blocks waiting to be
 * filtered on their way from the window to the output.
 *
 * A filter record (after main symbol 257, or PPM escape 3) is a flags byte and a little
 * bit-packed record: the program number (flag 0x80; 0 forgets all programs), the block start
 * relative to the current position (+258 with flag 0x40), the block length (flag 0x20, else the
 * program's last one), initial registers (flag 0x10, a 7-bit mask then the values), the VM code
 * when the program is new, and global data (flag 0x08), which the standard filters do not use.
 */

/** UnRAR's bounds on programs and on filters waiting at once. */
const MAX_FILTERS = 8192;
const MAX_VM_CODE = 0x10000;
const MAX_GLOBAL_DATA = 0x2000 - 0x40;

interface Program {
  readonly type: FilterType;
  lastLength: number;
}

interface PendingFilter {
  readonly type: FilterType;
  /** Absolute window position of the block. */
  readonly start: number;
  readonly length: number;
  readonly registers: Uint32Array;
}

export class FilterQueue {
  private programs: Program[] = [];
  private pending: PendingFilter[] = [];
  private lastProgram = 0;
  /** The VM memory, plus the 4 bytes a 32-bit read at its end may touch. */
  private readonly memory = new Uint8Array(VM_MEMORY_SIZE + 4);
  private readonly record = new RarBitInput();

  /** Forgets every program and waiting block (a new, non-solid stream). */
  reset(): void {
    this.programs = [];
    this.pending = [];
    this.lastProgram = 0;
  }

  /** Drops the waiting blocks: filters never span entries, even in a solid archive. */
  dropPending(): void {
    this.pending = [];
  }

  /** Adds the filter a record defines, for a block counted from window position `position`. */
  add(flags: number, record: Uint8Array, position: number): void {
    const input = this.record;
    input.reset(record);
    let index = this.lastProgram;
    if (flags & 0x80) {
      index = readVmNumber(input);
      if (index === 0) this.reset();
      else index--;
    }
    if (index > this.programs.length || index >= MAX_FILTERS) throw corrupt('RAR 2.9: filter refers to an undefined program');
    if (this.pending.length >= MAX_FILTERS) throw corrupt('RAR 2.9: too many filters waiting');
    this.lastProgram = index;
    const isNew = index === this.programs.length;

    let start = readVmNumber(input);
    if (flags & 0x40) start = (start + 258) >>> 0;
    let length = isNew ? 0 : this.programs[index]!.lastLength;
    if (flags & 0x20) length = readVmNumber(input);
    const registers = new Uint32Array(7);
    registers[4] = length;
    if (flags & 0x10) {
      const mask = input.bits(7);
      for (let r = 0; r < 7; r++) if (mask & (1 << r)) registers[r] = readVmNumber(input);
    }
    let program = this.programs[index];
    if (!program) {
      const codeSize = readVmNumber(input);
      if (codeSize === 0 || codeSize >= MAX_VM_CODE) throw corrupt('RAR 2.9: bad filter program size');
      const code = new Uint8Array(codeSize);
      for (let i = 0; i < codeSize; i++) code[i] = input.bits(8);
      program = { type: recogniseProgram(code), lastLength: 0 };
      this.programs.push(program);
    }
    program.lastLength = length;
    if (flags & 0x08 && readVmNumber(input) > MAX_GLOBAL_DATA) throw corrupt('RAR 2.9: filter data too large');
    this.pending.push({ type: program.type, start: position + start, length, registers });
  }

  /**
   * Writes the window up to `upTo` to `out`, sending each waiting block whose bytes are all
   * decoded through its filter (and through the filters chained on its result). Stops at the
   * start of a block not yet complete: that data stays in the window until a later call.
   */
  flush(window: LzWindow, out: EntryOutput, upTo: number): void {
    for (let i = 0; i < this.pending.length; ) {
      const filter = this.pending[i]!;
      if (filter.start < window.flushed) {
        // Its block was already written unfiltered (overlapping filters): it can never apply.
        this.pending.splice(i, 1);
        continue;
      }
      if (filter.start >= upTo) {
        i++;
        continue;
      }
      window.flush(out, filter.start);
      if (filter.start + filter.length > upTo) return;
      window.read(filter.start, Math.min(filter.length, VM_MEMORY_SIZE), this.memory);
      let result = this.run(filter, out);
      this.pending.splice(i, 1);
      // Filters for the same block with the matching length work on the previous result.
      for (let next = this.pending[i]; next && next.start === filter.start && next.length === result.length; next = this.pending[i]) {
        this.memory.copyWithin(0, result.start, result.start + result.length);
        result = this.run(next, out);
        this.pending.splice(i, 1);
      }
      out.write(this.memory.subarray(result.start, result.start + result.length));
      window.flushed = filter.start + filter.length;
    }
    window.flush(out, upTo);
  }

  private run(filter: PendingFilter, out: EntryOutput): FilterOutput {
    filter.registers[6] = out.written;
    return runFilter(filter.type, this.memory, filter.registers);
  }
}

/** The RAR VM's variable-length number: 2 bits select 4, 8 (or a negative 8-bit form), 16 or 32 bits. */
function readVmNumber(input: RarBitInput): number {
  const peek = input.peek16();
  switch (peek & 0xc000) {
    case 0:
      input.skip(6);
      return (peek >>> 10) & 0xf;
    case 0x4000:
      if ((peek & 0x3c00) === 0) {
        input.skip(14);
        return (0xffffff00 | ((peek >>> 2) & 0xff)) >>> 0;
      }
      input.skip(10);
      return (peek >>> 6) & 0xff;
    case 0x8000:
      input.skip(2);
      return input.bits(16);
    default: {
      input.skip(2);
      const high = input.bits(16);
      return ((high << 16) | input.bits(16)) >>> 0;
    }
  }
}

