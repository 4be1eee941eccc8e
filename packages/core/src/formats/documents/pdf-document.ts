/**
 * PDF parsing as libclamav's pdf.c does it: objects are found by searching for `obj`/`endobj`
 * (not through the cross-reference table), each object's dictionary is scanned for names that set
 * flags (filters in order, /JavaScript, /OpenAction, /Contents, /EmbeddedFile, /Image…),
 * indirect references move some flags to the referenced object, and object streams add the
 * objects they hold. Extraction then dumps the objects ClamAV dumps, the way it dumps them.
 */
import { ascii, isDigit, isSpace } from './bytes.js';
import { decodeStream } from './pdf-filters.js';
import {
  dictInt, dictString, dictValue, memchr, memstr, nextObject, nonSpaceBack, nonSpaceForward, objectKey, parseLong, hexByte,
  isPdfSpace,
} from './pdf-syntax.js';
import { TextNormaliser } from '../normalise/text.js';
import { decryptAny, encMethodOf, openSecurity, type EncMethod, type PdfSecurity } from './pdf-crypt.js';

/** libclamav's pdf_objflags bits. */
const enum Flag {
  Stream = 0,
  Dict = 1,
  EmbeddedFile = 2,
  FilterAh = 3,
  FilterA85 = 4,
  FilterFlate = 5,
  FilterLzw = 6,
  FilterRl = 7,
  FilterFax = 8,
  FilterJbig2 = 9,
  FilterDct = 10,
  FilterJpx = 11,
  FilterCrypt = 12,
  FilterUnknown = 13,
  JavaScript = 14,
  OpenAction = 15,
  HasFilters = 16,
  Signed = 17,
  Image = 18,
  Truncated = 19,
  ForceDump = 20,
  FilterStandard = 21,
  LaunchAction = 22,
  Page = 23,
  Contents = 24,
}

const bit = (flag: Flag): number => 1 << flag;

const KNOWN_FILTERS =
  bit(Flag.FilterAh) | bit(Flag.FilterRl) | bit(Flag.FilterA85) | bit(Flag.FilterFlate) | bit(Flag.FilterLzw) |
  bit(Flag.FilterFax) | bit(Flag.FilterDct) | bit(Flag.FilterJpx) | bit(Flag.FilterCrypt);

/** Objects with these flags are dumped even when they are not plain streams. */
const DUMP_MASK =
  bit(Flag.Contents) | bit(Flag.FilterFlate) | bit(Flag.FilterDct) | bit(Flag.FilterAh) | bit(Flag.FilterA85) |
  bit(Flag.EmbeddedFile) | bit(Flag.JavaScript) | bit(Flag.OpenAction) | bit(Flag.LaunchAction);

const MAX_OBJECTS = 64 * 1024;
const MAX_FILTERS = 64;

const enum State {
  None,
  S,
  Filter,
  JavaScript,
  OpenAction,
  Linearized,
  LaunchAction,
  Contents,
  Any,
}

interface NameAction {
  readonly flag: Flag;
  readonly from: State;
  readonly to: State;
  /** An escaped (#xx) spelling of this name is suspicious. */
  readonly suspicious: boolean;
}

const action = (flag: Flag, from: State, to: State, suspicious = true): NameAction => ({ flag, from, to, suspicious });

