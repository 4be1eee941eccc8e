import type { ExtractedObject, ExtractionContext, FormatHandler } from './handler.js';
import { guarded } from './compression/guard.js';
import { GrowableBytes } from '../util/growable.js';
import { binaryString, readInt32LE, readUint16LE, readUint32LE } from './documents/bytes.js';
import { sanitiseName } from './documents/mime-decode.js';

/**
 * TNEF (`winmail.dat`, libclamav's tnef.c): attributes of message and attachment level follow
 * the signature; attachment titles name the files and attachment data fills them.
 *
 * As in ClamAV, the attachment being built is only closed by a message-level attribute (so
 * consecutive attachments without one are concatenated), data before a title is kept in memory
 * until the title arrives and is lost if none does (except for the last file, named `tnef`),
 * checksums are not verified, and nothing is scanned at all when the stream turns out corrupt
 * (a negative or out-of-range length, or an unknown level).
 */

const SIGNATURE = 0x223e9f78;
const LEVEL_MESSAGE = 1;
const LEVEL_ATTACHMENT = 2;
const ATTACH_DATA = 0x800f;
const ATTACH_TITLE = 0x8010;

interface TnefFile {
  name?: string;
  data: GrowableBytes;
}

/** The files of a TNEF stream, or undefined when ClamAV would reject the stream. */
export function parseTnef(data: Uint8Array, debug: (message: string) => void): { name: string; data: Uint8Array }[] | undefined {
  if (data.length < 6) return [];
  if (readUint32LE(data, 0) !== SIGNATURE) return undefined;
  const files: { name: string; data: Uint8Array }[] = [];
  let current: TnefFile | undefined;
  const close = (file: TnefFile | undefined) => {
    // A file never named was never written out, so it is lost.
    if (file?.name !== undefined && file.data.length) files.push({ name: file.name, data: file.data.finish() });
  };
  let pos = 6;
  for (;;) {
    if (pos >= data.length) break;
    const level = data[pos++]!;
    if (level === 0) break;
    if (pos + 4 > data.length) {
      // A trailing line feed (broken quoted-printable in the carrying mail) ends the stream.
      if (!((level === 0x0a || level === 0x0d) && pos === data.length)) debug('cli_tnef: file truncated, returning CLEAN');
      break;
    }
    const tag = readUint16LE(data, pos);
    pos += 4;
    if (pos + 4 > data.length) {
      debug('cli_tnef: file truncated, returning CLEAN');
      break;
    }
    const length = readInt32LE(data, pos);
    pos += 4;
    if (length === 0) continue;
    if (length < 0) return undefined;
    const start = pos;
    if (level === LEVEL_MESSAGE) {
      close(current);
      current = { data: new GrowableBytes(1024) };
    } else if (level === LEVEL_ATTACHMENT) {
      current ??= { data: new GrowableBytes(1024) };
      if (tag === ATTACH_TITLE) {
        if (start + length > data.length) return undefined;
        const title = binaryString(data, start, start + length);
        const nul = title.indexOf('\0');
        current.name ??= sanitiseName(nul === -1 ? title : title.slice(0, nul));
      } else if (tag === ATTACH_DATA) {
        current.data.append(data, start, Math.min(data.length, start + length));
      }
    } else {
      debug(`TNEF - unknown level ${level} tag 0x${tag.toString(16)}`);
      return undefined;
    }
    if (start + length > data.length) return undefined; // "Incorrect length field"
    pos = start + length + 2; // the attribute's checksum is not checked
  }
  if (current) {
    current.name ??= 'tnef';
    close(current);
  }
  return files;
}

export const tnefHandler: FormatHandler = {
  name: 'tnef',
  fileTypes: ['CL_TYPE_TNEF'],
  scanSwitch: 'mail',
  extract: (data, ctx) => guarded('cli_tnef', extractTnef(data, ctx), ctx),
};

function* extractTnef(data: Uint8Array, ctx: ExtractionContext): Generator<ExtractedObject> {
  const files = parseTnef(data, (message) => ctx.debug(message));
  if (!files) {
    ctx.debug('cli_tnef: corrupt stream, nothing scanned');
    return;
  }
  for (const file of files) yield { data: file.data, name: file.name };
}
