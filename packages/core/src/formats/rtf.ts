import type { ExtractedObject, ExtractionContext, FormatHandler } from './handler.js';
import { guarded } from './compression/guard.js';
import { GrowableBytes } from '../util/growable.js';
import { isAlpha, isDigit, isSpace, isXDigit } from './documents/bytes.js';
import { hexValue } from '../util/c-numbers.js';
import { extractOle10Native } from './documents/ole10.js';

/**
 * Objects embedded in RTF (libclamav's rtf.c): the hex data of `\objdata` inside an `\object`
 * group is decoded as an OLE 1.0 object (magic, description, 8 bytes, data size, data). Data that
 * starts like an OLE2 compound file is scanned as it is; anything else is taken for an OLE 1.0
 * native object and unwrapped (see documents/ole10.ts).
 *
 * The group stack, the control word recognition (only `\object` directly followed by a non-letter
 * and `\objdata` followed by a space count) and the object decoder follow ClamAV, including the
 * way it handles descriptions longer than 64 bytes and objects split over several groups.
 */

/** ClamAV reads RTF in windows of this size; data is handed to the decoder per window. */
const WINDOW = 8192;
const OBJECT_MAGIC = [0x01, 0x05, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00];

const enum Parse {
  Main,
  Control,
  ControlWord,
  ControlSymbol,
  ControlWordParam,
  InterpretControlWord,
}

const enum ObjState {
  WaitMagic,
  WaitDescLen,
  WaitDesc,
  WaitZero,
  WaitDataSize,
  DumpData,
}

const TOP_OBJECT = 1;
const INT64_MAX = 0x7fffffffffffffffn;

/** The decoder of one `\objdata` (ClamAV's rtf_object_data). */
class ObjectDecoder {
  private state = ObjState.WaitMagic;
  private bread = 0;
  private descLength = 0;
  private partial = -1;
  private output: GrowableBytes | undefined;
  /** ClamAV decodes each call's hex into a stack buffer whose stale bytes can be read once. */
  private readonly decoded = new Uint8Array(WINDOW);
  ended = false;

  constructor(private readonly emit: (object: ExtractedObject) => void) {}

  process(input: Uint8Array, start: number, end: number): void {
    const out = this.decoded;
    let count = 0;
    let i = start;
    if (this.partial !== -1) {
      while (i < end && !isXDigit(input[i]!)) i++;
      if (i >= end) return;
      out[count++] = this.partial | hexValue(input[i++]!);
      this.partial = -1;
    }
    for (; i < end; i++) {
      if (!isXDigit(input[i]!)) continue;
      const high = hexValue(input[i++]!) << 4;
      while (i < end && !isXDigit(input[i]!)) i++;
      if (i === end) {
        this.partial = high;
        break;
      }
      out[count++] = high | hexValue(input[i]!);
    }
    this.consume(out, count);
  }

  private consume(out: Uint8Array, available: number): void {
    let at = 0;
    let count = available;
    while (count) {
      switch (this.state) {
        case ObjState.WaitMagic: {
          let i = 0;
          for (; i < count && this.bread < OBJECT_MAGIC.length; i++, this.bread++); // mismatches are only logged
          count -= i;
          if (this.bread === OBJECT_MAGIC.length) {
            at += i;
            this.bread = 0;
            this.state = ObjState.WaitDescLen;
          }
          break;
        }
        case ObjState.WaitDescLen:
        case ObjState.WaitDataSize: {
          if (this.bread === 0) this.descLength = 0;
          let i = 0;
          for (; i < count && this.bread < 4; i++, this.bread++) this.descLength += out[at + i]! * 2 ** (8 * this.bread);
          count -= i;
          if (this.bread === 4) {
            at += i;
            this.bread = 0;
            if (this.state === ObjState.WaitDescLen) this.state = ObjState.WaitDesc;
            else {
              this.output = new GrowableBytes(4096);
              this.state = ObjState.DumpData;
            }
          }
          break;
        }
        case ObjState.WaitDesc: {
          let i = 0;
          for (; i < count && this.bread < this.descLength && this.bread < 64; i++) this.bread++;
          count -= i;
          at += i;
          if (this.bread < this.descLength && this.bread < 64) return;
          if (this.descLength - this.bread > count) {
            this.descLength -= count;
            return;
          }
          count -= this.descLength - this.bread;
          if (this.bread >= this.descLength) {
            at += this.descLength - this.bread;
            this.bread = 0;
            this.state = ObjState.WaitZero;
          }
          break;
        }
        case ObjState.WaitZero:
          // Eight bytes are skipped, but only when they are all in this piece of data.
          if (count < 8 - this.bread) count = 0;
          else {
            count -= 8 - this.bread;
            this.bread = 8;
          }
          if (this.bread === 8) {
            at += 8;
            this.bread = 0;
            this.state = ObjState.WaitDataSize;
          }
          break;
        case ObjState.DumpData: {
          const want = Math.min(count, this.descLength);
          if (!this.bread) {
            if (out[at] !== 0xd0 || out[at + 1] !== 0xcf) {
              // Not an OLE2 file: an OLE 1.0 object, prefixed with its size for the unwrapper.
              this.bread = 1;
              const size = this.descLength >>> 0;
              for (let b = 0; b < 4; b++) this.output!.push((size >>> (8 * b)) & 0xff);
            } else this.bread = 2;
          }
          this.descLength -= want;
          this.output!.append(out, at, at + want);
          at += want;
          count -= want;
          if (!this.descLength) {
            this.flush();
            this.bread = 0;
            this.state = ObjState.WaitMagic;
          }
          break;
        }
      }
    }
  }

