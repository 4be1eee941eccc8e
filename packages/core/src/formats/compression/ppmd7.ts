import { ClamError } from '../../errors.js';

/**
 * PPMd variant H (Dmitry Shkarin's PPMd var.H, in the form of 7-Zip's Ppmd7 that ClamAV embeds):
 * a context-mixing model that predicts each byte from up to `maxOrder` preceding bytes and
 * draws it from an arithmetic decoder supplied by the container.
 *
 * Every prediction depends on the whole model state, including where the model's own
 * sub-allocator placed each context and when it ran out of memory, so the model lives exactly
 * as in the original: one heap of `memorySize` bytes (plus the alignment prefix and the spare
 * unit the original allocates), 12-byte units handed out from both ends, free lists per block
 * size, the same "glue" defragmentation, and a restart from scratch when the heap is full.
 * References are byte offsets into the heap (0 is null, as the heap starts after a prefix of
 * 1..4 bytes), read through 8/16/32-bit views; units are 4-byte aligned, so 16- and 32-bit
 * fields fall on their view's element boundaries.
 *
 * Heap records (little-endian, as on the platforms 7-Zip and ClamAV run on):
 * - state, 6 bytes: symbol u8, freq u8, successor u32 stored as two u16 halves;
 * - context, one unit: numStats u16, summFreq u16, stats u32, suffix u32; a context with one
 *   state keeps that state inline at offset 2, over summFreq and stats;
 * - free block while gluing, one unit or more: stamp u16 (0 = free), units u16, next u32, prev u32;
 *   on a free list its first u32 links to the next block of the same size.
 */

/** The arithmetic decoder a PPMd model draws from; 7z and RAR 2.9 each bring their own. */
export interface PpmdRangeDecoder {
  /** The count in [0, total) that the next symbol's interval contains (7-Zip's GetThreshold). */
  threshold(total: number): number;
  /** Consumes the interval [start, start + size) of the total given to the last `threshold`. */
  decode(start: number, size: number): void;
  /** One binary decision with probability size0 / 2^14 for 0 (7-Zip's DecodeBit(size0, 14 bits)). */
  decodeBit(size0: number): number;
}

export const PPMD7_MIN_ORDER = 2;
export const PPMD7_MAX_ORDER = 64;
/** 7-Zip's smallest model size (PPMD7_MIN_MEM_SIZE); a smaller heap could not hold the initial model. */
export const PPMD7_MIN_MEMORY = 1 << 11;
/** ClamAV's allocation ceiling (CLI_MAX_ALLOCATION), which the heap allocation goes through. */
const MAX_ALLOCATION = 1024 * 1024 * 1024;

const UNIT_SIZE = 12;
const STATE_SIZE = 6;
const MAX_FREQ = 124;
const INT_BITS = 7;
const PERIOD_BITS = 7;
const BIN_SCALE = 1 << (INT_BITS + PERIOD_BITS);
const NUM_INDEXES = 4 + 4 + 4 + 26;
/** The SEE contexts are 25 rows of 16; one more slot is the dummy used for the order-0 context. */
const SEE_COUNT = 25 * 16;
const DUMMY_SEE = SEE_COUNT;

const EXP_ESCAPE = new Uint8Array([25, 14, 9, 7, 5, 5, 4, 4, 4, 3, 3, 3, 2, 2, 2, 2]);
const INIT_BIN_ESC = [0x3cdd, 0x1f3f, 0x59bf, 0x48f3, 0x64a1, 0x5abc, 0x6632, 0x6051];

/** Block sizes of the free lists: 1,2,3,4, 6,8,10,12, 15,18,21,24, then every 4 up to 128 units. */
const INDEX_TO_UNITS = new Uint8Array(NUM_INDEXES);
/** The free list for a block of n units is UNITS_TO_INDEX[n - 1] (the smallest size that holds it). */
const UNITS_TO_INDEX = new Uint8Array(128);
/** SEE row for a number of symbols still possible after masking (minus one). */
const NS_TO_INDEX = new Uint8Array(256);
/** Binary-context column offset for the suffix context's number of states (minus one). */
const NS_TO_BS_INDEX = new Uint8Array(256);
/** 8 for symbols 0x40 and up: such bytes (letters, high bytes) get separate statistics. */
const HB_TO_FLAG = new Uint8Array(256);
{
  for (let i = 0, k = 0; i < NUM_INDEXES; i++) {
    const step = i >= 12 ? 4 : (i >>> 2) + 1;
    for (let n = 0; n < step; n++) UNITS_TO_INDEX[k++] = i;
    INDEX_TO_UNITS[i] = k;
  }
  NS_TO_BS_INDEX[0] = 0;
  NS_TO_BS_INDEX[1] = 2;
  NS_TO_BS_INDEX.fill(4, 2, 11);
  NS_TO_BS_INDEX.fill(6, 11);
  for (let i = 0; i < 3; i++) NS_TO_INDEX[i] = i;
  for (let i = 3, m = 3, k = 1; i < 256; i++) {
    NS_TO_INDEX[i] = m;
    if (--k === 0) k = ++m - 2;
  }
  HB_TO_FLAG.fill(8, 0x40);
}

