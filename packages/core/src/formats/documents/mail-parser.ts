/**
 * libclamav's mail parser (mbox.c) rebuilt: mailboxes and single messages are split into their
 * MIME parts, and each part ClamAV would write to its temporary directory becomes an output:
 * decoded attachments, text portions, embedded messages, bounces, BinHex text and uudecoded
 * files. The recognition of parts is deliberately as forgiving — and as quirky — as ClamAV's,
 * since viruses exploit broken mail that some clients still decode.
 *
 * ClamAV scans some outputs at once (attachments it saves with a scan context) and the rest when
 * it scans the temporary directory after parsing; when parsing a single message fails, that
 * directory scan is skipped. Outputs are yielded in that order and under that rule.
 */
import { isBlank, isSpace, lowerAscii, startsWithIgnoreCase, stringBytes } from './bytes.js';
import {
  decodeEncodedWords,
  EmptyOptionFilter,
  hasOddQuotes,
  Header,
  headerNumber,
  isBoundaryEnd,
  isBoundaryStart,
  isHeaderAfterNewline,
  nextIsFoldedHeader,
  stripComments,
  Subtype,
  subtypeNumber,
  Tokenizer,
  usefulHeader,
} from './mail-headers.js';
import { chomp, MailInput } from './mail-input.js';
import { isMailMagic } from './mail-magic.js';
import { DecodeBuffer, decodeLine, exportMessage, messageToText, sanitiseName } from './mime-decode.js';
import { Encoding, field, isUuencodeBegin, MimeMessage, MimeType, type Line } from './mime-message.js';
import { stripTrailing } from './simil.js';
import { extractTextUrls } from './text-urls.js';
import { GrowableBytes } from '../../util/growable.js';
import { normaliseHtml, type HtmlLink } from '../normalise/html.js';

export interface MailFile {
  /** The (sanitised) name ClamAV gives the file. */
  readonly name: string;
  readonly data: Uint8Array;
}

export interface MailParserOptions {
  /** Nesting of MIME parts ClamAV follows (its --max-recursion, reused by the mail parser). */
  readonly maxRecursion: number;
  /** Files a message may produce before ClamAV stops (--max-files). */
  readonly maxFiles: number;
  /** Reports `Heuristics.Limits.Exceeded.Email*` (the scanner decides whether it alerts). */
  readonly heuristic: (name: string) => void;
  readonly debug: (message: string) => void;
  /**
   * ClamAV's phishing URL check is on (--phishing-scan-urls, the default). It decodes text parts
   * once more for their links, and that decoding changes how ClamAV later saves them (an
   * unencoded named part gains a base64 decoding).
   */
  readonly phishingScanUrls: boolean;
  /** The phishing check of a part's links (absent: the links are not collected); false when it stopped the scan. */
  readonly checkLinks?: (links: readonly HtmlLink[]) => boolean;
}

const enum Status {
  Fail,
  Ok,
  OkAttachmentsNotSaved,
  MaxRecursion,
  MaxFiles,
  /** ClamAV's parser assigns CL_EFORMAT here, which then compares unequal to every status. */
  Format,
}

/** Limits of libclamav's email heuristics. */
const MAX_LINE_FOLDS = 256 * 1024;
const MAX_HEADER_BYTES = 256 * 1024;
const MAX_HEADERS = 1024;
const MAX_MIME_PARTS = 1024;
const MAX_MIME_ARGUMENTS = 256;
const RFC2821_LENGTH = 1000;

const BOUNCE_PREFIX = 'Received: by clamd (bounce)\n';

/** The largest decoded part whose links ClamAV checks. */
const MAX_LINK_SCAN_BYTES = 100 * 1024;

/** What handling one part of a multipart leaves: the (possibly dropped) main message and status. */
interface PartOutcome {
  mainMessage: MimeMessage | undefined;
  rc: Status;
}

/** Text lines collected for the text portion of a message (ClamAV's `text` list). */
interface TextLines {
  lines: Line[];
}

function appendLines(out: GrowableBytes, lines: readonly Line[], from = 0): void {
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    if (line !== null) out.append(stringBytes(line));
    out.push(0x0a);
  }
}

class MailParser {
  private files = 0;
  /** Outputs ClamAV leaves for its directory scan after parsing. */
  private readonly deferred: MailFile[] = [];

  constructor(
    private readonly input: MailInput,
    private readonly options: MailParserOptions,
  ) {}

