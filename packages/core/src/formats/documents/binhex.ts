/**
 * BinHex 4.0 decoding as libclamav's cli_binhex does it: text from the first line break on, the
 * stream starting at `:`, 6-bit characters of the BinHex alphabet (line breaks ignored), 0x90
 * run-length expansion, then the header (name, type, creator, flags, fork lengths, CRC), the
 * data fork, its CRC and the resource fork. CRCs are not checked.
 *
 * A fork is returned when it was decoded completely, or partly when the input ended inside it;
 * an invalid character inside a fork stops decoding and loses that fork, as in ClamAV. The
 * resource fork is skipped when it announces fewer than 5 bytes. A data fork larger than the
 * allowed object size is not extracted, a larger resource fork is skipped (ClamAV's size checks).
 */

import { GrowableBytes } from '../../util/growable.js';

const DECODE = new Uint8Array(128).fill(0xff);
'!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr'.split('').forEach((c, i) => (DECODE[c.charCodeAt(0)] = i));

/** ClamAV decodes into an 8 KiB buffer and handles the header when it is flushed. */
const FLUSH_SIZE = 8192 - 256;

export interface BinhexForks {
  readonly data?: Uint8Array;
  readonly resource?: Uint8Array;
  /** A fork length above the limit stopped decoding (ClamAV's limits check). */
  readonly exceeded: boolean;
}

const enum Phase {
  Banner,
  Header,
  Data,
  Limbo1,
  Limbo2,
  Resource,
  Done,
}

export function decodeBinhex(input: Uint8Array, maxSize: number): BinhexForks {
  const decoded = new Uint8Array(8192);
  let count = 0;
  let phase = Phase.Banner;
  let inData = false;
  let inRun = false;
  let spare = 0;
  let lastByte = 0;
  let bits = 0;
  let dataLength = 0;
  let resourceLength = 0;
  let dataFork: GrowableBytes | undefined;
  let resourceFork: GrowableBytes | undefined;
  let dataDone = false;
  let resourceDone = false;
  let exceeded = false;
  const take = (fork: GrowableBytes, want: number): number => {
    const n = Math.min(count, want);
    fork.append(decoded, 0, n);
    decoded.copyWithin(0, n, count);
    count -= n;
    return n;
  };
  let at = 0;
  for (;;) {
    const atEnd = at >= input.length;
    if (atEnd || count >= FLUSH_SIZE) {
      if (phase === Phase.Header) {
        const nameLength = decoded[0]!;
        const headerLength = 1 + nameLength + 1 + 4 + 4 + 2;
        const end = headerLength + 10;
        if (!count || count <= end) break; // empty, or too short for the header
        const view = new DataView(decoded.buffer);
        dataLength = view.getUint32(headerLength);
        resourceLength = view.getUint32(headerLength + 4);
        if (dataLength > maxSize) {
          exceeded = true;
          break;
        }
        if (resourceLength > maxSize) {
          exceeded = true;
          resourceLength = 0;
        }
        decoded.copyWithin(0, end, count);
        count -= end;
        phase = Phase.Data;
        dataFork = new GrowableBytes(8192);
      }
      if (count && phase === Phase.Data) {
        dataLength -= take(dataFork!, dataLength);
        if (!dataLength) {
          phase = Phase.Limbo1;
          dataDone = true;
        }
      }
      if (count && phase === Phase.Limbo1) {
        // The data fork's 2-byte CRC, possibly split over two flushes.
        if (count > 1) {
          if (resourceLength < 5) break;
          decoded.copyWithin(0, 2, count);
          count -= 2;
          phase = Phase.Resource;
          resourceFork = new GrowableBytes(1024);
        } else {
          count--;
          phase = Phase.Limbo2;
        }
      }
      if (count && phase === Phase.Limbo2) {
        if (resourceLength < 5) break;
        phase = Phase.Resource;
        resourceFork = new GrowableBytes(1024);
        decoded.copyWithin(0, 1, count);
        count--;
      }
      if (count && phase === Phase.Resource) {
        resourceLength -= take(resourceFork!, resourceLength);
        if (!resourceLength) {
          phase = Phase.Done;
          resourceDone = true;
          break;
        }
      }
      if (atEnd) {
        // Partly decoded forks are scanned when the input ends inside them.
        if (phase === Phase.Data) dataDone = true;
        if (phase === Phase.Resource) resourceDone = true;
        break;
      }
    }
    const b = input[at++]!;
    if (b === 0x0d || b === 0x0a) {
      inData = true;
      continue;
    }
    if (!inData) continue;
    if (phase === Phase.Banner) {
      if (b !== 0x3a) break; // missing stream start identifier
      phase = Phase.Header;
    }
    if (b === 0x3a) continue;
    const value = b > 0x7f ? 0xff : DECODE[b]!;
    if (value === 0xff) break; // invalid character
    let byte: number;
    switch (bits++ & 3) {
      case 0:
        spare = (value << 2) & 0xff;
        continue;
      case 1:
        byte = spare | (value >> 4);
        spare = (value << 4) & 0xff;
        break;
      case 2:
        byte = spare | (value >> 2);
        spare = (value << 6) & 0xff;
        break;
      default:
        byte = spare | value;
    }
    if (inRun) {
      inRun = false;
      if (!byte) byte = 0x90;
      else {
        // A run repeats the previous byte; its first occurrence was already written.
        while (--byte) decoded[count++] = lastByte;
        continue;
      }
    } else if (byte === 0x90) {
      inRun = true;
      continue;
    }
    decoded[count++] = byte;
    lastByte = byte;
  }
  return {
    data: dataDone && dataFork ? dataFork.finish() : undefined,
    resource: resourceDone && resourceFork ? resourceFork.finish() : undefined,
    exceeded,
  };
}
