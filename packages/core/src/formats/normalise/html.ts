/**
 * ClamAV's HTML normaliser (libclamav/htmlnorm.c): the views of an HTML document that
 * target-type-3 signatures match.
 *
 * - `nocomment`: the markup lower-cased with white space collapsed, comments dropped (but kept
 *   inside scripts), entities and character references decoded, tag arguments re-quoted with `"`.
 * - `notags`: the visible text only, plus the targets of `<a href>` and `<img src>`.
 * - `javascript`: every script normalised by {@link JavaScriptNormaliser}, one `<script>…</script>`
 *   per line; Microsoft Script Encoder blocks (`#@~^…^#~@`) are decoded first.
 * - `dataUris`: each `data:` URI of a tag argument, wrapped as ClamAV wraps it (a small MIME
 *   message that the mail parser decodes).
 * - `styleImages`: base64 images in `url(data:…;base64,…)` of `<style>` blocks.
 *
 * The input is read in ClamAV's chunks (see {@link HtmlChunkReader}) and leading white space of
 * each chunk is skipped, exactly as ClamAV reads it: this shows in the output, so it is reproduced
 * rather than idealised.
 */
import { GrowableBytes } from '../../util/growable.js';
import { binaryString, isAlnum, isDigit, isSpace, isXDigit, lowerAscii, toLower } from '../documents/bytes.js';
import { CHUNK_BUFFER, HtmlChunkReader } from './html-chunks.js';
import { decodeScriptEncoded, ScriptEncodedState, scriptEncodedLength } from './script-encoder.js';
import { extractStyleImages } from './style-images.js';
import { HTML_ENTITIES } from './html-entities.js';
import { JavaScriptNormaliser } from './javascript.js';

export interface HtmlNormaliseOptions {
  /** Normalise scripts into `javascript` (ClamAV's DOC_CONF_JSNORM, on by default). */
  readonly javascript?: boolean;
  /** Decode named entities and Unicode references (ClamAV's PHISHING_CONF_ENTCONV, on by default). */
  readonly entities?: boolean;
  /** Collect the links and their displayed text, as ClamAV does for its phishing check (`hrefs`). */
  readonly links?: boolean;
}

/**
 * A link as ClamAV's normaliser collects it (tag_arguments_t with scanContents): `href` (an
 * `<a href>`, with the text shown), `src` (an image, with its enclosing link), `dynsrc`,
 * `iframe`, `area`, `href_title` (a title, with the link), `form` (a link in a form, with the
 * form's action).
 */
export interface HtmlLink {
  readonly tag: string;
  readonly value: string;
  contents?: string;
}

export interface NormalisedHtml {
  readonly nocomment: Uint8Array;
  readonly notags: Uint8Array;
  /** Present when at least one script was seen (ClamAV then writes its `javascript` file). */
  readonly javascript?: Uint8Array;
  readonly dataUris: readonly Uint8Array[];
  readonly styleImages: readonly Uint8Array[];
  /** With the `links` option. */
  readonly links?: readonly HtmlLink[];
}

/** Maximum length kept of a tag name, argument name, argument value, entity name or link text. */
const STR_LENGTH = 1024;

const enum S {
  Bad,
  Norm,
  EightBit,
  Comment,
  CharRef,
  EntityRefDecode,
  SkipWs,
  TrimWs,
  Tag,
  TagArg,
  TagArgVal,
  TagArgEqual,
  ProcessTag,
  CharRefDecode,
  LookForScrenc,
  JsDecode,
  JsDecodeLength,
  JsDecodeDecrypt,
  Rfc2397Type,
  Rfc2397Init,
  Rfc2397Data,
  Rfc2397Finish,
  Rfc2397Esc,
  EscapeChar,
}

const enum InTag {
  None,
  Script,
  Style,
}

const enum Quote {
  Single,
  Double,
  None,
}

const SCRENC_START = [0x23, 0x40, 0x7e, 0x5e]; // "#@~^"

/** A fixed-capacity byte string, like the C arrays the normaliser fills. */
class ByteField {
  readonly bytes = new Uint8Array(STR_LENGTH + 1);
  length = 0;

  add(c: number): void {
    if (this.length < STR_LENGTH) this.bytes[this.length++] = c;
  }

  /** The content as a C string: up to the first NUL. */
  text(): string {
    const nul = this.bytes.subarray(0, this.length).indexOf(0);
    return binaryString(this.bytes, 0, nul === -1 ? this.length : nul);
  }

  startsWith(prefix: string): boolean {
    for (let i = 0; i < prefix.length; i++) if (this.bytes[i] !== prefix.charCodeAt(i)) return false;
    return true;
  }
}

interface TagArgument {
  readonly name: string;
  value: string | undefined;
}

/** Output written the way ClamAV's buffered writer allows: a rewind only undoes buffered bytes. */
class Output extends GrowableBytes {
  rewind(): void {
    if (this.length > 0) this.length--;
  }

  text(text: string): void {
    for (let i = 0; i < text.length; i++) this.push(text.charCodeAt(i) & 0xff);
  }
}