  *parse(): Generator<MailFile> {
    const input = this.input;
    let buffer = input.gets();
    if (buffer === undefined) return;
    let status = Status.Ok;
    let body: MimeMessage | undefined;
    if (buffer.startsWith('From ')) {
      // A UNIX mailbox: messages start at "From " lines that follow an empty line.
      let m = new MimeMessage();
      m.hasContext = true;
      let lastLineWasEmpty = false;
      for (; buffer !== undefined; buffer = input.gets()) {
        const line = chomp(buffer);
        if (lastLineWasEmpty && line.startsWith('From ')) {
          const next = this.parseHeaders(m);
          if (!next) {
            m.reset();
            m.hasContext = true;
            continue;
          }
          next.hasContext = true;
          if (next.body.length) {
            const rc = yield* this.parseBody(next, undefined, 0);
            if (rc === Status.Fail) {
              m = next;
              m.reset();
              m.hasContext = true;
              continue;
            }
          }
          m = next;
          m.reset();
          m.hasContext = true;
        } else lastLineWasEmpty = line === '';
        if (isUuencodeBegin(line) && this.uudecode(m, line)) continue;
        m.addString(line);
      }
      body = this.parseHeaders(m);
    } else {
      if (buffer.startsWith('P I ')) {
        // CommuniGate Pro: its own headers end at the first empty line.
        for (let next = input.gets(); next !== undefined; next = input.gets()) {
          buffer = next;
          if (buffer === '' || buffer[0] === '\r' || buffer[0] === '\n') break;
        }
      }
      while (buffer === '' || buffer[0] === '\r' || buffer[0] === '\n') {
        const next = input.getline();
        if (next === undefined) break;
        buffer = next;
      }
      body = this.parseFile(buffer);
    }
    if (body?.body.length) {
      body.hasContext = true;
      status = yield* this.parseBody(body, undefined, 0);
    }
    if (status === Status.MaxRecursion) this.options.heuristic('Heuristics.Limits.Exceeded.MaxRecursion');
    if (status === Status.MaxFiles) this.options.heuristic('Heuristics.Limits.Exceeded.MaxFiles');
    // A single message that could not be parsed is not scanned further (cli_mbox fails).
    if (status === Status.Fail || status === Status.MaxRecursion || status === Status.MaxFiles) return;
    yield* this.deferred;
  }

  /** Records an output ClamAV scans at once (yielded) or after parsing (`deferred`). */
  private *save(name: string, data: Uint8Array, immediate: boolean): Generator<MailFile> {
    if (!data.length) return; // empty files are deleted
    const file = { name: sanitiseName(name), data };
    if (immediate) yield file;
    else this.deferred.push(file);
  }

  /**
   * Exports a message to files (messageToFileblob). Earlier passes stay on disk for the directory
   * scan; the result is scanned at once when the caller gives it the scan context (`withContext`)
   * or the export kept the message's. Returns whether there was a result.
   */
  private *saveExport(m: MimeMessage, destroy: boolean, withContext: boolean): Generator<MailFile, boolean> {
    const hadContext = m.hasContext;
    const result = exportMessage(m, destroy);
    const last = result.completed ? result.parts.length - 1 : result.parts.length;
    for (let i = 0; i < last; i++) yield* this.save(result.parts[i]!.name, result.parts[i]!.data, false);
    if (!result.completed) return false;
    const file = result.parts[last]!;
    yield* this.save(file.name, file.data, withContext || (result.keepsContext && hadContext));
    return true;
  }

  /**
   * checkURLs / getHrefs: with the phishing URL check on, ClamAV decodes the part into memory
   * (messageToBlob, which can add encodings to it) and, up to 100 KiB, collects its links with
   * the HTML normaliser for the check, or, finding none, the URLs written in its text.
   */
  private checkUrls(m: MimeMessage): void {
    if (!this.options.phishingScanUrls) return;
    const exported = exportMessage(m, false);
    const checkLinks = this.options.checkLinks;
    const decoded = exported.completed ? exported.parts.at(-1)?.data : undefined;
    if (!checkLinks || !decoded?.length) return;
    if (decoded.length > MAX_LINK_SCAN_BYTES) {
      this.options.debug('Viruses pointed to by URLs not scanned in large message');
      return;
    }
    this.options.debug('getHrefs: calling html_normalise_mem');
    const links = normaliseHtml(decoded, { links: true }).links;
    if (!links) return;
    this.options.debug('getHrefs: html_normalise_mem returned');
    if (!checkLinks(links.length ? links : extractTextUrls(decoded))) this.options.debug('PH:Phishing found');
  }

  /** A uuencoded block met while reading: decoded from the input; false when it has no name. */
  private uudecode(m: MimeMessage, beginLine: string): boolean {
    const file = uudecodeFile(this.input, m, beginLine);
    if (!file) return false;
    if (file.data.length) this.deferred.push(file);
    return true;
  }

  /** Email limits: reported, and the header loop stops, as in ClamAV. */
  private tooMany(count: number, limit: number, name: string, inclusive = false): boolean {
    if (inclusive ? count >= limit : count > limit) {
      this.options.heuristic(`Heuristics.Limits.Exceeded.${name}`);
      return true;
    }
    return false;
  }