/** pdfname_actions: what each dictionary name does to the object's flags and the parse state. */
const NAME_ACTIONS: ReadonlyMap<string, NameAction> = new Map([
  ['ASCIIHexDecode', action(Flag.FilterAh, State.Filter, State.Filter)],
  ['ASCII85Decode', action(Flag.FilterA85, State.Filter, State.Filter)],
  ['A85', action(Flag.FilterA85, State.Filter, State.Filter)],
  ['AHx', action(Flag.FilterAh, State.Filter, State.Filter)],
  ['EmbeddedFile', action(Flag.EmbeddedFile, State.None, State.None)],
  ['FlateDecode', action(Flag.FilterFlate, State.Filter, State.Filter)],
  ['Fl', action(Flag.FilterFlate, State.Filter, State.Filter)],
  ['Image', action(Flag.Image, State.None, State.None)],
  ['LZWDecode', action(Flag.FilterLzw, State.Filter, State.Filter)],
  ['LZW', action(Flag.FilterLzw, State.Filter, State.Filter)],
  ['RunLengthDecode', action(Flag.FilterRl, State.Filter, State.Filter)],
  ['RL', action(Flag.FilterRl, State.Filter, State.Filter)],
  ['CCITTFaxDecode', action(Flag.FilterFax, State.Filter, State.Filter)],
  ['CCF', action(Flag.FilterFax, State.Filter, State.Filter)],
  ['JBIG2Decode', action(Flag.FilterDct, State.Filter, State.Filter)], // sic: ClamAV files JBIG2 under DCT
  ['DCTDecode', action(Flag.FilterDct, State.Filter, State.Filter)],
  ['DCT', action(Flag.FilterDct, State.Filter, State.Filter)],
  ['JPXDecode', action(Flag.FilterJpx, State.Filter, State.Filter)],
  ['Crypt', action(Flag.FilterCrypt, State.Filter, State.None)],
  ['Standard', action(Flag.FilterStandard, State.Filter, State.Filter)],
  ['Sig', action(Flag.Signed, State.Any, State.None)],
  ['V', action(Flag.Signed, State.Any, State.None)],
  ['R', action(Flag.Signed, State.Any, State.None)],
  ['Linearized', action(Flag.Dict, State.None, State.Linearized)],
  ['Filter', action(Flag.HasFilters, State.Any, State.Filter)],
  ['JavaScript', action(Flag.JavaScript, State.Any, State.JavaScript)],
  ['Length', action(Flag.Dict, State.Filter, State.None)],
  ['S', action(Flag.Dict, State.None, State.S)],
  ['Type', action(Flag.Dict, State.None, State.None)],
  ['OpenAction', action(Flag.OpenAction, State.Any, State.OpenAction)],
  ['Launch', action(Flag.LaunchAction, State.Any, State.LaunchAction)],
  ['Page', action(Flag.Page, State.None, State.None)],
  ['Contents', action(Flag.Contents, State.None, State.Contents)],
  // Metadata names only feed ClamAV's statistics; they still take part in the state machine.
  ...['Author', 'Producer', 'CreationDate', 'ModDate', 'Creator', 'Title', 'Keywords', 'Subject', 'Pages', 'Colors', 'RichMedia', 'AcroForm', 'XFA'].map(
    (name): [string, NameAction] => [name, action(Flag.Dict, State.None, State.None, false)],
  ),
]);

const KEY = {
  obj: ascii('obj'),
  endobj: ascii('endobj'),
  stream: ascii('stream'),
  endstream: ascii('endstream'),
  length: ascii('/Length'),
  xref: ascii('/XRef'),
  decodeParms: ascii('/DecodeParms'),
  dp: ascii('/DP'),
  earlyChange: ascii('/EarlyChange'),
  objStm: ascii('/Type/ObjStm'),
  first: ascii('/First'),
  n: ascii('/N'),
  javaScript: ascii('/JavaScript'),
  js: ascii('/JS'),
  encrypt: ascii('/Encrypt'),
  encryptMetadata: ascii('/EncryptMetadata'),
  id: ascii('/ID'),
  name: ascii('/Name'),
  h: ascii('/H'),
};

/** An object as ClamAV records it. Object-stream members live in their stream's decoded bytes. */
interface PdfObject {
  /** Object number (low 24 bits) and generation (low 8 bits). */
  readonly id: number;
  readonly buffer: Uint8Array;
  readonly inObjectStream: boolean;
  /** Offset of the object's contents in `buffer` (just after `obj`). */
  readonly start: number;
  readonly size: number;
  flags: number;
  readonly filters: number[];
  streamStart: number;
  streamSize: number;
  extracted: boolean;
}

/** Something extracted from the PDF for scanning. */
export interface PdfDump {
  readonly name: string;
  readonly data: Uint8Array;
}

export interface PdfOptions {
  /** Bytes a decoded stream may have (--max-filesize). */
  readonly limit: number;
  /** ClamAV's warnings (printed by clamscan). */
  readonly warn: (message: string) => void;
}

export class PdfDocument {
  readonly objects: PdfObject[] = [];
  /** The trailer names an /Encrypt dictionary. */
  encrypted = false;
  /** The standard security handler's state once the objects are known (pdf_handle_enc). */
  security?: PdfSecurity;
  /** The /Encrypt dictionary's object key, and the file identifier its keys derive from. */
  private encryptId?: number;
  private fileId?: Uint8Array;
  /** find_obj's lookups: the positions of the objects with each key, and each object's position. */
  private readonly byId = new Map<number, number[]>();
  private readonly positions = new Map<PdfObject, number>();
  /** A common name was spelled with #xx escapes: Heuristics.PDF.ObfuscatedNameObject. */
  obfuscatedNames = false;
  private offset = 0;