/** The bytes ClamAV's u16_normalize writes for a UTF-16 unit. */
function normaliseUnit(unit: number): string {
  if (unit === 0) return '';
  if (unit < 0xff) return String.fromCharCode(unit);
  if (unit === 0x3002 || unit === 0xff0e || unit === 0xfe52) return '.'; // ideographic full stops
  return `&#x${unit.toString(16).padStart(4, '0')};`;
}

/** Multi-byte sequences that are full stops in some encoding (ClamAV bug #4097). */
function isDotSequence(mbchar: number, next: number): boolean {
  return mbchar === 0xe38082 || mbchar === 0xefbc8e || mbchar === 0xefb992 || (mbchar === 0xa1 && (next === 0x43 || next === 0x44 || next === 0x4f));
}

export function normaliseHtml(data: Uint8Array, options: HtmlNormaliseOptions = {}): NormalisedHtml {
  return new HtmlNormaliser(data, options.javascript ?? true, options.entities ?? true, options.links ?? false).run();
}

class HtmlNormaliser {
  private readonly nocomment = new Output(4096);
  private readonly notags = new Output(4096);
  private readonly dataUris: Output[] = [];
  private dataUri: Output | undefined;
  private readonly scripts: string[] = [];
  private style = '';

  private readonly reader: HtmlChunkReader;
  private readonly line = new Uint8Array(CHUNK_BUFFER);
  private ptr = 0;

  private state = S.Norm;
  private nextState = S.Bad;
  private savedNextState = S.Bad;
  private inTag = InTag.None;
  private binary = false;
  private textSpaceWritten = false;
  private escape = false;
  private quoted = Quote.None;
  private hex = false;
  private value = 0n;
  private escapeLength = 0;
  private mbchar = 0;
  private mbcharValue = 0;
  private lookForScrenc = false;
  private screncAt = -1;
  private inScrenc = false;
  private readonly screnc: ScriptEncodedState = { length: 0, sum: 0, tablePos: 0 };

  private readonly tag = new ByteField();
  private readonly tagArg = new ByteField();
  private readonly tagVal = new ByteField();
  private readonly entity = new ByteField();
  private tagArgs: TagArgument[] = [];

  private script: JavaScriptNormaliser | undefined;
  private scriptBegin = -1;
  private styleBegin = -1;

  private readonly links: HtmlLink[] | undefined;
  /** The link (index + 1) whose text is being collected; 0 outside `<a href>`. */
  private inLink = 0;
  /** Where in the chunk the link text still to collect begins; -1 inside a tag. */
  private linkTextBegin = -1;
  private readonly linkText = new LinkText();
  private formAction: string | undefined;

  constructor(
    data: Uint8Array,
    private readonly normaliseScripts: boolean,
    private readonly decodeEntities: boolean,
    collectLinks: boolean,
  ) {
    this.reader = new HtmlChunkReader(data);
    if (collectLinks) this.links = [];
  }

  run(): NormalisedHtml {
    const completed = this.parse();
    if (this.script) this.flushScript();
    const styleImages = completed && this.style ? extractStyleImages(this.style) : [];
    if (completed && this.decodeEntities) this.flushPendingEntity();
    return {
      nocomment: this.nocomment.finish(),
      notags: this.notags.finish(),
      javascript: this.scripts.length ? Buffer.from(this.scripts.join(''), 'latin1') : undefined,
      dataUris: this.dataUris.map((uri) => uri.finish()),
      styleImages,
      links: completed ? this.finishLinks() : undefined,
    };
  }

  /** Reads the next chunk into `line`; false at the end of the input. */
  private readChunk(): boolean {
    return this.reader.read(this.line) !== -1;
  }

  /** Runs the state machine over all chunks; false when ClamAV would abort early. */
  private parse(): boolean {
    if (!this.readChunk()) return true;
    this.ptr = 0;
    for (;;) {
      const line = this.line;
      if (this.linkTextBegin !== -1) this.linkTextBegin = this.ptr;
      while (line[this.ptr] && isSpace(line[this.ptr]!)) this.ptr++;
      while (line[this.ptr]) {
        const c = line[this.ptr]!;
        if (!this.binary && c === 0x0a) {
          line[this.ptr] = 0x20;
          continue;
        }
        if (!this.binary && c === 0x0d) {
          this.ptr++;
          continue;
        }
        if (!this.step()) return false;
      }
      if (this.inLink && this.linkTextBegin !== -1) this.linkText.append(line, this.linkTextBegin, this.ptr);
      if (this.script) {
        this.feedScript(this.ptr);
        if (this.inTag === InTag.None) this.flushScript();
      }
      if (this.inTag === InTag.Style) {
        if (this.ptr < this.styleBegin) return false;
        this.style += binaryString(line, this.styleBegin, this.ptr);
      }
      if (this.lookForScrenc && this.screncAt !== -1) {
        // Decode from the marker found on this line, re-reading the rest of the line.
        this.ptr = this.screncAt;
        this.screncAt = -1;
        this.state = S.JsDecodeLength;
        this.nextState = S.Bad;
        continue;
      }
      if (!this.readChunk()) return true;
      this.ptr = 0;
      if (this.inTag === InTag.Style) this.styleBegin = 0;
      if (this.inScrenc) {
        this.state = S.JsDecodeDecrypt;
        this.nextState = S.Bad;
      } else if (this.lookForScrenc && this.screncAt === -1 && this.state !== S.LookForScrenc) {
        this.savedNextState = this.nextState;
        this.nextState = this.state;
        this.state = S.LookForScrenc;
      }
      if (this.nextState === this.state) this.nextState = S.Bad;
    }
  }