  /** parseEmailFile: reads a single message's headers and body from the input. */
  private parseFile(firstLine: string): MimeMessage | undefined {
    const input = this.input;
    const ret = new MimeMessage();
    const filter = new EmptyOptionFilter();
    let inHeader = true;
    let bodyIsEmpty = true;
    let lastWasBlank = false;
    let lastBodyLineWasBlank = false;
    let anyHeadersFound = false;
    let boundary: string | undefined;
    let header = '';
    let headerBytes = 0;
    let headerCount = 0;
    let folds = 0;
    for (let buffer: string | undefined = firstLine; buffer !== undefined; buffer = input.getline()) {
      buffer = chomp(buffer);
      const line = buffer === '' ? null : buffer;
      if (filter.skip(line)) continue;
      if (line !== null) folds = isBlank(line.charCodeAt(0)) ? folds + 1 : 0;
      if (this.tooMany(folds, MAX_LINE_FOLDS, 'EmailLineFoldCnt', true)) break;
      if (lastWasBlank) {
        lastWasBlank = false;
        if (isBoundaryStart(buffer, boundary)) inHeader = false;
      }
      if (inHeader) {
        if (line !== null && isSpace(line.charCodeAt(0)) && stripTrailing(line) === '') {
          // A line of white space inside headers: not their end (RFC 2822), but treated as one
          // by some clients; ClamAV parses what it has and waits for a boundary.
          if (header) {
            if (this.tooMany(++headerCount, MAX_HEADERS, 'EmailHeaders')) break;
            const failed = this.parseHeader(ret, header) < 0;
            header = '';
            if (failed) continue;
          }
          boundary ??= ret.findArgument('boundary');
          if (boundary !== undefined) {
            lastWasBlank = true;
            continue;
          }
        }
        if (line === null && !header) {
          if (!anyHeadersFound) continue; // junk before the headers
          inHeader = false;
          bodyIsEmpty = true;
          continue;
        }
        let lineAdded = true;
        if (!header) {
          if (isBlank(line!.charCodeAt(0))) continue; // continuation of an ignored header
          const name = line!.includes(':') ? field(line!, 0, ':') : undefined;
          if (name === undefined) {
            if (line!.startsWith('From ')) anyHeadersFound = true;
            continue;
          }
          const commandNumber = headerNumber(stripComments(name) ?? name);
          if (commandNumber === -1) {
            if (!anyHeadersFound) anyHeadersFound = usefulHeader(commandNumber, name);
            continue;
          }
          anyHeadersFound = true;
          header = line!;
        } else if (line !== null) header += line;
        else lineAdded = false;
        if (lineAdded) {
          headerBytes += line!.length;
          if (this.tooMany(headerBytes, MAX_HEADER_BYTES, 'EmailHeaderBytes')) break;
        }
        const lookahead = input.peek();
        if (lookahead !== undefined && isBlank(lookahead)) continue; // folded onto the next line
        // Broken headers whose continuation is not indented: `;` at the end or an open quote.
        let needContinue = header.endsWith(';') || (line !== null && hasOddQuotes(header));
        if (!needContinue) {
          if (this.tooMany(++headerCount, MAX_HEADERS, 'EmailHeaders')) break;
          needContinue = this.parseHeader(ret, header) < 0;
        }
        if (needContinue) continue;
        header = '';
      } else if (line !== null && isUuencodeBegin(line)) {
        bodyIsEmpty = false;
        if (!this.uudecode(ret, line)) ret.addString(line);
      } else {
        if (line === null) {
          // Kept in text (phishing signatures count blank lines), collapsed otherwise.
          if (lastBodyLineWasBlank && ret.mimeType !== MimeType.Text) continue;
          lastBodyLineWasBlank = true;
        } else {
          if (bodyIsEmpty) {
            if (isHeaderAfterNewline(line)) continue;
            bodyIsEmpty = false;
          }
          lastBodyLineWasBlank = false;
        }
        ret.addString(line);
      }
    }
    return anyHeadersFound ? ret : undefined;
  }

  /** parseEmailHeaders: a message whose headers and body are lines of `m`; m's body moves over. */
  private parseHeaders(m: MimeMessage): MimeMessage | undefined {
    const ret = new MimeMessage();
    const filter = new EmptyOptionFilter();
    const lines = m.body;
    let inHeader = true;
    let bodyIsEmpty = true;
    let anyHeadersFound = false;
    let fullLine: string | undefined;
    let fullLineLength = 0;
    let folds = 0;
    let headerCount = 0;
    for (let t = 0; t < lines.length; t++) {
      const line = lines[t]!;
      if (filter.skip(line)) continue;
      if (line !== null) folds = isBlank(line.charCodeAt(0)) ? folds + 1 : 0;
      if (this.tooMany(folds, MAX_LINE_FOLDS, 'EmailLineFoldCnt', true)) break;
      if (!inHeader) {
        if (bodyIsEmpty) {
          if (line === null || isHeaderAfterNewline(line)) continue;
          bodyIsEmpty = false;
        }
        ret.moveBodyFrom(m, t);
        break;
      }
      if (line === null) {
        if (!anyHeadersFound) break;
        inHeader = false;
        bodyIsEmpty = true;
        continue;
      }
      if (fullLine === undefined) {
        if (isBlank(line.charCodeAt(0))) continue;
        const name = line.includes(':') ? field(line, 0, ':') : undefined;
        if (name === undefined) {
          if (line.startsWith('From ')) anyHeadersFound = true;
          continue;
        }
        const commandNumber = headerNumber(stripComments(name) ?? name);
        if (commandNumber === -1) {
          if (!anyHeadersFound) anyHeadersFound = usefulHeader(commandNumber, name);
          continue;
        }
        anyHeadersFound = true;
        fullLine = line;
        fullLineLength = line.length + 1;
      } else {
        fullLineLength += line.length + 1;
        fullLine += line;
      }
      if (this.tooMany(fullLineLength, MAX_HEADER_BYTES, 'EmailHeaderBytes')) break;
      if (nextIsFoldedHeader(lines, t)) continue;
      lines[t] = null;
      if (hasOddQuotes(fullLine)) continue;
      fullLine = stripComments(fullLine) ?? fullLine;
      if (this.tooMany(++headerCount, MAX_HEADERS, 'EmailHeaders')) break;
      if (this.parseHeader(ret, fullLine) < 0) continue;
      fullLine = undefined;
    }
    return anyHeadersFound ? ret : undefined;
  }