  constructor(
    /** The file from its `%PDF-` header on. */
    readonly map: Uint8Array,
    private readonly options: PdfOptions,
  ) {}

  /**
   * pdf_parse_trailer: a trailer naming an /Encrypt dictionary makes the document encrypted; its
   * object reference and the first /ID string are kept for the security handler.
   */
  parseTrailer(region: Uint8Array): void {
    const at = memstr(region, 0, region.length, KEY.encrypt);
    if (at === -1) return;
    this.encrypted = true;
    const id = encryptReference(region, at);
    if (id !== undefined) this.encryptId = id;
    const fileId = dictString(region, 0, region.length, KEY.id, false);
    if (fileId) this.fileId = fileId.bytes;
  }

  /** Whether strings and streams are decrypted before use. */
  get decryptable(): boolean {
    return !!this.security?.decryptable;
  }

  /** Finds every top-level object (pdf_findobj until it reports no more), then parses them. */
  findObjects(): void {
    while (this.findObject() !== 'done');
    const found = this.objects.length;
    for (let i = 0; i < found; i++) this.parseObject(this.objects[i]!);
    this.openSecurity();
  }

  /** pdf_handle_enc: the /Encrypt dictionary object, tried with empty passwords. */
  private openSecurity(): void {
    if (this.encryptId === undefined || !this.fileId || !this.objects.length) return;
    const dict = this.findById(this.objects[0]!, this.encryptId);
    if (!dict || dict.start + dict.size > dict.buffer.length) return;
    this.security = openSecurity({ buf: dict.buffer, pos: dict.start, len: dict.size }, this.fileId);
  }

  /** get_enc_method: embedded files, streams and strings may each use their own method. */
  private encMethod(object: PdfObject): EncMethod {
    const security = this.security!;
    if (object.flags & bit(Flag.EmbeddedFile)) return security.embeddedFile;
    if (object.flags & bit(Flag.Stream)) return security.stream;
    return security.string;
  }

  private findObject(): 'found' | 'skipped' | 'done' {
    if (this.objects.length >= MAX_OBJECTS) return 'done';
    const buf = this.map;
    const size = buf.length;
    const start = this.offset;
    let bytesLeft = size - start;
    let idx = start + 1;
    let objBegin = -1;
    while (bytesLeft > 4) {
      idx = memstr(buf, idx, bytesLeft - 1, KEY.obj);
      if (idx === -1) return 'done';
      idx--;
      bytesLeft = size - start - (idx - start);
      if (!isPdfSpace(buf[idx])) {
        // Part of a longer word ("endobj"); ClamAV's next search also drops the last byte.
        idx += 4;
        bytesLeft -= 4;
        continue;
      }
      objBegin = idx;
      break;
    }
    if (objBegin === -1) return 'done';
    const objEnd = objBegin + 4;
    const skip = (): 'skipped' => {
      this.offset = objEnd;
      return 'skipped';
    };
    let genStart = nonSpaceBack(buf, objBegin - 1, start);
    while (genStart > start && isDigit(buf[genStart]!)) genStart--;
    const generation = parseLong(buf, genStart, objBegin - genStart);
    if (!generation || generation.value < 0) return skip();
    let numStart = nonSpaceBack(buf, genStart - 1, start);
    while (numStart > start && isDigit(buf[numStart]!)) numStart--;
    let number = parseLong(buf, numStart, genStart - numStart);
    if (!number) {
      // A new revision glued to the previous one's %%EOF: "%%EOF1 0 obj".
      if (!(numStart - 4 > start) || !matches(buf, numStart - 4, '%%EOF')) return skip();
      numStart++;
      number = parseLong(buf, numStart, genStart - 1 - numStart);
      if (!number) return skip();
    }
    if (number.value < 0) return skip();
    const object: PdfObject = {
      id: objectKey(number, generation.low32),
      buffer: buf,
      inObjectStream: false,
      start: objEnd,
      size: 0,
      flags: 0,
      filters: [],
      streamStart: -1,
      streamSize: 0,
      extracted: false,
    };
    const endObj = memstr(buf, objEnd, size - objEnd, KEY.endobj);
    if (endObj === -1) {
      this.addObject({ ...object, size: size - objEnd, flags: bit(Flag.Truncated) });
      this.offset = size;
    } else {
      this.addObject({ ...object, size: endObj - objEnd });
      this.offset = endObj + 6;
    }
    return 'found';
  }