/** Thrown when the model's links lead outside the heap; decodeSymbol turns it into a data error. */
const BROKEN_MODEL = new Error('PPMd model links outside its memory');

/** PPMd variant H (7-Zip's Ppmd7): the model used by 7z method 030401 and by RAR 2.9/3.x PPM blocks. */
export class Ppmd7 {
  private readonly size: number;
  private readonly alignOffset: number;
  private readonly heap8: Uint8Array;
  private readonly heap16: Uint16Array;
  private readonly heap32: Uint32Array;

  private minContext = 0;
  private maxContext = 0;
  private foundState = 0;
  private orderFall = 0;
  private initEsc = 0;
  private prevSuccess = 0;
  private maxOrder = 0;
  private hiBitsFlag = 0;
  private runLength = 0;
  private initRL = 0;

  private glueCount = 0;
  private loUnit = 0;
  private hiUnit = 0;
  private text = 0;
  private unitsStart = 0;
  private readonly freeList = new Uint32Array(NUM_INDEXES);

  /** Secondary escape estimation: per context class, a running sum, its shift and a countdown. */
  private readonly seeSumm = new Uint16Array(SEE_COUNT + 1);
  private readonly seeShift = new Uint8Array(SEE_COUNT + 1);
  private readonly seeCount = new Uint8Array(SEE_COUNT + 1);
  /** Probabilities of binary contexts, [freq - 1][context class] as 128 rows of 64. */
  private readonly binSumm = new Uint16Array(128 * 64);
  /** makeEscFreq's second result. */
  private escFreq = 0;

  /** Per symbol after an escape: -1 while still possible, 0 once excluded (a mask for freq sums). */
  private readonly charMask = new Int8Array(256);
  /** The states still possible in the context being searched after an escape. */
  private readonly candidates = new Uint32Array(256);
  /** The states that get a new successor context in createSuccessors. */
  private readonly pending = new Uint32Array(PPMD7_MAX_ORDER);

  /** Allocates the model's memory (bytes; throws ClamError('EMEM') past the sane maximum). */
  constructor(memorySize: number) {
    const alignOffset = 4 - (memorySize & 3);
    const total = alignOffset + memorySize + UNIT_SIZE;
    if (!Number.isInteger(memorySize) || memorySize < PPMD7_MIN_MEMORY || total > MAX_ALLOCATION) {
      throw new ClamError('EMEM', { message: `PPMd: cannot allocate a model of ${memorySize} bytes` });
    }
    let buffer: ArrayBuffer;
    try {
      buffer = new ArrayBuffer(total);
    } catch {
      throw new ClamError('EMEM');
    }
    this.size = memorySize;
    this.alignOffset = alignOffset;
    this.heap8 = new Uint8Array(buffer);
    this.heap16 = new Uint16Array(buffer);
    this.heap32 = new Uint32Array(buffer);
  }

  /** Restarts the model with this maximum order (2..64). */
  init(maxOrder: number): void {
    if (!Number.isInteger(maxOrder) || maxOrder < PPMD7_MIN_ORDER || maxOrder > PPMD7_MAX_ORDER) {
      throw new ClamError('EARG', { message: `PPMd: bad model order ${maxOrder}` });
    }
    this.maxOrder = maxOrder;
    this.restartModel();
    this.seeShift[DUMMY_SEE] = PERIOD_BITS;
    this.seeSumm[DUMMY_SEE] = 0;
    this.seeCount[DUMMY_SEE] = 64;
  }

  /** The next byte (0..255); -1 when the escape reached order -1 (end mark); -2 on a data error. */
  decodeSymbol(rc: PpmdRangeDecoder): number {
    try {
      return this.decode(rc);
    } catch (err) {
      if (err === BROKEN_MODEL) return -2;
      throw err;
    }
  }

  // ---- heap records -------------------------------------------------------------------------