  /** parseEmailHeader: `Name: value` (or `=` or space as the separator in broken mail). */
  private parseHeader(m: MimeMessage, line: string): number {
    const separator = [':', '=', ' '].find((candidate) => line.includes(candidate));
    if (separator === undefined) return -1;
    const copy = decodeEncodedWords(line) ?? line;
    const tokens = new Tokenizer(copy);
    const name = tokens.next(separator);
    if (name === undefined) return -1;
    const command = stripTrailing(name);
    if (!command) return -1;
    const argument = tokens.next('');
    return argument === undefined ? -1 : this.parseMimeHeader(m, command, argument);
  }

  /** parseMimeHeader: applies Content-Type, Content-Transfer-Encoding or Content-Disposition. */
  private parseMimeHeader(m: MimeMessage, command: string, argument: string): number {
    const commandNumber = headerNumber(stripComments(command) ?? command);
    let value = stripComments(argument) ?? argument;
    switch (commandNumber) {
      case Header.ContentType: {
        if (!value.includes('/')) break; // no subtype: taken as text/plain
        if (argument[0] === '/') {
          m.setMimeType('application');
          m.setMimeSubtype('octet-stream');
        } else {
          let i = 0;
          while (i < value.length && isSpace(value.charCodeAt(i))) i++;
          if (value[i] === '"') i++;
          value = value.slice(i);
          if (value[0] !== '/') this.setContentType(m, value);
        }
        for (let index = 1, count = 0; ; index++) {
          const parameters = field(value, index, ';');
          if (parameters === undefined) break;
          if (this.tooMany(++count, MAX_MIME_ARGUMENTS, 'EmailMIMEArguments', true)) break;
          m.addArguments(parameters);
        }
        break;
      }
      case Header.ContentTransferEncoding:
        m.setEncoding(value);
        break;
      case Header.ContentDisposition: {
        const disposition = field(value, 0, ';');
        if (disposition) {
          m.setDispositionType(disposition);
          m.addArgument(field(value, 1, ';'));
        }
        // A part without a file name still gets one, so that it is saved and scanned.
        if (!m.hasFilename) m.addArgument('filename=unknown');
        break;
      }
    }
    return 0;
  }

  /** `type/subtype`, also in the broken forms `type/subtype type2/subtype2` and quoted types. */
  private setContentType(m: MimeMessage, value: string): void {
    const first = field(value, 0, ';');
    if (!first) return;
    let rest: string | undefined = first;
    while (rest !== undefined) {
      const tokens: Tokenizer = new Tokenizer(rest);
      const set = m.setMimeType(tokens.next('/'));
      let subtype: string | undefined = tokens.next(';');
      if (subtype === undefined) return;
      if (set) {
        subtype = stripTrailing(subtype);
        // ClamAV keeps the index of the last character here, so a one-character subtype is ignored,
        // unless a closing quote was removed (then it keeps the length).
        let significant = subtype.length - 1;
        if (subtype.endsWith('"')) {
          subtype = stripTrailing(subtype.slice(0, -1));
          significant = subtype.length;
        }
        if (significant > 0) m.setMimeSubtype(subtype.includes(' ') ? field(subtype, 0, ' ') : subtype);
      }
      let i = 0;
      while (i < subtype.length && !isSpace(subtype.charCodeAt(i))) i++;
      if (i >= subtype.length || i + 1 >= subtype.length) return;
      rest = subtype.slice(i + 1);
    }
  }