  /** One step of the state machine at `ptr`; false to abort as ClamAV does on internal errors. */
  private step(): boolean {
    const line = this.line;
    const c = line[this.ptr]!;
    switch (this.state) {
      case S.Bad:
        return false;
      case S.SkipWs:
        if (isSpace(c)) this.ptr++;
        else this.enterNextState();
        break;
      case S.TrimWs:
        if (isSpace(c)) this.ptr++;
        else {
          if (this.inTag === InTag.None) this.nocomment.push(0x20);
          this.enterNextState();
        }
        break;
      case S.EightBit:
        this.eightBit(c);
        break;
      case S.Norm:
        this.norm(c);
        break;
      case S.Tag:
        this.tagName(c);
        break;
      case S.TagArg:
        this.tagArgument(c);
        break;
      case S.TagArgEqual:
        if (c === 0x3d) {
          this.nocomment.push(0x3d);
          this.ptr++;
          this.startValue();
        } else {
          if (this.tagArg.length > 0) this.addTagArg(this.tagArg.text(), undefined);
          this.tagArg.length = 0;
          this.state = S.TagArg;
          this.nextState = S.Bad;
        }
        break;
      case S.TagArgVal:
        this.tagValue(c);
        break;
      case S.Comment:
        if (this.inTag !== InTag.None && !isSpace(c)) {
          // Scripts inside comments still go to nocomment.
          const lower = toLower(c);
          this.nocomment.push(lower === 0x27 ? 0x22 : lower);
        }
        if (c === 0x3e) {
          this.state = S.SkipWs;
          this.nextState = S.Norm;
        }
        this.ptr++;
        break;
      case S.ProcessTag:
        return this.processTag();
      case S.CharRef:
        if (c === 0x23) {
          this.value = 0n;
          this.hex = false;
          this.state = S.CharRefDecode;
          this.ptr++;
        } else if (this.decodeEntities) {
          this.state = S.EntityRefDecode;
        } else {
          if (this.nextState === S.TagArgVal) this.tagVal.add(0x26);
          this.nocomment.push(0x26);
          this.enterNextState();
        }
        break;
      case S.EntityRefDecode:
        this.entityReference(c);
        break;
      case S.CharRefDecode:
        this.characterReference(c);
        break;
      case S.LookForScrenc:
        this.lookForScrenc = true;
        this.screncAt = this.findScrencStart(this.ptr);
        if (this.screncAt !== -1) {
          line[this.screncAt] = 0x2f;
          line[this.screncAt + 1] = 0x2f;
          this.screncAt += 4;
        }
        this.state = this.nextState;
        this.nextState = this.savedNextState;
        break;
      case S.JsDecode:
        if (SCRENC_START.every((b, i) => line[this.ptr + i] === b)) {
          // The marker becomes a JavaScript comment for the script normaliser.
          line[this.ptr] = 0x2f;
          line[this.ptr + 1] = 0x2f;
          this.ptr += 4;
          this.state = S.JsDecodeLength;
          this.nextState = S.Bad;
        } else {
          this.nocomment.push(toLower(c));
          this.ptr++;
        }
        break;
      case S.JsDecodeLength:
        if (this.textLength(this.ptr) < 8) {
          this.state = S.Norm;
          this.nextState = S.Bad;
          break;
        }
        this.screnc.length = scriptEncodedLength(line, this.ptr);
        this.screnc.sum = 0;
        this.screnc.tablePos = 0;
        this.state = S.JsDecodeDecrypt;
        this.inScrenc = true;
        this.nextState = S.Bad;
        line[this.ptr + 7] = 0x0a; // ends the `//` comment for the script normaliser
        this.ptr += 8;
        break;
      case S.JsDecodeDecrypt:
        decodeScriptEncoded(line, this.ptr, this.screnc);
        if (!this.screnc.length) this.inScrenc = false;
        this.state = S.Norm;
        this.nextState = S.Bad;
        break;
      case S.Rfc2397Type:
        this.dataUriType(c);
        break;
      case S.Rfc2397Init:
        this.startDataUri();
        break;
      case S.Rfc2397Data:
        this.dataUriData(c);
        break;
      case S.Rfc2397Finish:
        this.dataUri = undefined;
        this.state = S.SkipWs;
        this.escape = false;
        this.quoted = Quote.None;
        this.nextState = S.TagArg;
        this.binary = false;
        break;
      case S.Rfc2397Esc:
        if (this.escapeLength === 2) this.dataUri?.push(Number(this.value & 0xffn));
        else if (this.escapeLength === 1) {
          this.dataUri?.push(0x25);
          this.dataUri?.push(Number((this.value + 0x30n) & 0xffn));
        } else this.dataUri?.push(0x25);
        this.state = S.Rfc2397Data;
        break;
      case S.EscapeChar:
        this.value *= 16n;
        this.escapeLength++;
        if (isXDigit(c)) this.value += BigInt(isDigit(c) ? c - 0x30 : toLower(c) - 0x61 + 10);
        else this.state = this.nextState;
        if (this.escapeLength === 2) this.state = this.nextState;
        this.ptr++;
        break;
    }
    return true;
  }