  private numStats(ctx: number): number {
    return this.heap16[ctx >>> 1]!;
  }
  private setNumStats(ctx: number, value: number): void {
    this.heap16[ctx >>> 1] = value;
  }
  private summFreq(ctx: number): number {
    return this.heap16[(ctx >>> 1) + 1]!;
  }
  private setSummFreq(ctx: number, value: number): void {
    this.heap16[(ctx >>> 1) + 1] = value;
  }
  private stats(ctx: number): number {
    return this.heap32[(ctx >>> 2) + 1]!;
  }
  private setStats(ctx: number, value: number): void {
    this.heap32[(ctx >>> 2) + 1] = value;
  }
  private suffix(ctx: number): number {
    return this.heap32[(ctx >>> 2) + 2]!;
  }
  private setSuffix(ctx: number, value: number): void {
    this.heap32[(ctx >>> 2) + 2] = value;
  }
  private successor(state: number): number {
    const at = state >>> 1;
    return (this.heap16[at + 1]! | (this.heap16[at + 2]! << 16)) >>> 0;
  }
  private setSuccessor(state: number, value: number): void {
    const at = state >>> 1;
    this.heap16[at + 1] = value & 0xffff;
    this.heap16[at + 2] = value >>> 16;
  }
  private copyState(to: number, from: number): void {
    const h = this.heap16;
    const t = to >>> 1;
    const f = from >>> 1;
    h[t] = h[f]!;
    h[t + 1] = h[f + 1]!;
    h[t + 2] = h[f + 2]!;
  }
  private swapStates(a: number, b: number): void {
    const h = this.heap16;
    const ia = a >>> 1;
    const ib = b >>> 1;
    for (let k = 0; k < 3; k++) {
      const t = h[ia + k]!;
      h[ia + k] = h[ib + k]!;
      h[ib + k] = t;
    }
  }
  /** The state for `symbol` in a context with several states (the model guarantees one exists). */
  private findState(ctx: number, symbol: number): number {
    const h = this.heap8;
    let s = this.stats(ctx);
    while (h[s] !== symbol) {
      s += STATE_SIZE;
      if (s >= h.length) throw BROKEN_MODEL;
    }
    return s;
  }

  // ---- sub-allocator ------------------------------------------------------------------------

  private insertNode(node: number, index: number): void {
    this.heap32[node >>> 2] = this.freeList[index]!;
    this.freeList[index] = node;
  }

  private removeNode(index: number): number {
    const node = this.freeList[index]!;
    this.freeList[index] = this.heap32[node >>> 2]!;
    return node;
  }

  /** Returns the tail of a block of list `oldIndex` cut down to list `newIndex` to the free lists. */
  private splitBlock(block: number, oldIndex: number, newIndex: number): void {
    const nu = INDEX_TO_UNITS[oldIndex]! - INDEX_TO_UNITS[newIndex]!;
    const tail = block + INDEX_TO_UNITS[newIndex]! * UNIT_SIZE;
    let i = UNITS_TO_INDEX[nu - 1]!;
    if (INDEX_TO_UNITS[i] !== nu) {
      const k = INDEX_TO_UNITS[--i]!;
      this.insertNode(tail + k * UNIT_SIZE, nu - k - 1);
    }
    this.insertNode(tail, i);
  }