  /** parseEmailBody: acts on a message according to its MIME type. */
  private *parseBody(messageIn: MimeMessage, textIn: TextLines | undefined, level: number): Generator<MailFile, Status> {
    let rc = Status.Ok;
    let aText = textIn;
    let mainMessage: MimeMessage | undefined = messageIn;
    if (level > this.options.maxRecursion) {
      this.options.debug(`parseEmailBody: hit maximum recursion level (${level})`);
      return Status.MaxRecursion;
    }
    if (this.options.maxFiles && this.files >= this.options.maxFiles) return Status.MaxFiles;
    if (mainMessage.body.length) {
      let mimeType = mainMessage.mimeType;
      let mimeSubtype = mainMessage.mimeSubtype;
      const subtype = subtypeNumber(mimeSubtype);
      if (mimeType === MimeType.Text && subtype === Subtype.Plain) {
        mimeType = MimeType.NoMime; // text/plain: no attachments
        mainMessage.setMimeSubtype('');
      } else if (mimeType === MimeType.Message && lowerAscii(mimeSubtype) === 'rfc822-headers') {
        mimeType = MimeType.NoMime;
        mainMessage.setMimeSubtype('');
      }
      switch (mimeType) {
        case MimeType.NoMime:
          aText = addMessageText(aText, mainMessage);
          // Some phishing mails claim text/plain for HTML: ClamAV checks their URLs too.
          this.checkUrls(mainMessage);
          break;
        case MimeType.Text:
          this.checkUrls(mainMessage);
          break;
        case MimeType.Audio:
        case MimeType.Video:
        case MimeType.Image:
          break;
        case MimeType.Multipart: {
          const outcome = yield* this.parseMultipart(mainMessage, messageIn, aText, textIn, mimeSubtype, level);
          if (outcome.done) return outcome.rc;
          mainMessage = outcome.mainMessage;
          aText = outcome.aText;
          mimeSubtype = '';
          break;
        }
        case MimeType.Message: {
          rc = Status.Fail;
          const kind = lowerAscii(mimeSubtype);
          if (kind === 'rfc822' || kind === 'delivery-status') {
            const inner = this.parseHeaders(mainMessage);
            if (inner) {
              inner.hasContext = true;
              if (mainMessage !== messageIn) mainMessage = undefined;
              else mainMessage.reset();
              if (inner.body.length) rc = yield* this.parseBody(inner, undefined, level + 1);
            }
            break;
          }
          if (kind === 'disposition-notification') {
            rc = Status.Ok;
            break;
          }
          if (kind === 'partial') this.options.debug('Partial message received from MUA/MTA - message cannot be scanned');
          else if (kind === 'external-body') this.options.debug('Attempt to send Content-type message/external-body trapped');
          else this.options.debug(`Unsupported message format \`${mimeSubtype}'`);
          return rc;
        }
        default: {
          // application/* and unknown types: the whole body is an attachment.
          const saved = yield* this.saveExport(mainMessage, true, false);
          if (saved) {
            this.files++;
            if (mainMessage !== messageIn) mainMessage = undefined;
            else mainMessage.reset();
          }
        }
      }
    }
    if (aText && !textIn) yield* this.saveBounces(aText.lines);
    if (mainMessage) rc = yield* this.saveRemainingText(mainMessage, messageIn, rc);
    return rc;
  }