  /** find_obj: the object with this key, searching from `from` on, then from the start. */
  private findById(from: PdfObject, id: number): PdfObject | undefined {
    const candidates = this.byId.get(id);
    if (!candidates) return undefined;
    const start = this.positions.get(from) ?? this.objects.length;
    // Positions only grow, so the list is sorted: the first one at or after `start`, else the first.
    let low = 0;
    let high = candidates.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (candidates[middle]! < start) low = middle + 1;
      else high = middle;
    }
    return this.objects[candidates[low] ?? candidates[0]!];
  }

  /** Appends an object and indexes it for find_obj's lookups. */
  private addObject(object: PdfObject): void {
    const position = this.objects.length;
    this.objects.push(object);
    this.positions.set(object, position);
    const list = this.byId.get(object.id);
    if (list) list.push(position);
    else this.byId.set(object.id, [position]);
  }

  /** pdf_parseobj. */
  private parseObject(object: PdfObject): void {
    const buf = object.buffer;
    if (object.start > buf.length || object.size <= 0) return;
    const start = object.start;
    if (!object.inObjectStream) this.findStreamBounds(object);

    // The dictionary: the first "<<" before the first token of the object.
    let q = start;
    let bytesLeft = Math.min(object.size, buf.length - start);
    let open: number;
    do {
      const next = nextObject(buf, q, bytesLeft);
      if (next === -1) return;
      bytesLeft -= next - q;
      if (bytesLeft < 0) return;
      open = q === 0 ? memchr(buf, q, next - q, 0x3c) : memchr(buf, q - 1, next - q + 1, 0x3c);
      q = next + 1;
      bytesLeft--;
    } while (open === -1 || buf[open + 1] !== 0x3c);
    const dict = open + 2;
    q = dict;
    bytesLeft = object.size - (q - start);
    if (bytesLeft < 0) return;
    let dictEnd = q + bytesLeft - 1;
    let opens = 1;
    let close = -1;
    while (q < dictEnd - 1 && opens > 0) {
      close = memchr(buf, q, dictEnd - q, 0x3e);
      if (close !== -1 && buf[close + 1] === 0x3e) {
        let nested: number;
        while ((nested = memchr(buf, q - 1, close - q + 1, 0x3c)) !== -1) {
          if (buf[nested + 1] === 0x3c) opens++;
          q = nested + 2;
        }
        opens--;
        q = close + 2;
      } else if (close !== -1) q = close + 2;
      else break;
    }
    if (opens) return;
    dictEnd = close;
    object.flags |= bit(Flag.Dict);
    this.parseNames(object, dict, dictEnd - dict);
    if (object.flags & (bit(Flag.Signed) | KNOWN_FILTERS)) object.flags &= ~bit(Flag.FilterUnknown);
  }

  /** find_stream_bounds with ClamAV's CR LF LF allowance. */
  private findStreamBounds(object: PdfObject): void {
    const buf = object.buffer;
    const begin = memstr(buf, object.start, object.size, KEY.stream);
    if (begin === -1) return;
    let idx = begin + 6;
    if (idx - object.start >= object.size) return;
    let left = object.size - (idx - object.start);
    if (left >= 2 && buf[idx] === 0x0d && buf[idx + 1] === 0x0a) {
      idx += 2;
      left -= 2;
      if (left > 2 && buf[idx] === 0x0a) {
        idx++;
        left--;
      }
    } else if (left && buf[idx] === 0x0a) {
      idx++;
      left--;
    }
    const end = memstr(buf, idx, left, KEY.endstream);
    object.flags |= bit(Flag.Stream);
    object.streamStart = idx;
    object.streamSize = (end === -1 ? object.start + object.size : end) - idx;
  }

  /** The name loop of pdf_parseobj: flags, filter order, indirect flag moves. */
  private parseNames(object: PdfObject, dict: number, dictLength: number): void {
    const buf = object.buffer;
    const fullLength = dictLength;
    let state = State.None;
    let q = dict;
    let left = dictLength;
    while (left > 0) {
      const slash = memchr(buf, q, left, 0x2f);
      if (slash === -1) break;
      left -= slash - q;
      q = slash;
      const name: number[] = [];
      let escapes = false;
      for (let i = 0; left > 0 && i < 63; i++) {
        q++;
        left--;
        const c = buf[q];
        if (c === 0x23) {
          const byte = hexByte(buf, q + 1);
          if (byte < 0) break;
          name.push(byte);
          q += 2;
          left -= 2;
          escapes = true;
          continue;
        }
        if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a || c === 0x2f || c === 0x3e || c === 0x5b || c === 0x5d || c === 0x3c || c === 0x28) {
          break;
        }
        name.push(c ?? 0);
      }
      const nul = name.indexOf(0);
      state = this.handleName(object, String.fromCharCode(...(nul === -1 ? name : name.slice(0, nul))), escapes, state);
      if (state === State.Linearized) {
        state = State.None;
        const trailerEnd = dictInt(buf, dict, fullLength, KEY.h);
        if (trailerEnd > 0 && trailerEnd < this.map.length) {
          this.parseTrailer(this.map.subarray(Math.max(0, trailerEnd - 1024), trailerEnd));
        }
      }
      if (left > 0 && (state === State.JavaScript || state === State.OpenAction || state === State.Contents)) {
        if (!this.moveToIndirect(object, q, left, state)) return;
        state = State.None;
      }
    }
  }

  /** handle_pdfname; returns the new state. */
  private handleName(object: PdfObject, name: string, escapes: boolean, state: State): State {
    const act = NAME_ACTIONS.get(name);
    if (!act) {
      if (state === State.Filter && !(object.flags & bit(Flag.Signed)) && !(object.flags & KNOWN_FILTERS)) {
        object.flags |= bit(Flag.FilterUnknown);
      }
      return state;
    }
    if (object.filters.length < MAX_FILTERS && state === State.Filter && bit(act.flag) & KNOWN_FILTERS) object.filters.push(act.flag);
    if (act.suspicious && escapes) this.obfuscatedNames = true;
    if (act.from === state || act.from === State.Any) {
      object.flags |= bit(act.flag);
      return act.to;
    }
    return state === State.S ? State.None : state;
  }

  /**
   * For /JavaScript, /OpenAction and /Contents given as an indirect reference ("12 0 R"), the
   * flag moves to the referenced object. False when ClamAV abandons the object's names.
   */
  private moveToIndirect(object: PdfObject, q: number, left: number, state: State): boolean {
    const buf = object.buffer;
    let at = nextObject(buf, q, left);
    if (at === -1 || !isDigit(buf[at]!)) return true;
    left -= at - q;
    const number = parseLong(buf, at, left);
    if (!number || number.value < 0) return false;
    while (left > 0 && isDigit(buf[at]!)) {
      at++;
      left--;
    }
    const before = at;
    at = nextObject(buf, at, left);
    if (at === -1 || !isDigit(buf[at]!)) return true;
    left -= at - before;
    const generation = parseLong(buf, at, left);
    if (!generation || generation.value < 0) return false;
    at = nextObject(buf, at, left);
    if (at === -1 || buf[at] !== 0x52) return true;
    const target = this.findById(object, objectKey(number, generation.low32));
    if (!target) return true;
    const flag = state === State.JavaScript ? Flag.JavaScript : state === State.OpenAction ? Flag.OpenAction : Flag.Contents;
    object.flags &= ~bit(flag);
    target.flags |= bit(flag);
    return true;
  }

  /**
   * pdf_find_and_extract_objs' second loop: dumps every object ClamAV would scan. Object
   * streams met on the way add their objects, which are extracted in turn.
   */
  *extract(): Generator<PdfDump> {
    for (let i = 0; i < this.objects.length; i++) yield* this.extractObject(this.objects[i]!);
  }

  private *extractObject(object: PdfObject): Generator<PdfDump> {
    if (object.extracted) return;
    object.extracted = true;
    const flags = object.flags;
    let dump = true;
    if ((!(flags & bit(Flag.Stream)) || flags & bit(Flag.HasFilters)) && !(flags & DUMP_MASK)) dump = false;
    if (flags & bit(Flag.Image) && !(flags & bit(Flag.FilterDct))) dump = false;
    if (!dump) return;
    const name = `pdf obj ${object.id >>> 8} ${object.id & 0xff}`;
    let data: Uint8Array | undefined;
    if (!object.inObjectStream && flags & bit(Flag.Stream)) data = this.extractStream(object);
    else if (flags & bit(Flag.JavaScript)) data = this.extractJavaScript(object);
    else data = object.buffer.subarray(object.start, object.start + object.size);
    if (!data?.length) return;
    yield { name, data };
    if (flags & bit(Flag.Contents)) {
      const text = contentsText(data);
      if (text.length) yield { name: `${name} contents`, data: text };
    }
  }

  /**
   * The JavaScript branch of pdf_extract_obj: every /JS string after a /JavaScript name (up to
   * a NUL; escapes decoded and the string decrypted only in decryptable documents), each followed
   * by the text up to the next token.
   */
  private extractJavaScript(object: PdfObject): Uint8Array {
    const buf = object.buffer;
    const parts: Uint8Array[] = [];
    const security = this.decryptable ? this.security : undefined;
    let q = object.start;
    let left = object.size;
    do {
      const found = memstr(buf, q, left, KEY.javaScript);
      if (found === -1) break;
      left -= found - q + 11;
      q = found + 11;
      const js = dictString(buf, q, left, KEY.js, !security);
      if (!js) continue;
      left -= js.end - q;
      q = js.end;
      const nul = js.bytes.indexOf(0);
      const text = nul === -1 ? js.bytes : js.bytes.subarray(0, nul);
      parts.push((security && decryptAny(security, object.id, text, security.string)) || text);
      if (left > 0) {
        let next = nextObject(buf, q, left);
        if (next === -1) next = q + left - 1;
        const paren = memchr(buf, q, left, 0x29);
        if (paren !== -1 && paren < next) next = paren;
        while (next > q && buf[next - 1] === 0x20) next--;
        if (next > q) parts.push(buf.subarray(q - 1, next));
      }
    } while (left > 0);
    return concat(parts);
  }

  /** The stream branch of pdf_extract_obj: /Length, /DecodeParms, object streams, filters. */
  private extractStream(object: PdfObject): Uint8Array | undefined {
    const buf = object.buffer;
    const start = object.start;
    const dictLength = object.streamStart - start;
    const declared = this.findLength(object, start, dictLength);
    let length = Math.min(declared, object.streamSize);
    if (!(object.flags & bit(Flag.FilterFlate)) && length === 0) {
      // ClamAV trims a trailing line break here, looking (by mistake) relative to the object start.
      length = object.streamSize;
      if (length > 0) {
        const last = start + object.streamSize - 1;
        if (buf[last] === 0x0a) {
          length--;
          if (length > 0 && buf[last - 1] === 0x0d) length--;
        } else if (buf[last] === 0x0d) length--;
      }
    } else if (object.streamSize > length + 2) length = object.streamSize;
    if (length === 0) length = object.streamSize;
    if (length === 0) return undefined;

    const params = this.decodeParms(object, dictLength);
    const objectStream = this.objectStreamHeader(object, dictLength);
    const stream = buf.subarray(object.streamStart, object.streamStart + length);
    const security = this.security;
    // Decryptable documents: every stream but cross-reference streams and /Crypt-filtered ones.
    const decryptWhole =
      this.decryptable && !(object.flags & bit(Flag.FilterCrypt)) && memstr(buf, start, dictLength, KEY.xref) === -1;
    const method = decryptWhole ? this.encMethod(object) : undefined;
    const decoded = decodeStream(stream, object.filters, {
      limit: this.options.limit,
      earlyChange: params ? paramEarlyChange(buf, params) : true,
      crypt: security?.key
        ? (data) => decryptAny(security, object.id, data, encMethodOf(security, params && paramName(buf, params), 'identity'))
        : undefined,
      decrypt: method && security ? (data) => decryptAny(security, object.id, data, method) : undefined,
    });
    if (objectStream && decoded.clean) this.parseObjectStream(decoded.content, objectStream);
    return decoded.data;
  }

  /** find_length: /Length, direct or through an indirect object, capped to the file. */
  private findLength(object: PdfObject, dictStart: number, dictLength: number): number {
    const buf = object.buffer;
    if (dictLength < 8) return 0;
    let index = memstr(buf, dictStart, dictLength, KEY.length);
    if (index === -1) return 0;
    let left = dictLength - (index - dictStart);
    if (left < 1) return 0;
    index++;
    left--;
    const valueStart = nextObject(buf, index, left);
    if (valueStart === -1 || left < valueStart - index) return 0;
    left -= valueStart - index;
    index = valueStart;
    const first = parseLong(buf, index, left);
    if (!first || first.value < 0) return 0;
    let length = first.value;
    while (left > 0 && isDigit(buf[index]!)) {
      index++;
      left--;
    }
    if (left > 0 && buf[index] === 0x20) {
      index++;
      left--;
      const generation = parseLong(buf, index, left);
      if (!generation || generation.value < 0) return 0;
      while (left > 0 && isDigit(buf[index]!)) {
        index++;
        left--;
      }
      if (left < 2) return 0;
      if (buf[index] === 0x20 && buf[index + 1] === 0x52) {
        const target = this.findById(object, objectKey(first, generation.low32));
        if (!target) return 0;
        const tbuf = target.buffer;
        if (target.start + target.size > tbuf.length) return 0;
        const remaining = tbuf.length - target.start;
        const at = nextObject(tbuf, target.start, remaining);
        if (at === -1) return 0;
        const value = parseLong(tbuf, at, remaining - (at - target.start));
        if (!value || value.value < 0) return 0;
        length = value.value;
      }
    }
    // Keep the stream inside the file (ClamAV measures from the /Length value, wrapping below 0).
    if (valueStart + length + 5 > this.map.length) {
      const capped = this.map.length - valueStart - 5;
      length = capped < 0 ? Number.MAX_SAFE_INTEGER : capped;
    }
    return length;
  }

  /**
   * The /DecodeParms (or /DP) dictionary of a stream, located as ClamAV does (the first `<<` at
   * or after the value); undefined when there is none.
   */
  private decodeParms(object: PdfObject, dictLength: number): { start: number; end: number } | undefined {
    const buf = object.buffer;
    const start = object.start;
    const params = dictValue(buf, start, dictLength, KEY.decodeParms) ?? dictValue(buf, start, dictLength, KEY.dp);
    if (!params) return undefined;
    let at = params.pos;
    let left = params.len;
    while (buf[at] === 0x3c && at > start) {
      at--;
      left++;
    }
    while (buf[at] !== 0x3c && left > 0) {
      at++;
      left--;
    }
    if (left <= 4) return undefined;
    const close = memstr(buf, at, object.start + object.size - at, ascii('>>'));
    return { start: at, end: close === -1 ? object.start + object.size : close };
  }

  /** /Type/ObjStm streams: /First, /Length and /N, with ClamAV's warnings when one is missing. */
  private objectStreamHeader(object: PdfObject, dictLength: number): { first: number; count: number } | undefined {
    const buf = object.buffer;
    const start = object.start;
    if (!dictValue(buf, start, dictLength, KEY.objStm)) return undefined;
    const first = dictInt(buf, start, dictLength, KEY.first);
    if (first === -1) {
      this.options.warn('pdf_extract_obj: Failed to find offset of first object in object stream');
      return undefined;
    }
    if (dictInt(buf, start, dictLength, KEY.length) === -1) {
      this.options.warn('pdf_extract_obj: Failed to find length of object stream');
      return undefined;
    }
    const count = dictInt(buf, start, dictLength, KEY.n);
    if (count === -1) {
      this.options.warn('pdf_extract_obj: Failed to find num objects in object stream');
      return undefined;
    }
    // ClamAV stores these C ints in size_t fields.
    return { first: first >>> 0, count: count >>> 0 };
  }

  /** pdf_find_and_parse_objs_in_objstm: adds and parses the objects of a decoded object stream. */
  private parseObjectStream(buffer: Uint8Array, header: { first: number; count: number }): void {
    const { first, count } = header;
    if (!first || !buffer.length || !count || first >= buffer.length) return;
    let pair = 0;
    for (let found = 0; found < count; ) {
      if (this.objects.length >= MAX_OBJECTS) return;
      let index = pair;
      const number = parseLong(buffer, index, buffer.length - index);
      if (!number || number.value < 0) return;
      while (index < buffer.length && isDigit(buffer[index]!)) index++;
      index = nonSpaceForward(buffer, index, first);
      const offset = parseLong(buffer, index, buffer.length - index);
      if (!offset || offset.value < 0 || first + offset.value > buffer.length) return;
      const objectStart = first + offset.value;
      found++;
      while (index < buffer.length && isDigit(buffer[index]!)) index++;
      pair = nonSpaceForward(buffer, index, first);
      let size: number;
      if (found < count && index < buffer.length) {
        index = pair;
        while (index < buffer.length && isDigit(buffer[index]!)) index++;
        index = nonSpaceForward(buffer, index, first);
        const next = parseLong(buffer, index, buffer.length - index);
        if (!next || next.value < 0 || next.value <= offset.value || first + next.value > buffer.length) return;
        size = next.value - offset.value;
      } else {
        if (found < count) this.options.warn('pdf_findobj_in_objstm: Fewer objects found in object stream than expected!');
        size = buffer.length - objectStart;
      }
      const object: PdfObject = {
        id: objectKey(number, 0),
        buffer,
        inObjectStream: true,
        start: objectStart,
        size,
        flags: 0,
        filters: [],
        streamStart: -1,
        streamSize: 0,
        extracted: false,
      };
      this.addObject(object);
      this.parseObject(object);
    }
  }
}