  /**
   * Merges adjacent free blocks and refills the lists. All free blocks are chained in one
   * doubly-linked list whose head sits in the spare unit after the heap; in-use units keep a
   * non-zero first u16 (a context's numStats, a state's symbol and freq), which stops a merge.
   */
  private glueFreeBlocks(): void {
    const h16 = this.heap16;
    const h32 = this.heap32;
    const head = this.alignOffset + this.size;
    const nodeUnits = (node: number) => h16[(node >>> 1) + 1]!;
    const next = (node: number) => h32[(node >>> 2) + 1]!;
    const prev = (node: number) => h32[(node >>> 2) + 2]!;
    const setNext = (node: number, value: number) => (h32[(node >>> 2) + 1] = value);
    const setPrev = (node: number, value: number) => (h32[(node >>> 2) + 2] = value);

    this.glueCount = 255;
    let n = head;
    for (let i = 0; i < NUM_INDEXES; i++) {
      const nu = INDEX_TO_UNITS[i]!;
      let link = this.freeList[i]!;
      this.freeList[i] = 0;
      while (link !== 0) {
        const node = link;
        setNext(node, n);
        setPrev(n, link);
        n = link;
        link = h32[node >>> 2]!;
        h16[node >>> 1] = 0;
        h16[(node >>> 1) + 1] = nu;
      }
    }
    h16[head >>> 1] = 1;
    setNext(head, n);
    setPrev(n, head);
    if (this.loUnit !== this.hiUnit) h16[this.loUnit >>> 1] = 1;

    while (n !== head) {
      const node = n;
      let nu = nodeUnits(node);
      for (;;) {
        const node2 = node + nu * UNIT_SIZE;
        nu += nodeUnits(node2);
        if (h16[node2 >>> 1] !== 0 || nu >= 0x10000) break;
        setNext(prev(node2), next(node2));
        setPrev(next(node2), prev(node2));
        h16[(node >>> 1) + 1] = nu;
      }
      n = next(node);
    }

    for (n = next(head); n !== head; ) {
      let node = n;
      const following = next(node);
      let nu = nodeUnits(node);
      for (; nu > 128; nu -= 128, node += 128 * UNIT_SIZE) this.insertNode(node, NUM_INDEXES - 1);
      let i = UNITS_TO_INDEX[nu - 1]!;
      if (INDEX_TO_UNITS[i] !== nu) {
        const k = INDEX_TO_UNITS[--i]!;
        this.insertNode(node + k * UNIT_SIZE, nu - k - 1);
      }
      this.insertNode(node, i);
      n = following;
    }
  }

  /** Allocation when the list and the gap are empty: glue, split a bigger block, or take text space. 0 = full. */
  private allocUnitsRare(index: number): number {
    if (this.glueCount === 0) {
      this.glueFreeBlocks();
      if (this.freeList[index] !== 0) return this.removeNode(index);
    }
    let i = index;
    do {
      if (++i === NUM_INDEXES) {
        const numBytes = INDEX_TO_UNITS[index]! * UNIT_SIZE;
        this.glueCount--;
        if (this.unitsStart - this.text > numBytes) return (this.unitsStart -= numBytes);
        return 0;
      }
    } while (this.freeList[i] === 0);
    const block = this.removeNode(i);
    this.splitBlock(block, i, index);
    return block;
  }

  private allocUnits(index: number): number {
    if (this.freeList[index] !== 0) return this.removeNode(index);
    const numBytes = INDEX_TO_UNITS[index]! * UNIT_SIZE;
    if (numBytes <= this.hiUnit - this.loUnit) {
      const block = this.loUnit;
      this.loUnit += numBytes;
      return block;
    }
    return this.allocUnitsRare(index);
  }

  private shrinkUnits(block: number, oldNU: number, newNU: number): number {
    const i0 = UNITS_TO_INDEX[oldNU - 1]!;
    const i1 = UNITS_TO_INDEX[newNU - 1]!;
    if (i0 === i1) return block;
    if (this.freeList[i1] !== 0) {
      const moved = this.removeNode(i1);
      this.heap8.copyWithin(moved, block, block + newNU * UNIT_SIZE);
      this.insertNode(block, i0);
      return moved;
    }
    this.splitBlock(block, i0, i1);
    return block;
  }

  // ---- model --------------------------------------------------------------------------------

  private restartModel(): void {
    // Text (the bytes seen, which raw successors point into) grows up from the bottom; units
    // take the top seven eighths, contexts from its top down, other blocks from its bottom up.
    this.freeList.fill(0);
    this.text = this.alignOffset;
    this.hiUnit = this.text + this.size;
    this.loUnit = this.unitsStart = this.hiUnit - Math.floor(Math.floor(this.size / 8) / UNIT_SIZE) * 7 * UNIT_SIZE;
    this.glueCount = 0;

    this.orderFall = this.maxOrder;
    this.runLength = this.initRL = -Math.min(this.maxOrder, 12) - 1;
    this.prevSuccess = 0;

    // The order-0 context: all 256 symbols, each seen once.
    this.hiUnit -= UNIT_SIZE;
    const root = this.hiUnit;
    this.minContext = this.maxContext = root;
    this.setSuffix(root, 0);
    this.setNumStats(root, 256);
    this.setSummFreq(root, 256 + 1);
    this.foundState = this.loUnit;
    this.setStats(root, this.loUnit);
    for (let i = 0; i < 256; i++) {
      const s = this.loUnit + i * STATE_SIZE;
      this.heap8[s] = i;
      this.heap8[s + 1] = 1;
      this.setSuccessor(s, 0);
    }
    this.loUnit += (256 / 2) * UNIT_SIZE;

    for (let i = 0; i < 128; i++) {
      for (let k = 0; k < 8; k++) {
        const value = BIN_SCALE - Math.floor(INIT_BIN_ESC[k]! / (i + 2));
        for (let m = 0; m < 64; m += 8) this.binSumm[i * 64 + k + m] = value;
      }
    }
    for (let i = 0; i < 25; i++) {
      for (let k = 0; k < 16; k++) {
        const see = i * 16 + k;
        this.seeShift[see] = PERIOD_BITS - 4;
        this.seeSumm[see] = (5 * i + 10) << (PERIOD_BITS - 4);
        this.seeCount[see] = 4;
      }
    }
  }