  /** The multipart branch of parseEmailBody. `done` when ClamAV returns from inside it. */
  private *parseMultipart(
    mainMessageIn: MimeMessage,
    messageIn: MimeMessage,
    textCollected: TextLines | undefined,
    textIn: TextLines | undefined,
    mimeSubtypeIn: string,
    level: number,
  ): Generator<MailFile, { done: true; rc: Status } | { done: false; mainMessage: MimeMessage | undefined; aText: TextLines | undefined }> {
    let mainMessage: MimeMessage | undefined = mainMessageIn;
    let aText = textCollected;
    let mimeSubtype = mimeSubtypeIn;
    // Without a boundary the message is handled as plain text by the code after the switch.
    const notMultipart = () => ({ done: false as const, mainMessage, aText });
    const boundaryArgument = mainMessageIn.findArgument('boundary');
    if (boundaryArgument === undefined) return notMultipart();
    const boundary = boundaryArgument.replace(/[\r\n]+$/, '');
    if (!mimeSubtype) {
      mimeSubtype = 'alternative';
      mainMessageIn.setMimeSubtype('alternative');
    }
    const lines = mainMessageIn.body;
    let t = 0;
    for (; t < lines.length; t++) {
      const line = lines[t];
      if (line === null || line === undefined) continue;
      if (isBoundaryStart(line, boundary)) break;
      if (mainMessageIn.binhexLine === t) yield* this.exportBinhex(mainMessageIn);
      else if (t + 1 < lines.length && mainMessageIn.encodingLine === t + 1 && mainMessageIn.encoding === Encoding.None) break;
    }
    if (t >= lines.length) return notMultipart();

    let rc = Status.Ok;
    const subtype = subtypeNumber(mimeSubtype);
    const messages: (MimeMessage | undefined)[] = [];
    let inHead = true;
    let haveLine = true;
    for (let part = 0; haveLine; part++) {
      const aMessage = new MimeMessage();
      aMessage.hasContext = true;
      messages[part] = aMessage;
      // Blank lines before a part's headers are skipped (some viruses insert them).
      do t++;
      while (t < lines.length && (lines[t] === null || lines[t] === ''));
      if (t >= lines.length) {
        if (mainMessage?.binhexLine === -1) {
          messages.length = part;
          part--;
        }
        break;
      }
      for (; t < lines.length; t++) {
        const line = lines[t]!;
        if (inHead) {
          if (line === null) {
            const next = lines[t + 1];
            if (next !== undefined && next !== null) {
              // A blank line inside the headers, followed by more headers: not their end.
              if (aMessage.encoding === Encoding.None && aMessage.mimeType === MimeType.Application && next.includes('base64')) {
                aMessage.setEncoding('base64');
                continue;
              }
              if (next.startsWith('Content') || next.startsWith('filename=')) continue;
            }
            inHead = false;
            continue;
          }
          if (isSpace(line.charCodeAt(0))) {
            // A part starting with a continuation line: keep its arguments, assume an attachment.
            aMessage.addArgument(line);
            if (aMessage.mimeType === MimeType.NoMime) aMessage.setMimeType('application');
            continue;
          }
          if (line.length > RFC2821_LENGTH) continue;
          let fullLine = stripComments(line) ?? line;
          while (nextIsFoldedHeader(lines, t)) {
            const data = lines[++t]!;
            if (data.length === 1) {
              inHead = false; // the blank line ending the headers holds a space
              break;
            }
            fullLine += data;
          }
          this.parseHeader(aMessage, fullLine);
        } else if (isBoundaryEnd(line, boundary)) {
          break;
        } else if (isBoundaryStart(line, boundary)) {
          inHead = true;
          break;
        } else aMessage.addLine(line);
      }
      haveLine = t < lines.length;
      switch (subtype) {
        case Subtype.Mixed:
        case Subtype.Alternative:
        case Subtype.Report:
        case Subtype.Digest:
        case Subtype.AppleDouble:
        case Subtype.Knowbot:
        case -1: {
          // These parts are all handled the same way, so each is dealt with at once.
          const oldRc = rc;
          const result: PartOutcome = yield* this.doMultipart(mainMessage, messages, part, rc, aText, level);
          mainMessage = result.mainMessage;
          rc = result.rc;
          if (rc === Status.OkAttachmentsNotSaved && oldRc === Status.Ok) rc = Status.Ok;
          messages.length = part;
          part--;
          break;
        }
        case Subtype.Related:
        case Subtype.Encrypted:
        case Subtype.Signed:
        case Subtype.Parallel:
          break;
        default:
          messages.length = part;
          part--;
      }
    }
    const partCount = messages.length;
    if (partCount >= MAX_MIME_PARTS) {
      this.options.heuristic('Heuristics.Limits.Exceeded.EmailMIMEPartsPerMessage');
      return { done: false, mainMessage, aText };
    }
    if (subtype === Subtype.Knowbot || subtype === -1) mimeSubtype = 'mixed';
    if (mainMessage && mainMessage !== messageIn) mainMessage = undefined;
    if (partCount === 0 && !aText) {
      return { done: true, rc: rc === Status.MaxRecursion ? Status.MaxRecursion : Status.OkAttachmentsNotSaved };
    }
    const kind = subtypeNumber(mimeSubtype);
    if (kind === Subtype.Related) {
      // The HTML part (or a nested multipart) is parsed first; then all parts as for mixed,
      // because broken mail says related where it means alternative.
      let htmlPart = textPart(messages);
      if (htmlPart >= 0) {
        if (messages[htmlPart]!.body.length) aText = addMessageText(aText, messages[htmlPart]!);
      } else {
        htmlPart = messages.findIndex((message) => message?.mimeType === MimeType.Multipart);
      }
      if (htmlPart !== -1) {
        rc = yield* this.parseBody(messages[htmlPart]!, aText, level + 1);
        if (rc === Status.Ok) messages[htmlPart] = undefined;
      }
    }
    switch (kind) {
      case Subtype.Related:
      case Subtype.Digest:
      case Subtype.Alternative:
      case Subtype.Report:
      case Subtype.Encrypted:
      case Subtype.Mixed:
      case Subtype.AppleDouble:
        if (aText) mainMessage = undefined;
        for (let i = 0; i < partCount; i++) {
          const result: PartOutcome = yield* this.doMultipart(mainMessage, messages, i, rc, aText, level + 1);
          mainMessage = result.mainMessage;
          rc = result.rc;
          if (rc === Status.MaxRecursion) break;
          if (rc === Status.OkAttachmentsNotSaved) rc = Status.Ok;
        }
        break;
      case Subtype.Signed:
      case Subtype.Parallel: {
        let part = textPart(messages);
        if (part === -1) part = 0;
        const signed = messages[part];
        rc = signed ? yield* this.parseBody(signed, aText, level + 1) : Status.Ok;
        break;
      }
      default:
        rc = Status.Format;
    }
    if (aText && !textIn) {
      const out = new GrowableBytes(1024);
      appendLines(out, aText.lines);
      yield* this.save('textpart', out.finish(), false);
      this.files++;
    }
    return { done: true, rc };
  }

