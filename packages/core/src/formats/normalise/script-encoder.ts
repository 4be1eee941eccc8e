/**
 * Decoding of Microsoft Script Encoder output (`#@~^XXXXXX==…^#~@`, "JScript.Encode" and
 * "VBScript.Encode"), as libclamav's htmlnorm.c decodes it: in place inside the chunk being
 * normalised, so that the HTML and JavaScript normalisers see the decoded script.
 *
 * Each 7-bit character goes through one of three substitution tables, chosen by a fixed
 * 64-entry cycle; `@` escapes a few characters; bytes from 0x80 up are copied as two-byte
 * sequences. The 8 characters after the start marker encode the length of the encoded text.
 */
import { binaryString } from '../documents/bytes.js';
import { CHUNK_BUFFER, HtmlChunkReader } from './html-chunks.js';

const TABLES = [
  '000102030405060708570a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2e477a56426a2f26494134325b7672433839704568714f09624423753c7e3e5eff774a615d224b6f4e3b4c50672a7d74542b2d2c306e6b66352521644d52633f7b7829287359337f6d55537c3a5f65465831696c5a48275c3d24793760512036',
  '0001020304050607087b0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f323021295b38333d583a3565395c5673664e456b6259785e7d4a6d713c603e53ff422748727531374d5222546a47642d207f2e4c5d7e6c6f797443267625242b28234134092a443f773b55696163506751494f46687c36706e7a2f5f4b5a2c57',
  '0001020304050607086e0a0b0c060e0f101112131415161718191a1b1c1d1e1f2d755260715e495c627d2936207c7a7f6b63332b68516676316454433c3a3e7eff452c2a7427374479592f6f26726a397b3f387767534734785d30235a5b6c485570692e4c21244e5009567335614b583b57226d4d2528464a32413d5f4f4265',
].map((hex) => Uint8Array.from(Buffer.from(hex, 'hex')));

/** Which table decodes the n-th character (mod 64). */
const TABLE_ORDER = Uint8Array.from('0210212112120121012100211201211200121210100210120121002110021012', (d) => Number(d));

/** `@x` escapes: the byte after `@` selects the decoded character. */
const ESCAPES = new Map([
  [0x21, 0x3c], // @! → <
  [0x23, 0x0d], // @# → CR
  [0x24, 0x40], // @$ → @
  [0x26, 0x0a], // @& → LF
  [0x2a, 0x3e], // @* → >
]);

/** Base64 digit values, -1 for other bytes (ClamAV's signed table; its arithmetic relies on -1). */
const BASE64 = new Int8Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => (BASE64[c.charCodeAt(0)] = i));

export interface ScriptEncodedState {
  /** Encoded characters still expected. */
  length: number;
  sum: number;
  tablePos: number;
}

/**
 * The length announced by the 6 base64 characters at `at`, computed with ClamAV's (odd but
 * deterministic) mixing of digits, including how it treats invalid characters.
 */
export function scriptEncodedLength(bytes: Uint8Array, at: number): number {
  const d = (i: number) => BASE64[bytes[at + i]!]!;
  const nonNegative = (v: number) => (v < 0 ? 0 : v);
  let length = nonNegative(d(0)) * 4;
  length += d(1) >> 4;
  length += (d(1) & 0x0f) * 2 ** 12;
  length += nonNegative(d(2) >> 2) * 2 ** 8;
  length += (d(2) & 0x03) * 2 ** 22;
  length += nonNegative(d(3)) * 2 ** 16;
  length += nonNegative(d(4)) * 4 * 2 ** 24;
  length += nonNegative(d(5) >> 4) * 2 ** 24;
  return length >>> 0 === length ? length : Number(BigInt.asUintN(32, BigInt(length)));
}

/**
 * Decodes in place from `ptr` up to the end of the NUL-terminated text (or until the announced
 * length is used up). When the encoded block ends, its 12-byte trailer (checksum and `^#~@`) is
 * skipped and the rest of the text moves up behind the decoded bytes. Returns the offset of the
 * NUL that now ends the text.
 */
export function decodeScriptEncoded(line: Uint8Array, ptr: number, state: ScriptEncodedState): number {
  let src = ptr;
  let dst = ptr;
  while (state.length > 0 && line[src]) {
    const c = line[src]!;
    if (c === 0x0a || c === 0x0d) {
      src++;
      continue;
    }
    if (c < 0x80) {
      let value = TABLES[TABLE_ORDER[state.tablePos]!]![c]!;
      if (value === 0xff) {
        // `@` escape: the next byte says which character it stands for.
        src++;
        state.length--;
        const escaped = line[src]!;
        if (escaped === 0) src--;
        else value = ESCAPES.get(escaped) ?? value;
      }
      state.sum = (state.sum + value) >>> 0;
      line[dst++] = value;
      state.tablePos = (state.tablePos + 1) % 64;
    } else {
      line[dst++] = line[src++]!;
      line[dst++] = line[src]!;
      if (!line[src]) {
        dst--;
        break;
      }
    }
    src++;
    state.length = (state.length - 1) >>> 0;
  }
  if (state.length) {
    line[dst] = 0;
    return dst;
  }
  const textEnd = line.indexOf(0, src);
  if (textEnd - src >= 12) src += 12; // checksum (8) and the `^#~@` end marker (4)
  const restEnd = line.indexOf(0, src);
  line.copyWithin(dst, src, restEnd + 1);
  return dst + (restEnd - src);
}

/**
 * Decodes a whole Script Encoder file (ClamAV's CL_TYPE_SCRENC handling): the first encoded
 * block is decoded and wrapped in `<script>…</script>`. Undefined when there is no block.
 */
export function decodeScriptEncodedFile(data: Uint8Array): Uint8Array | undefined {
  const reader = new HtmlChunkReader(data);
  const line = new Uint8Array(CHUNK_BUFFER);
  let length = reader.read(line);
  let ptr = -1;
  for (; length !== -1; length = reader.read(line)) {
    const at = binaryString(line, 0, length).indexOf('#@~^');
    if (at !== -1) {
      ptr = at + 4;
      break;
    }
  }
  if (length === -1) return undefined;
  // The 8 length characters may continue in the following chunks.
  const lengthBytes = new Uint8Array(8);
  for (let count = 0; count < 8; count++) {
    if (!line[ptr]) {
      if (reader.read(line) === -1) return undefined;
      ptr = 0;
    }
    lengthBytes[count] = line[ptr++]!;
  }
  const state: ScriptEncodedState = { length: scriptEncodedLength(lengthBytes, 0), sum: 0, tablePos: 0 };
  const parts: string[] = ['<script>'];
  for (let more = true; more && state.length; ) {
    const end = decodeScriptEncoded(line, ptr, state);
    parts.push(binaryString(line, ptr, end));
    ptr = 0;
    more = state.length !== 0 && reader.read(line) !== -1;
  }
  parts.push('</script>');
  return Buffer.from(parts.join(''), 'latin1');
}