  /**
   * Gives the found state (unless `skip`) and the states for the same symbol in the shorter
   * contexts that still point at text a new chain of one-state contexts; returns the longest,
   * or 0 when the heap is full.
   */
  private createSuccessors(skip: boolean): number {
    const h8 = this.heap8;
    let c = this.minContext;
    const upBranch = this.successor(this.foundState);
    const symbol = h8[this.foundState]!;
    let numPs = 0;
    if (!skip) this.pending[numPs++] = this.foundState;

    while (this.suffix(c) !== 0) {
      c = this.suffix(c);
      const s = this.numStats(c) !== 1 ? this.findState(c, symbol) : c + 2;
      const successor = this.successor(s);
      if (successor !== upBranch) {
        c = successor;
        if (numPs === 0) return c;
        break;
      }
      this.pending[numPs++] = s;
    }

    // The state every new context starts with: the symbol that followed in the text.
    const upSymbol = h8[upBranch]!;
    const upSuccessor = upBranch + 1;
    let upFreq: number;
    if (this.numStats(c) === 1) {
      upFreq = h8[c + 3]!;
    } else {
      const s = this.findState(c, upSymbol);
      const cf = (h8[s + 1]! - 1) >>> 0;
      const s0 = (this.summFreq(c) - this.numStats(c) - cf) >>> 0;
      const bonus =
        (2 * cf) % 2 ** 32 <= s0
          ? Number((5 * cf) % 2 ** 32 > s0)
          : Math.floor(((2 * cf + 3 * s0 - 1) >>> 0) / ((2 * s0) >>> 0));
      upFreq = (1 + bonus) & 0xff;
    }

    do {
      let c1: number;
      if (this.hiUnit !== this.loUnit) {
        c1 = this.hiUnit -= UNIT_SIZE;
      } else if (this.freeList[0] !== 0) {
        c1 = this.removeNode(0);
      } else {
        c1 = this.allocUnitsRare(0);
        if (c1 === 0) return 0;
      }
      this.setNumStats(c1, 1);
      h8[c1 + 2] = upSymbol;
      h8[c1 + 3] = upFreq;
      this.setSuccessor(c1 + 2, upSuccessor);
      this.setSuffix(c1, c);
      this.setSuccessor(this.pending[--numPs]!, c1);
      c = c1;
    } while (numPs !== 0);
    return c;
  }