  /** do_multipart: one part of a multipart/mixed-like message. */
  private *doMultipart(
    mainMessageIn: MimeMessage | undefined,
    messages: (MimeMessage | undefined)[],
    index: number,
    rc: Status,
    aText: TextLines | undefined,
    level: number,
  ): Generator<MailFile, PartOutcome> {
    let mainMessage = mainMessageIn;
    const aMessage = messages[index];
    if (!aMessage || rc !== Status.Ok) return { mainMessage, rc };
    let countsAsFile = true;
    switch (aMessage.mimeType) {
      case MimeType.Application:
      case MimeType.Audio:
      case MimeType.Image:
      case MimeType.Video:
        break;
      case MimeType.NoMime:
        if (mainMessage) {
          if (aMessage.binhexLine !== -1) yield* this.exportBinhex(mainMessage);
          mainMessage = undefined;
        } else if (aMessage.binhexLine !== -1) {
          yield* this.exportBinhex(aMessage);
          aMessage.reset();
        }
        countsAsFile = false;
        break;
      case MimeType.Text: {
        const disposition = aMessage.dispositionType;
        if (lowerAscii(disposition) === 'attachment') break;
        if (disposition === '' || lowerAscii(disposition) === 'inline') {
          mainMessage = undefined;
          if (subtypeNumber(aMessage.mimeSubtype) === Subtype.Plain && aMessage.encoding === Encoding.None) {
            // A plain text part is saved like an attachment so that it is decoded and scanned.
            if (!aMessage.hasFilename) countsAsFile = false;
          } else {
            this.checkUrls(aMessage);
            aMessage.addArgument('filename=mixedtextportion');
          }
          break;
        }
        this.options.debug(`Text type ${disposition} is not supported`);
        return { mainMessage, rc };
      }
      case MimeType.Message: {
        const encoding = aMessage.encoding;
        const unencoded = encoding === Encoding.None || encoding === Encoding.EightBit || encoding === Encoding.Binary;
        if (!(unencoded && aMessage.encodingLine === -1)) yield* this.saveTextPart(aMessage);
        messages[index] = undefined;
        return { mainMessage, rc };
      }
      case MimeType.Multipart: {
        const nestedRc = yield* this.parseBody(aMessage, aText, level + 1);
        messages[index] = undefined;
        return { mainMessage, rc: nestedRc };
      }
      default:
        break;
    }
    const saved = yield* this.saveExport(aMessage, true, true);
    if (saved && countsAsFile) this.files++;
    messages[index] = undefined;
    return { mainMessage, rc };
  }

  /** exportBinhexMessage: the BinHex text saved as a file, for the BinHex decoder to find. */
  private *exportBinhex(m: MimeMessage): Generator<MailFile> {
    if (m.encoding === Encoding.None) m.setEncoding('x-binhex');
    if (yield* this.saveExport(m, false, false)) this.files++;
  }

  /** saveTextPart: the message as a file named `textportion`. */
  private *saveTextPart(m: MimeMessage): Generator<MailFile, boolean> {
    m.addArgument('filename=textportion');
    const saved = yield* this.saveExport(m, true, false);
    if (saved) this.files++;
    return saved;
  }

  /** The end of parseEmailBody: bounces without headers, or the message's text portion. */
  private *saveRemainingText(mainMessage: MimeMessage, messageIn: MimeMessage, rc: Status): Generator<MailFile, Status> {
    const lines = mainMessage.body;
    if (lines.length && mainMessage.encodingLine !== -1 && mainMessage.bounceLine !== -1) {
      yield* this.exportBounce(lines, mainMessage.bounceLine);
      return Status.Ok;
    }
    let saveIt: boolean;
    if (mainMessage.mimeType === MimeType.Message) saveIt = mainMessage.encodingLine !== -1;
    else if (lines.length && mainMessage.encodingLine !== -1) {
      // Some bounces include the message body without its headers.
      const out = new GrowableBytes(1024);
      out.append(stringBytes(BOUNCE_PREFIX));
      appendLines(out, lines, mainMessage.encodingLine);
      lines.length = mainMessage.encodingLine;
      yield* this.save('bounce', out.finish(), false);
      this.files++;
      saveIt = false;
    } else saveIt = true;
    if (saveIt) {
      yield* this.saveTextPart(mainMessage);
      if (mainMessage === messageIn) mainMessage.reset();
    }
    return rc;
  }

  /** exportBounceMessage: from the last From/Received header before the first encoded part. */
  private *exportBounce(lines: Line[], start: number): Generator<MailFile> {
    let from = start;
    let found = false;
    for (let t = start; t < lines.length; t++) {
      const text = lines[t];
      if (text === null || text === undefined) continue;
      const name = field(text, 0, ':');
      if (name === undefined) continue;
      const commandNumber = headerNumber(name);
      if (commandNumber === Header.ContentTransferEncoding) {
        if (!text.includes('7bit') && !text.includes('8bit')) {
          found = true;
          break;
        }
        continue;
      }
      if (commandNumber === Header.ContentDisposition) {
        found = true;
        break;
      }
      if (commandNumber === Header.ContentType) {
        found = !text.includes('text/plain');
        break;
      }
      if (lowerAscii(name) === 'from' || lowerAscii(name) === 'received') from = t;
    }
    if (!found) return;
    const out = new GrowableBytes(1024);
    appendLines(out, lines, from);
    yield* this.save('bounce', out.finish(), false);
    this.files++;
  }