  private enterNextState(): void {
    this.state = this.nextState;
    this.nextState = S.Bad;
  }

  private eightBit(c: number): void {
    if (c < 0x80 || this.mbchar >= 0x10000) {
      if (isDotSequence(this.mbchar, c)) {
        this.nocomment.push(0x2e);
        this.notags.push(0x2e);
        if (this.mbchar === 0xa1) {
          this.ptr++;
          this.mbchar = 0;
          return;
        }
      } else {
        const c0 = (this.mbchar >>> 16) & 0xff;
        const c1 = (this.mbchar >>> 8) & 0xff;
        const c2 = this.mbchar & 0xff;
        if (c0) {
          this.nocomment.push(c0);
          this.notags.push(c0);
        }
        if (c0 || c1) {
          this.nocomment.push(c1);
          this.notags.push(c1);
        }
        this.nocomment.push(c2);
        this.notags.push(c1); // sic: ClamAV writes the middle byte again instead of the last
      }
      this.mbchar = 0;
      this.state = this.nextState;
      this.nextState = S.Norm;
    } else {
      this.mbchar = ((this.mbchar << 8) | c) >>> 0;
      this.ptr++;
    }
  }

  private norm(c: number): void {
    const inText = this.inTag === InTag.None;
    if (c === 0x3c) {
      this.nocomment.push(0x3c);
      if (inText && !this.textSpaceWritten) {
        this.notags.push(0x20);
        this.textSpaceWritten = true;
      }
      if (this.inLink && this.linkTextBegin !== -1) {
        this.linkText.append(this.line, this.linkTextBegin, this.ptr);
        this.linkTextBegin = -1;
      }
      this.ptr++;
      this.state = S.SkipWs;
      this.tag.length = 0;
      this.nextState = S.Tag;
    } else if (isSpace(c)) {
      if (!this.textSpaceWritten && inText) {
        this.notags.push(0x20);
        this.textSpaceWritten = true;
      }
      this.state = S.TrimWs;
      this.nextState = S.Norm;
    } else if (c === 0x26) {
      if (!this.textSpaceWritten && inText) {
        this.notags.push(0x20);
        this.textSpaceWritten = true;
      }
      this.state = S.CharRef;
      this.nextState = S.Norm;
      this.ptr++;
    } else if (c >= 0x80) {
      this.state = S.EightBit;
      this.nextState = S.Norm;
      this.mbchar = c;
      this.ptr++;
    } else {
      let lower = toLower(c);
      if (!inText && lower === 0x27) lower = 0x22; // ' becomes " inside scripts and styles
      this.nocomment.push(lower);
      if (inText) {
        if (c < 0x20) {
          if (!this.textSpaceWritten) {
            this.notags.push(0x20);
            this.textSpaceWritten = true;
          }
        } else {
          this.notags.push(lower);
          this.textSpaceWritten = false;
        }
      }
      this.ptr++;
    }
  }

  private tagName(c: number): void {
    if (this.tag.length === 0 && c === 0x21) {
      // A comment: outside scripts the `<` already written is taken back.
      if (this.inTag !== InTag.None) this.nocomment.push(0x21);
      else this.nocomment.rewind();
      this.state = S.Comment;
      this.nextState = S.Bad;
      this.ptr++;
    } else if (c === 0x3e) {
      this.nocomment.push(0x3e);
      this.ptr++;
      this.tag.bytes[this.tag.length] = 0;
      this.state = S.SkipWs;
      this.nextState = S.ProcessTag;
    } else if (!isSpace(c)) {
      this.nocomment.push(toLower(c));
      // Inside a script or style only a closing tag matters.
      if (this.inTag !== InTag.None && this.tag.length === 0 && c !== 0x2f) this.state = S.Norm;
      this.tag.add(toLower(c));
      this.ptr++;
    } else {
      this.tag.bytes[this.tag.length] = 0;
      this.state = S.SkipWs;
      this.tagArg.length = 0;
      this.nextState = this.inTag === InTag.None ? S.TagArg : S.ProcessTag;
    }
  }