  /** Adds the symbol just coded to the contexts that lacked it and moves to the next context. */
  private updateModel(): void {
    const h8 = this.heap8;
    const fs = this.foundState;
    const fsSymbol = h8[fs]!;
    let fSuccessor = this.successor(fs);

    if (h8[fs + 1]! < MAX_FREQ / 4 && this.suffix(this.minContext) !== 0) {
      const c = this.suffix(this.minContext);
      if (this.numStats(c) === 1) {
        const s = c + 2;
        if (h8[s + 1]! < 32) h8[s + 1]++;
      } else {
        let s = this.stats(c);
        if (h8[s] !== fsSymbol) {
          s = this.findState(c, fsSymbol);
          if (h8[s + 1]! >= h8[s - STATE_SIZE + 1]!) {
            this.swapStates(s, s - STATE_SIZE);
            s -= STATE_SIZE;
          }
        }
        if (h8[s + 1]! < MAX_FREQ - 9) {
          h8[s + 1] += 2;
          this.setSummFreq(c, this.summFreq(c) + 2);
        }
      }
    }

    if (this.orderFall === 0) {
      this.minContext = this.maxContext = this.createSuccessors(true);
      if (this.minContext === 0) {
        this.restartModel();
        return;
      }
      this.setSuccessor(this.foundState, this.minContext);
      return;
    }

    h8[this.text++] = fsSymbol;
    let successor = this.text;
    if (this.text >= this.unitsStart) {
      this.restartModel();
      return;
    }

    if (fSuccessor !== 0) {
      // A successor at or below the text pointer is still raw text, not a context.
      if (fSuccessor <= successor) {
        const cs = this.createSuccessors(false);
        if (cs === 0) {
          this.restartModel();
          return;
        }
        fSuccessor = cs;
      }
      if (--this.orderFall === 0) {
        successor = fSuccessor;
        if (this.maxContext !== this.minContext) this.text--;
      }
    } else {
      this.setSuccessor(fs, successor);
      fSuccessor = this.minContext;
    }

    const ns = this.numStats(this.minContext);
    const s0 = (this.summFreq(this.minContext) - ns - (h8[fs + 1]! - 1)) >>> 0;

    for (let c = this.maxContext; c !== this.minContext; c = this.suffix(c)) {
      const ns1 = this.numStats(c);
      if (ns1 !== 1) {
        if ((ns1 & 1) === 0) {
          // The stats array is full: move it to a block one unit larger.
          const oldNU = ns1 >>> 1;
          const i = UNITS_TO_INDEX[oldNU - 1]!;
          if (i !== UNITS_TO_INDEX[oldNU]) {
            const block = this.allocUnits(i + 1);
            if (block === 0) {
              this.restartModel();
              return;
            }
            const old = this.stats(c);
            h8.copyWithin(block, old, old + oldNU * UNIT_SIZE);
            this.insertNode(old, i);
            this.setStats(c, block);
          }
        }
        const summ = this.summFreq(c);
        this.setSummFreq(c, summ + Number(2 * ns1 < ns) + 2 * (Number(4 * ns1 <= ns) & Number(summ <= 8 * ns1)));
      } else {
        const s = this.allocUnits(0);
        if (s === 0) {
          this.restartModel();
          return;
        }
        this.copyState(s, c + 2);
        this.setStats(c, s);
        const freq = h8[s + 1]!;
        h8[s + 1] = freq < MAX_FREQ / 4 - 1 ? freq << 1 : MAX_FREQ - 4;
        this.setSummFreq(c, h8[s + 1]! + this.initEsc + Number(ns > 3));
      }
      let cf = 2 * h8[fs + 1]! * (this.summFreq(c) + 6);
      const sf = (s0 + this.summFreq(c)) >>> 0;
      if (cf < (6 * sf) % 2 ** 32) {
        cf = 1 + Number(cf > sf) + Number(cf >= (4 * sf) % 2 ** 32);
        this.setSummFreq(c, this.summFreq(c) + 3);
      } else {
        cf = 4 + Number(cf >= (9 * sf) % 2 ** 32) + Number(cf >= (12 * sf) % 2 ** 32) + Number(cf >= (15 * sf) % 2 ** 32);
        this.setSummFreq(c, this.summFreq(c) + cf);
      }
      const s = this.stats(c) + ns1 * STATE_SIZE;
      this.setSuccessor(s, successor);
      h8[s] = fsSymbol;
      h8[s + 1] = cf;
      this.setNumStats(c, ns1 + 1);
    }
    this.maxContext = this.minContext = fSuccessor;
  }