  /** Bounced messages in the plain text of a message, saved so that they get parsed as mail. */
  private *saveBounces(lines: Line[]): Generator<MailFile> {
    let definitelyBounce = false;
    for (let t = 0; t < lines.length; t++) {
      const line = lines[t];
      if (line === null || line === undefined) continue;
      if (definitelyBounce) definitelyBounce = false;
      else if (!isBounceStart(line)) continue;
      let look = t + 1;
      if (look >= lines.length) break; // a single line is not worth saving
      if (isBounceStart(lines[look] ?? null)) {
        definitelyBounce = true;
        continue;
      }
      for (; look < lines.length; look++) {
        const l = lines[look]!;
        if (l === null) break;
        if (startsWithIgnoreCase(l, 'Content-Type:')) {
          const lower = lowerAscii(l);
          if (lower.includes('text/plain') || (!this.options.phishingScanUrls && lower.includes('text/html'))) continue;
          break;
        }
      }
      if (look < lines.length && lines[look] === null) {
        t = look; // not MIME encoded: nothing to decode in this bounce
        continue;
      }
      for (; look < lines.length; look++) {
        const l = lines[look];
        if (l && startsWithIgnoreCase(l, 'Content-Type:') && !l.includes('multipart/') && !l.includes('message/rfc822') && !l.includes('text/plain')) break;
      }
      if (look >= lines.length) break; // plain text, which must be clean
      const out = new GrowableBytes(1024);
      out.append(stringBytes(BOUNCE_PREFIX));
      let inHeader = true;
      let top = -1;
      for (;;) {
        const l = lines[t]!;
        if (l === null) {
          if (inHeader) {
            inHeader = false;
            top = t;
          }
        } else out.append(stringBytes(l));
        out.push(0x0a);
        if (t + 1 >= lines.length) break;
        t++;
        const next = lines[t]!;
        if (!inHeader && next !== null && isBounceStart(next)) {
          definitelyBounce = true;
          break;
        }
      }
      yield* this.save('bounce', out.finish(), true);
      this.files++;
      if (top !== -1) t = top;
    }
  }
}

/** textAddMessage: the message's lines (decoded when it has an encoding) added to the text. */
function addMessageText(text: TextLines | undefined, m: MimeMessage): TextLines | undefined {
  const lines = m.encoding === Encoding.None ? m.body.slice() : messageToText(m);
  if (!lines || (!text && !lines.length)) return text;
  if (!text) return { lines };
  text.lines.push(...lines);
  return text;
}

/** getTextPart: the HTML part if any, else the last text part, else -1. */
function textPart(messages: readonly (MimeMessage | undefined)[]): number {
  let found = -1;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (m?.mimeType !== MimeType.Text) continue;
    if (lowerAscii(m.mimeSubtype) === 'html') return i;
    found = i;
  }
  return found;
}

/** isBounceStart: a mbox "From " line with a date, or a line typed as mail. */
function isBounceStart(line: string | null): boolean {
  if (!line || line.length < 6 || line.length >= 72) return false;
  if (line.startsWith('From ') || line.startsWith('>From ')) {
    let spaces = 0;
    let digits = 0;
    for (let i = 4; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 0x20) spaces++;
      else if (c >= 0x30 && c <= 0x39) digits++;
    }
    return spaces >= 6 && digits >= 11;
  }
  return isMailMagic(line);
}

/** Parses a mail file or mailbox, yielding the files ClamAV would extract and scan. */
export function parseMail(data: Uint8Array, options: MailParserOptions): Generator<MailFile> {
  return new MailParser(new MailInput(data), options).parse();
}

/**
 * uudecodeFile: the lines after a `begin NNN name` line, read from the input up to `end`, an empty
 * line or the first line that does not decode; undefined when the begin line names no file.
 */
function uudecodeFile(input: MailInput, m: MimeMessage, beginLine: string): MailFile | undefined {
  const name = field(beginLine, 2, ' ');
  if (name === undefined) return undefined;
  const out = new GrowableBytes(1024);
  const buffer = new DecodeBuffer();
  for (let raw = input.gets(); raw !== undefined; raw = input.gets()) {
    const line = chomp(raw);
    if (lowerAscii(line) === 'end' || line === '') break;
    const scratch = buffer.forLine(line.length);
    const length = decodeLine(m, Encoding.Uuencode, line, scratch);
    if (length === undefined || length > 62 || length === 0) break;
    out.append(scratch, 0, length);
  }
  return { name: sanitiseName(name), data: out.finish() };
}

/**
 * A uuencoded file (CL_TYPE_UUENCODED), decoded from its first line, which must be a `begin`
 * line. ClamAV reads the name with the line end, which then shows in the sanitised name.
 */
export function decodeUuencodedFile(data: Uint8Array): MailFile | undefined {
  const input = new MailInput(data);
  const first = input.gets();
  if (first === undefined || !isUuencodeBegin(first)) return undefined;
  return uudecodeFile(input, new MimeMessage(), first);
}