  private tagArgument(c: number): void {
    if (c === 0x3d) {
      this.nocomment.push(0x3d);
      this.ptr++;
      this.startValue();
    } else if (isSpace(c)) {
      this.ptr++;
      this.state = S.SkipWs;
      this.nextState = S.TagArgEqual;
    } else if (c === 0x3e) {
      this.nocomment.push(0x3e);
      if (this.tagArg.length > 0) this.addTagArg(this.tagArg.text(), undefined);
      this.ptr++;
      this.state = S.ProcessTag;
      this.nextState = S.Bad;
    } else {
      if (this.tagArg.length === 0) this.nocomment.push(0x20);
      this.nocomment.push(toLower(c));
      this.tagArg.add(toLower(c));
      this.ptr++;
    }
  }

  private startValue(): void {
    this.state = S.SkipWs;
    this.escape = false;
    this.quoted = Quote.None;
    this.tagVal.length = 0;
    this.nextState = S.TagArgVal;
  }

  private tagValue(c: number): void {
    const val = this.tagVal;
    if ((val.length === 5 && val.startsWith('data:')) || (val.length === 6 && val.startsWith('"data:'))) {
      // An RFC 2397 data URI: the value is extracted instead of normalised.
      this.nocomment.rewind();
      if (this.quoted !== Quote.None) this.nocomment.push(0x22);
      val.length = 0;
      this.state = S.Rfc2397Type;
      this.nextState = S.TagArg;
    } else if (c === 0x26) {
      this.state = S.CharRef;
      this.nextState = S.TagArgVal;
      this.ptr++;
    } else if (c === 0x27 || c === 0x22) {
      const quote = c === 0x27 ? Quote.Single : Quote.Double;
      const opening = val.length === 0;
      this.nocomment.push(0x22);
      val.add(0x22);
      this.ptr++;
      if (opening) {
        this.quoted = quote;
      } else if (!this.escape && this.quoted === quote) {
        this.addTagArg(this.tagArg.text(), val.text());
        this.state = S.SkipWs;
        this.tagArg.length = 0;
        this.nextState = S.TagArg;
      }
    } else if (isSpace(c) || c === 0x3e) {
      if (this.quoted === Quote.None) {
        this.addTagArg(this.tagArg.text(), val.text());
        this.state = S.SkipWs;
        this.tagArg.length = 0;
        this.nextState = S.TagArg;
      } else {
        this.nocomment.push(c);
        val.add(isSpace(c) ? 0x20 : 0x3e);
        this.state = S.SkipWs;
        this.escape = false;
        this.quoted = Quote.None;
        this.nextState = S.TagArgVal;
        this.ptr++;
      }
    } else {
      const consumedDot = this.valueCharacter(c);
      this.ptr++;
      if (consumedDot) return; // ClamAV restarts its loop here, skipping the escape check
    }
    this.escape = this.line[this.ptr] === 0x5c;
  }

  /** A byte of an argument value; true when it completed a full stop sequence ending in 0xa1. */
  private valueCharacter(c: number): boolean {
    const val = this.tagVal;
    if (this.mbcharValue && (c < 0x80 || this.mbcharValue >= 0x10000)) {
      if (isDotSequence(this.mbcharValue, c)) {
        this.nocomment.push(0x2e);
        val.add(0x2e);
        if (this.mbcharValue === 0xa1) {
          this.mbcharValue = 0;
          return true;
        }
      } else {
        const c0 = (this.mbcharValue >>> 16) & 0xff;
        const c1 = (this.mbcharValue >>> 8) & 0xff;
        const c2 = this.mbcharValue & 0xff;
        if (c0) this.nocomment.push(c0);
        if (c0 || c1) this.nocomment.push(c1);
        this.nocomment.push(c2);
        if (c0) val.add(c0);
        if (c0 || c1) val.add(c1);
        val.add(c2);
      }
      this.mbcharValue = 0;
    }
    if (c >= 0x80) this.mbcharValue = ((this.mbcharValue << 8) | c) >>> 0;
    else {
      this.nocomment.push(toLower(c));
      val.add(c);
    }
    return false;
  }

  private addTagArg(name: string, value: string | undefined): void {
    // A value stored with its opening quote loses its first and last characters.
    const stored = value !== undefined && value.startsWith('"') ? value.slice(1, value.length > 1 ? -1 : undefined) : value;
    this.tagArgs.push({ name, value: stored });
  }

  private tagArgValue(name: string): string | undefined {
    return this.tagArgs.find((arg) => arg.name === name)?.value;
  }