  /** Scans what was dumped of the current object (decode_and_scan). */
  flush(): void {
    const output = this.output;
    if (!output) return;
    this.output = undefined;
    const dumped = output.finish();
    if (this.bread === 1) {
      const embedded = extractOle10Native(dumped);
      if (embedded) this.emit({ data: embedded });
    } else this.emit({ data: dumped });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.flush();
  }
}

interface GroupState {
  parse: Parse;
  topLevel: number;
  /** `\objdata` seen in an `\object`: data of this group goes to a decoder. */
  wantsObject: boolean;
  decoder: ObjectDecoder | undefined;
  /** Groups opened in the default state, which ClamAV counts instead of stacking. */
  defaultGroups: number;
  word: string;
  /** The control word's numeric parameter, only kept to detect ClamAV's overflow cut-off. */
  param: bigint;
}

function baseState(topLevel = 0): GroupState {
  return { parse: Parse.Main, topLevel, wantsObject: false, decoder: undefined, defaultGroups: 0, word: '', param: 0n };
}

function isDefault(state: GroupState): boolean {
  return state.parse === Parse.Main && state.topLevel === 0 && !state.wantsObject && !state.decoder;
}

export function* extractRtfObjects(data: Uint8Array): Generator<ExtractedObject> {
  const found: ExtractedObject[] = [];
  const emit = (object: ExtractedObject) => {
    if (object.data.length) found.push(object); // an empty file scans as nothing
  };
  const stack: GroupState[] = [];
  let state = baseState();
  const endObject = () => {
    if (state.decoder) state.decoder.end();
    state.decoder = undefined;
  };
  for (let offset = 0; offset < data.length; offset += WINDOW) {
    const end = Math.min(data.length, offset + WINDOW);
    let ptr = offset;
    while (ptr < end) {
      const c = data[ptr]!;
      switch (state.parse) {
        case Parse.Main:
          if (c === 0x7b) {
            ptr++;
            if (isDefault(state)) state.defaultGroups++;
            else {
              stack.push({ ...state });
              state = baseState(state.topLevel);
            }
          } else if (c === 0x7d) {
            ptr++;
            endObject();
            if (state.defaultGroups) state = { ...baseState(state.topLevel), defaultGroups: state.defaultGroups - 1 };
            else state = stack.pop() ?? baseState();
          } else if (c === 0x5c) {
            ptr++;
            state.parse = Parse.Control;
          } else {
            let use = end - ptr;
            for (let i = 1; i < end - ptr; i++) {
              const s = data[ptr + i];
              if (s === 0x7b || s === 0x7d || s === 0x5c) {
                use = i;
                break;
              }
            }
            if (state.wantsObject) {
              state.decoder ??= new ObjectDecoder(emit);
              state.decoder.process(data, ptr, ptr + use);
            }
            ptr += use;
          }
          break;
        case Parse.Control:
          if (isAlpha(c)) {
            state.parse = Parse.ControlWord;
            state.word = '';
          } else state.parse = Parse.ControlSymbol;
          break;
        case Parse.ControlSymbol:
          ptr++;
          state.parse = Parse.Main;
          break;
        case Parse.ControlWord:
          if (state.word.length === 32) state.parse = Parse.Main; // too long: ignored
          else if (isAlpha(c)) {
            state.word += String.fromCharCode(c);
            ptr++;
          } else if (isSpace(c)) {
            state.word += String.fromCharCode(c); // the delimiting space is part of the word
            ptr++;
            state.parse = Parse.InterpretControlWord;
          } else if (isDigit(c) || c === 0x2d) {
            if (c === 0x2d) ptr++;
            state.param = 0n;
            state.parse = Parse.ControlWordParam;
          } else state.parse = Parse.InterpretControlWord;
          break;
        case Parse.ControlWordParam:
          if (isDigit(c)) {
            // A parameter beyond 64 bits abandons the word; its remaining digits are then data.
            const digit = BigInt(c - 0x30);
            if (state.param > INT64_MAX / 10n || state.param * 10n > INT64_MAX - digit) state.parse = Parse.Main;
            else {
              state.param = state.param * 10n + digit;
              ptr++;
            }
          } else if (isAlpha(c)) ptr++; // letters after the parameter are skipped, as ClamAV does
          else state.parse = Parse.InterpretControlWord;
          break;
        case Parse.InterpretControlWord: {
          const word = state.word.toLowerCase();
          if (word === 'object' || word === 'objdata ') {
            if (state.decoder) {
              // A new object word ends an object in progress.
              endObject();
              state.wantsObject = false;
            }
            if (word === 'object') state.topLevel |= TOP_OBJECT;
            else if (state.topLevel & TOP_OBJECT) state.wantsObject = true;
          }
          state.parse = Parse.Main;
          break;
        }
      }
      if (found.length) yield* found.splice(0);
    }
  }
  endObject();
  while (stack.length) {
    state = stack.pop()!;
    endObject();
  }
  yield* found.splice(0);
}

export const rtfHandler: FormatHandler = {
  name: 'rtf',
  fileTypes: ['CL_TYPE_RTF'],
  scanSwitch: 'archive',
  extract: (data: Uint8Array, ctx: ExtractionContext) => guarded('cli_scanrtf', extractRtfObjects(data), ctx),
};