/** /EarlyChange in a /DecodeParms dictionary: LZW's early code-width change, on by default. */
function paramEarlyChange(buf: Uint8Array, params: { start: number; end: number }): boolean {
  const key = memstr(buf, params.start, params.end - params.start, KEY.earlyChange);
  if (key === -1) return true;
  const value = parseLong(buf, key + KEY.earlyChange.length, params.end - key - KEY.earlyChange.length);
  return value ? value.value !== 0 : true;
}

/** /Name in a /DecodeParms dictionary: the crypt filter's name as ClamAV reads it (slash kept). */
function paramName(buf: Uint8Array, params: { start: number; end: number }): string | undefined {
  const key = memstr(buf, params.start, params.end - params.start, KEY.name);
  if (key === -1) return undefined;
  let at = key + KEY.name.length;
  while (at < params.end && isSpace(buf[at]!)) at++;
  let end = buf[at] === 0x2f ? at + 1 : at;
  while (end < params.end && buf[end] !== 0x3e && buf[end] !== 0x2f) end++;
  return String.fromCharCode(...buf.subarray(at, end)).replace(/^\//, '');
}

/** pdf_parse_encrypt: the "N G R" reference after /Encrypt (skipping /EncryptMetadata). */
function encryptReference(buf: Uint8Array, at: number): number | undefined {
  let len = buf.length - at;
  if (len >= 16 && matches(buf, at, '/EncryptMetadata')) {
    const next = memstr(buf, at + 16, len - 16, KEY.encrypt);
    if (next === -1) return undefined;
    len -= next - at;
    at = next;
  }
  let q = at + 8;
  len -= 8;
  let next = nextObject(buf, q, len);
  if (next === -1 || !isDigit(buf[next]!)) return undefined;
  len -= next - q;
  q = next;
  const number = parseLong(buf, next, len);
  if (!number || number.value < 0) return undefined;
  next = nextObject(buf, q, len);
  if (next === -1 || !isDigit(buf[next]!)) return undefined;
  len -= next - q;
  q = next;
  const generation = parseLong(buf, next, len);
  if (!generation || generation.value < 0) return undefined;
  next = nextObject(buf, q, len);
  if (next === -1 || buf[next] !== 0x52) return undefined;
  return objectKey(number, generation.low32);
}

function matches(buf: Uint8Array, at: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (buf[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** BUFSIZ: ClamAV reads the dumped object and writes the normalised text in blocks of this size. */
const BLOCK = 8192;

/**
 * pdf_scan_contents: the text shown by a page's content stream, normalised. ClamAV only looks
 * at lines that start with `[` (TJ arrays) until it meets one, then takes the characters inside
 * every `(...)` string; a line without `[` is skipped up to its end within the current block.
 */
function contentsText(data: Uint8Array): Uint8Array {
  const normaliser = new TextNormaliser();
  const block = new Uint8Array(BLOCK);
  const parts: Uint8Array[] = [];
  let used = 0;
  const enum Text {
    None,
    Array,
    String,
  }
  let state = Text.None;
  for (let chunk = 0; chunk < data.length; chunk += BLOCK) {
    let p = chunk;
    let length = Math.min(BLOCK, data.length - chunk);
    const chunkEnd = chunk + length;
    do {
      const c = data[p];
      if (state === Text.None) {
        if (c === 0x5b) state = Text.Array;
        else {
          const newline = memchr(data, p, chunkEnd - p, 0x0a);
          if (newline === -1) break;
          length -= newline - p;
          p = newline;
        }
      } else if (state === Text.Array) {
        if (c === 0x28) state = Text.String;
      } else if (c === 0x29) state = Text.Array;
      else {
        const next = normaliser.normalise(data, p, p + 1, block, used);
        if (next === used && used === BLOCK) {
          // A full buffer is written out and the byte that did not fit is lost.
          parts.push(block.slice(0, used));
          used = 0;
          normaliser.reset();
        } else used = next;
      }
      p++;
      if (length > 0) length--;
    } while (length > 0);
  }
  parts.push(block.slice(0, used));
  return concat(parts);
}