  private processTag(): boolean {
    this.state = S.SkipWs;
    this.nextState = S.Norm;
    const tag = this.tag.text();
    if (tag.startsWith('/')) {
      if (tag === '/script') {
        this.inTag = InTag.None;
        if (this.script) {
          this.feedScript(this.ptr);
          this.flushScript();
        }
      } else if (tag === '/style' && this.inTag === InTag.Style) {
        const styleEnd = this.ptr - '</style>'.length;
        if (styleEnd < this.styleBegin) return false;
        this.style += binaryString(this.line, this.styleBegin, styleEnd);
        this.inTag = InTag.None;
        this.styleBegin = -1;
      }
      if (this.links) this.closingTag(tag);
    } else if (tag === 'script') {
      const language = lowerAscii(this.tagArgValue('language') ?? '');
      if (language === 'jscript.encode' || language === 'vbscript.encode') {
        this.setTagArg('language', language === 'jscript.encode' ? 'javascript' : 'vbscript');
        this.state = S.SkipWs;
        this.nextState = S.JsDecode;
        this.outputTag(tag);
      }
      this.inTag = InTag.Script;
      if (this.normaliseScripts && !this.script) {
        this.script = new JavaScriptNormaliser();
        this.scriptBegin = this.ptr;
      }
    } else if (tag === 'style') {
      this.inTag = InTag.Style;
      this.styleBegin = this.ptr;
    } else if (tag === '%@') {
      const language = lowerAscii(this.tagArgValue('language') ?? '');
      if (language === 'jscript.encode' || language === 'vbscript.encode') {
        this.savedNextState = this.nextState;
        this.nextState = this.state;
        this.lookForScrenc = false;
        this.state = S.LookForScrenc;
      }
    } else if (this.links) {
      this.linkTag(tag, this.links);
    } else if (tag === 'a' || tag === 'img') {
      const target = this.tagArgValue(tag === 'a' ? 'href' : 'src');
      if (target) {
        this.notags.text(target);
        this.notags.push(0x20);
        this.textSpaceWritten = true;
      }
    }
    this.tagArgs = [];
    return true;
  }

  /** A closing tag inside a link: `</a>` ends its text; text resumes after any closing tag. */
  private closingTag(tag: string): void {
    if (this.inLink) {
      if (tag === '/a') this.finishLinkText(this.inLink);
      this.linkTextBegin = this.ptr;
    }
    if (tag === '/form') this.formAction = undefined;
  }

  /** The links of a tag: `<a href>` (and its title), `<form action>`, `<img>`, `<iframe>`, `<area>`. */
  private linkTag(tag: string, links: HtmlLink[]): void {
    if (this.inLink && this.linkTextBegin === -1) this.linkTextBegin = this.ptr;
    switch (tag) {
      case 'a': {
        const href = this.tagArgValue('href');
        if (!href) return;
        const title = this.tagArgValue('title');
        // Nested links: the open one ends here.
        if (this.inLink) this.finishLinkText(this.inLink);
        if (title !== undefined) {
          this.addLink(links, 'href_title', title);
          this.linkText.appendText(href);
          this.finishLinkText(links.length);
        }
        this.addFormLink(links, href);
        this.addLink(links, 'href', href);
        this.inLink = links.length;
        this.linkTextBegin = this.ptr;
        this.linkText.clear();
        return;
      }
      case 'form': {
        const action = this.tagArgValue('action');
        if (action !== undefined) this.formAction = action;
        return;
      }
      case 'img':
        this.addEmbeddedLink(links, 'src', this.tagArgValue('src'));
        this.addEmbeddedLink(links, 'dynsrc', this.tagArgValue('dynsrc'));
        return;
      case 'iframe':
        this.addEmbeddedLink(links, 'iframe', this.tagArgValue('src'));
        return;
      case 'area':
        this.addEmbeddedLink(links, 'area', this.tagArgValue('href'));
    }
  }

  /** html_tag_arg_add: a value that (still) starts with `"` loses its first and last characters. */
  private addLink(links: HtmlLink[], tag: string, value: string): void {
    const stored = value.startsWith('"') ? value.slice(1, value.length > 1 ? -1 : undefined) : value;
    links.push({ tag, value: stored });
  }

  /** An image, frame or area: inside a link, its text is the link's target. */
  private addEmbeddedLink(links: HtmlLink[], tag: string, value: string | undefined): void {
    if (!value) return;
    this.addLink(links, tag, value);
    if (this.inLink) links[links.length - 1]!.contents = links[this.inLink - 1]!.value;
    this.addFormLink(links, value);
  }

  /** Inside a form, a link is also recorded as displayed text of the form's action. */
  private addFormLink(links: HtmlLink[], value: string): void {
    if (this.formAction === undefined) return;
    this.addLink(links, 'form', value);
    this.linkText.clear();
    this.linkText.appendText(this.formAction);
    this.finishLinkText(links.length);
  }

  /** html_tag_contents_done: the collected text becomes link `index`'s (1-based) contents. */
  private finishLinkText(index: number): void {
    this.links![index - 1]!.contents = this.linkText.take();
    if (index === this.inLink) this.inLink = 0;
  }

  /** At the end of the input, an unclosed link gets the text collected so far. */
  private finishLinks(): readonly HtmlLink[] | undefined {
    if (this.inLink) this.finishLinkText(this.inLink);
    return this.links;
  }

  private setTagArg(name: string, value: string): void {
    const arg = this.tagArgs.find((candidate) => candidate.name === name);
    if (arg) arg.value = value;
  }