  /** Halves the frequencies of the current context (keeping them sorted) and drops the zeros. */
  private rescale(): void {
    const h8 = this.heap8;
    const mc = this.minContext;
    const stats = this.stats(mc);
    let s = this.foundState;
    // Move the found state to the front.
    {
      const symbol = h8[s]!;
      const freq = h8[s + 1]!;
      const successor = this.successor(s);
      h8.copyWithin(stats + STATE_SIZE, stats, s);
      s = stats;
      h8[s] = symbol;
      h8[s + 1] = freq;
      this.setSuccessor(s, successor);
    }
    let escFreq = (this.summFreq(mc) - h8[s + 1]!) >>> 0;
    h8[s + 1] += 4;
    const adder = Number(this.orderFall !== 0);
    h8[s + 1] = (h8[s + 1]! + adder) >>> 1;
    let sumFreq = h8[s + 1]!;

    let i = this.numStats(mc) - 1;
    do {
      s += STATE_SIZE;
      escFreq = (escFreq - h8[s + 1]!) >>> 0;
      h8[s + 1] = (h8[s + 1]! + adder) >>> 1;
      sumFreq += h8[s + 1]!;
      if (h8[s + 1]! > h8[s - STATE_SIZE + 1]!) {
        // Insertion: slide the higher-frequency state back to its place.
        const symbol = h8[s]!;
        const freq = h8[s + 1]!;
        const successor = this.successor(s);
        let s1 = s - STATE_SIZE;
        while (s1 !== stats && freq > h8[s1 - STATE_SIZE + 1]!) s1 -= STATE_SIZE;
        h8.copyWithin(s1 + STATE_SIZE, s1, s);
        h8[s1] = symbol;
        h8[s1 + 1] = freq;
        this.setSuccessor(s1, successor);
      }
    } while (--i);

    if (h8[s + 1] === 0) {
      const numStats = this.numStats(mc);
      do i++;
      while (h8[(s -= STATE_SIZE) + 1] === 0);
      escFreq = (escFreq + i) >>> 0;
      this.setNumStats(mc, numStats - i);
      if (this.numStats(mc) === 1) {
        const symbol = h8[stats]!;
        let freq = h8[stats + 1]!;
        const successor = this.successor(stats);
        do {
          freq -= freq >>> 1;
          escFreq >>>= 1;
        } while (escFreq > 1);
        this.insertNode(stats, UNITS_TO_INDEX[((numStats + 1) >>> 1) - 1]!);
        const one = (this.foundState = mc + 2);
        h8[one] = symbol;
        h8[one + 1] = freq;
        this.setSuccessor(one, successor);
        return;
      }
      const n0 = (numStats + 1) >>> 1;
      const n1 = (this.numStats(mc) + 1) >>> 1;
      if (n0 !== n1) this.setStats(mc, this.shrinkUnits(stats, n0, n1));
    }
    this.setSummFreq(mc, sumFreq + escFreq - (escFreq >>> 1));
    this.foundState = this.stats(mc);
  }

  /** The SEE context for an escape from the current context; sets `escFreq` to the count it estimates. */
  private makeEscFreq(numMasked: number): number {
    const mc = this.minContext;
    const numStats = this.numStats(mc);
    if (numStats === 256) {
      this.escFreq = 1;
      return DUMMY_SEE;
    }
    const nonMasked = numStats - numMasked;
    const see =
      NS_TO_INDEX[nonMasked - 1]! * 16 +
      Number(nonMasked < ((this.numStats(this.suffix(mc)) - numStats) >>> 0)) +
      2 * Number(this.summFreq(mc) < 11 * numStats) +
      4 * Number(numMasked > nonMasked) +
      this.hiBitsFlag;
    const r = this.seeSumm[see]! >>> this.seeShift[see]!;
    this.seeSumm[see] = this.seeSumm[see]! - r;
    this.escFreq = r + Number(r === 0);
    return see;
  }

  private updateSee(see: number): void {
    if (this.seeShift[see]! < PERIOD_BITS && --this.seeCount[see]! === 0) {
      this.seeSumm[see] = this.seeSumm[see]! << 1;
      this.seeCount[see] = 3 << this.seeShift[see]!;
      this.seeShift[see]!++;
    }
  }

  private nextContext(): void {
    const c = this.successor(this.foundState);
    if (this.orderFall === 0 && c > this.text) this.minContext = this.maxContext = c;
    else this.updateModel();
  }

  /** After the first (most probable) state of a context was coded. */
  private update1First(): void {
    const h8 = this.heap8;
    const fs = this.foundState;
    this.prevSuccess = Number(2 * h8[fs + 1]! > this.summFreq(this.minContext));
    this.runLength = (this.runLength + this.prevSuccess) | 0;
    this.setSummFreq(this.minContext, this.summFreq(this.minContext) + 4);
    h8[fs + 1] += 4;
    if (h8[fs + 1]! > MAX_FREQ) this.rescale();
    this.nextContext();
  }

  /** After another state of a context was coded without escape. */
  private update1(): void {
    const h8 = this.heap8;
    let s = this.foundState;
    h8[s + 1] += 4;
    this.setSummFreq(this.minContext, this.summFreq(this.minContext) + 4);
    if (h8[s + 1]! > h8[s - STATE_SIZE + 1]!) {
      this.swapStates(s, s - STATE_SIZE);
      this.foundState = s -= STATE_SIZE;
      if (h8[s + 1]! > MAX_FREQ) this.rescale();
    }
    this.nextContext();
  }

  /** After the state of a one-state context was coded. */
  private updateBin(): void {
    const h8 = this.heap8;
    const freq = h8[this.foundState + 1]!;
    h8[this.foundState + 1] = freq + Number(freq < 128);
    this.prevSuccess = 1;
    this.runLength = (this.runLength + 1) | 0;
    this.nextContext();
  }