  /** ClamAV writes a rewritten tag (e.g. script language) again after the original. */
  private outputTag(tag: string): void {
    const out = this.nocomment;
    out.push(0x3c);
    out.text(tag);
    for (const arg of this.tagArgs) {
      out.push(0x20);
      out.text(arg.name);
      if (arg.value !== undefined) {
        out.text('="');
        for (let i = 0; i < arg.value.length; i++) out.push(toLower(arg.value.charCodeAt(i)));
        out.push(0x22);
      }
    }
    out.push(0x3e);
  }

  private entityReference(c: number): void {
    const entity = this.entity;
    const toValue = this.nextState === S.TagArgVal;
    if (c === 0x3b) {
      const unit = HTML_ENTITIES.get(entity.text());
      if (unit !== undefined) {
        const text = normaliseUnit(unit);
        for (let i = 0; i < text.length; i++) {
          this.nocomment.push(text.charCodeAt(i));
          if (toValue) this.tagVal.add(text.charCodeAt(i));
        }
      } else {
        this.nocomment.push(0x26);
        if (toValue) this.tagVal.add(0x26);
        for (let i = 0; i < entity.length; i++) {
          const lower = toLower(entity.bytes[i]!);
          this.nocomment.push(lower);
          if (toValue) this.tagVal.add(lower);
        }
        if (toValue) this.tagVal.add(0x3b);
        this.nocomment.push(0x3b);
      }
      entity.length = 0;
      this.enterNextState();
      this.ptr++;
    } else if ((isAlnum(c) || c === 0x5f || c === 0x3a || c === 0x2d) && entity.length < STR_LENGTH) {
      entity.bytes[entity.length++] = c;
      this.ptr++;
    } else {
      // Too long or not a name: written as it was, and the current byte is read again.
      if (toValue) this.tagVal.add(0x26);
      this.nocomment.push(0x26);
      for (let i = 0; i < entity.length; i++) {
        const lower = toLower(entity.bytes[i]!);
        this.nocomment.push(lower);
        if (toValue) this.tagVal.add(lower);
      }
      this.enterNextState();
      entity.length = 0;
    }
  }

  private characterReference(c: number): void {
    const INT64_MAX = 0x7fffffffffffffffn;
    if (this.value === 0n && (c === 0x78 || c === 0x58)) {
      this.hex = true;
      this.ptr++;
    } else if (c === 0x3b) {
      const byte = Number(this.value & 0xffn);
      if (this.nextState === S.TagArgVal) this.tagVal.add(byte);
      if (this.decodeEntities) {
        if (this.value < 0x80n) this.nocomment.push(toLower(byte));
        else this.nocomment.text(normaliseUnit(Number(this.value & 0xffffn)));
      } else this.nocomment.push(toLower(byte));
      this.enterNextState();
      this.ptr++;
    } else if (isDigit(c) || (this.hex && isXDigit(c))) {
      // Overflow guards as in ClamAV, including its fall-back to base 10 for huge hex values.
      if (this.hex && this.value < INT64_MAX / 16n) this.value *= 16n;
      else if (this.value < INT64_MAX / 10n) this.value *= 10n;
      else {
        this.nocomment.push(Number(this.value & 0xffn));
        this.enterNextState();
        this.ptr++;
        return;
      }
      const increment = BigInt(isDigit(c) ? c - 0x30 : toLower(c) - 0x61 + 10);
      if (this.value > INT64_MAX - increment) {
        this.nocomment.push(Number(this.value & 0xffn));
        this.enterNextState();
        this.ptr++;
        return;
      }
      this.value += increment;
      this.ptr++;
    } else {
      this.nocomment.push(Number(this.value & 0xffn));
      this.enterNextState();
    }
  }

  private dataUriType(c: number): void {
    const val = this.tagVal;
    if (c === 0x27 || c === 0x22) {
      const quote = c === 0x27 ? Quote.Single : Quote.Double;
      this.ptr++;
      if (!this.escape && this.quoted === quote) {
        this.state = S.SkipWs; // no data: the URI ended early
        this.tagArg.length = 0;
        this.nextState = S.TagArg;
      } else val.add(0x22);
    } else if (isSpace(c) || c === 0x3e) {
      if (this.quoted === Quote.None) {
        this.state = S.SkipWs;
        this.tagArg.length = 0;
        this.nextState = S.TagArg;
      } else {
        val.add(isSpace(c) ? 0x20 : 0x3e);
        this.state = S.SkipWs;
        this.escape = false;
        this.quoted = Quote.None;
        this.nextState = S.Rfc2397Type;
        this.ptr++;
      }
    } else if (c === 0x2c) {
      val.bytes[val.length] = 0;
      this.state = S.Rfc2397Init;
      this.escape = false;
      this.nextState = S.Bad;
      this.ptr++;
    } else {
      val.add(toLower(c));
      this.ptr++;
    }
    this.escape = this.line[this.ptr] === 0x5c;
  }