  /** After a symbol was coded in a shorter context, following escapes. */
  private update2(): void {
    const h8 = this.heap8;
    this.setSummFreq(this.minContext, this.summFreq(this.minContext) + 4);
    h8[this.foundState + 1] += 4;
    if (h8[this.foundState + 1]! > MAX_FREQ) this.rescale();
    this.runLength = this.initRL;
    this.updateModel();
  }

  private decode(rc: PpmdRangeDecoder): number {
    const h8 = this.heap8;
    const charMask = this.charMask;
    let mc = this.minContext;
    if (this.numStats(mc) !== 1) {
      let s = this.stats(mc);
      const summFreq = this.summFreq(mc);
      const count = rc.threshold(summFreq);
      let hiCnt = h8[s + 1]!;
      if (count < hiCnt) {
        rc.decode(0, hiCnt);
        this.foundState = s;
        const symbol = h8[s]!;
        this.update1First();
        return symbol;
      }
      this.prevSuccess = 0;
      let i = this.numStats(mc) - 1;
      do {
        s += STATE_SIZE;
        const freq = h8[s + 1]!;
        if ((hiCnt += freq) > count) {
          rc.decode(hiCnt - freq, freq);
          this.foundState = s;
          const symbol = h8[s]!;
          this.update1();
          return symbol;
        }
      } while (--i);
      if (count >= summFreq) return -2;
      this.hiBitsFlag = HB_TO_FLAG[h8[this.foundState]!]!;
      rc.decode(hiCnt, summFreq - hiCnt);
      charMask.fill(-1);
      charMask[h8[s]!] = 0;
      i = this.numStats(mc) - 1;
      do charMask[h8[(s -= STATE_SIZE)]!] = 0;
      while (--i);
    } else {
      const one = mc + 2;
      this.hiBitsFlag = HB_TO_FLAG[h8[this.foundState]!]!;
      const index =
        (h8[one + 1]! - 1) * 64 +
        this.prevSuccess +
        NS_TO_BS_INDEX[this.numStats(this.suffix(mc)) - 1]! +
        this.hiBitsFlag +
        2 * HB_TO_FLAG[h8[one]!]! +
        ((this.runLength >> 26) & 0x20);
      const prob = this.binSumm[index]!;
      const mean = (prob + (1 << (PERIOD_BITS - 2))) >>> PERIOD_BITS;
      if (rc.decodeBit(prob) === 0) {
        this.binSumm[index] = prob + (1 << INT_BITS) - mean;
        this.foundState = one;
        const symbol = h8[one]!;
        this.updateBin();
        return symbol;
      }
      this.binSumm[index] = prob - mean;
      this.initEsc = EXP_ESCAPE[this.binSumm[index]! >>> 10]!;
      charMask.fill(-1);
      charMask[h8[one]!] = 0;
      this.prevSuccess = 0;
    }

    const candidates = this.candidates;
    for (;;) {
      const numMasked = this.numStats(this.minContext);
      do {
        this.orderFall++;
        mc = this.suffix(this.minContext);
        if (mc === 0) return -1;
        this.minContext = mc;
      } while (this.numStats(mc) === numMasked);

      let hiCnt = 0;
      let s = this.stats(mc);
      let i = 0;
      const num = this.numStats(mc) - numMasked;
      // Branch-free: a masked state is stored and then overwritten by the next one.
      const limit = h8.length - STATE_SIZE;
      do {
        const k = charMask[h8[s]!]!;
        hiCnt += h8[s + 1]! & k;
        candidates[i] = s;
        i -= k;
        s += STATE_SIZE;
      } while (i !== num && s < limit);
      if (i !== num) throw BROKEN_MODEL;

      const see = this.makeEscFreq(numMasked);
      const freqSum = this.escFreq + hiCnt;
      const count = rc.threshold(freqSum);

      if (count < hiCnt) {
        let k = 0;
        hiCnt = 0;
        while ((hiCnt += h8[candidates[k]! + 1]!) <= count) k++;
        s = candidates[k]!;
        const freq = h8[s + 1]!;
        rc.decode(hiCnt - freq, freq);
        this.updateSee(see);
        this.foundState = s;
        const symbol = h8[s]!;
        this.update2();
        return symbol;
      }
      if (count >= freqSum) return -2;
      rc.decode(hiCnt, freqSum - hiCnt);
      this.seeSumm[see] = this.seeSumm[see]! + freqSum;
      while (i !== 0) charMask[h8[candidates[--i]!]!] = 0;
    }
  }
}