  /** Starts the pseudo-message ClamAV writes for a data URI: headers from the media type. */
  private startDataUri(): void {
    const uri = new Output(1024);
    this.dataUris.push(uri);
    this.dataUri = uri;
    const type = binaryString(this.tagVal.bytes, 0, this.tagVal.length);
    uri.text('From html-normalise\nContent-type: ');
    uri.text(type);
    uri.push(0x0a);
    if (this.tagVal.text().includes(';base64')) uri.text('Content-transfer-encoding: base64\n');
    uri.push(0x0a);
    this.state = S.Rfc2397Data;
    this.binary = true;
  }

  private dataUriData(c: number): void {
    if (c === 0x26) {
      this.state = S.CharRef;
      this.nextState = S.Rfc2397Data;
      this.ptr++;
    } else if (c === 0x25) {
      this.escapeLength = 0;
      this.value = 0n;
      this.state = S.EscapeChar;
      this.nextState = S.Rfc2397Esc;
      this.ptr++;
    } else if ((c === 0x27 && this.quoted === Quote.Single) || (c === 0x22 && this.quoted === Quote.Double)) {
      if (!this.escape) this.state = S.Rfc2397Finish;
      else this.dataUri?.push(c);
      this.ptr++;
    } else if ((isSpace(c) || c === 0x3e) && this.quoted === Quote.None) {
      this.state = S.Rfc2397Finish;
      this.ptr++;
    } else {
      this.dataUri?.push(c);
      this.ptr++;
    }
    this.escape = this.line[this.ptr] === 0x5c;
  }

  /** strlen() of the chunk from `from`: the chunk is NUL-terminated and may be cut shorter. */
  private textLength(from: number): number {
    return this.line.indexOf(0, from) - from;
  }

  /** strstr(ptr, "#@~^") on the chunk. */
  private findScrencStart(from: number): number {
    const line = this.line;
    const end = from + this.textLength(from);
    for (let i = line.indexOf(0x23, from); i !== -1 && i + 3 < end; i = line.indexOf(0x23, i + 1)) {
      if (line[i + 1] === 0x40 && line[i + 2] === 0x7e && line[i + 3] === 0x5e) return i;
    }
    return -1;
  }

  /** Hands the script text of this chunk, from its start or the `<script>` tag up to `end`, over. */
  private feedScript(end: number): void {
    const begin = this.scriptBegin === -1 ? 0 : this.scriptBegin;
    if (end > begin) this.script!.push(binaryString(this.line, begin, end));
    this.scriptBegin = -1;
  }

  private flushScript(): void {
    this.scripts.push(this.script!.finish(this.scripts.length > 0));
    this.script = undefined;
  }

  /** An entity still open at the end of the input is written as far as it went. */
  private flushPendingEntity(): void {
    const name = this.entity.text();
    const unit = HTML_ENTITIES.get(name);
    if (unit !== undefined) this.nocomment.text(normaliseUnit(unit));
    else if (this.entity.length) {
      this.nocomment.push(0x26);
      for (let i = 0; i < this.entity.length; i++) this.nocomment.push(toLower(this.entity.bytes[i]!));
    }
  }
}

/**
 * The text of a link, collected as html_tag_contents_append does: at most STR_LENGTH bytes,
 * multi-byte sequences that are full stops in some encoding replaced by `.`.
 */
class LinkText {
  private readonly bytes = new Uint8Array(STR_LENGTH);
  private length = 0;

  clear(): void {
    this.length = 0;
  }

  appendText(text: string): void {
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
    this.append(bytes, 0, bytes.length);
  }

  append(source: Uint8Array, begin: number, end: number): void {
    let mbchar = 0;
    let i = this.length;
    for (let at = begin; i < STR_LENGTH && at < end; i++) {
      const c = source[at++]!;
      if (mbchar && (c < 0x80 || mbchar >= 0x10000)) {
        if (isDotSequence(mbchar, c)) {
          this.bytes[i++] = 0x2e;
          if (mbchar === 0xa1) {
            i--;
            mbchar = 0;
            continue;
          }
        } else {
          i = this.appendSequence(mbchar, i);
        }
        mbchar = 0;
      }
      if (c >= 0x80) {
        mbchar = ((mbchar << 8) | c) >>> 0;
        i--;
      } else this.bytes[i] = c;
    }
    this.length = i;
  }

  /** A pending multi-byte sequence kept as it was (as far as room allows). */
  private appendSequence(mbchar: number, at: number): number {
    let i = at;
    const c0 = (mbchar >>> 16) & 0xff;
    const c1 = (mbchar >>> 8) & 0xff;
    if (c0 && i + 1 < STR_LENGTH) this.bytes[i++] = c0;
    if ((c0 || c1) && i + 1 < STR_LENGTH) this.bytes[i++] = c1;
    if (i + 1 < STR_LENGTH) this.bytes[i++] = mbchar & 0xff;
    return i;
  }

  /** The text collected, emptied. */
  take(): string {
    const text = binaryString(this.bytes, 0, this.length);
    this.length = 0;
    return text;
  }
}
