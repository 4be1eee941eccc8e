/**
 * PDF standard security handler as libclamav's pdf.c uses it: ClamAV tries the empty owner
 * password (revision 6) and the empty user password (revisions 2–6); when one fits, the document
 * is "decryptable" and its strings and streams are decrypted before the filters run (RC4 for
 * /V2, AES-128-CBC for /AESV2, AES-256-CBC for /AESV3). Anything else leaves the document
 * encrypted (and reported as Heuristics.Encrypted.PDF).
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { ascii } from './bytes.js';
import { dictString, dictValue, memstr, parseLong } from './pdf-syntax.js';

export type EncMethod = 'unknown' | 'none' | 'identity' | 'v2' | 'aesv2' | 'aesv3';

/** What pdf_handle_enc leaves behind. */
export interface PdfSecurity {
  /** The document key; ClamAV keeps it even when the password check failed (revisions 2–4). */
  readonly key?: Uint8Array;
  /** An empty password opened the document. */
  readonly decryptable: boolean;
  readonly stream: EncMethod;
  readonly string: EncMethod;
  readonly embeddedFile: EncMethod;
  /** The /CF dictionary (crypt filters), for /Crypt filters naming one. */
  readonly cryptFilters?: { readonly buf: Uint8Array; readonly pos: number; readonly len: number };
}

/** The 32-byte password padding of the PDF specification (an empty password is all padding). */
const PADDING = Uint8Array.from([
  0x28, 0xbf, 0x4e, 0x5e, 0x4e, 0x75, 0x8a, 0x41, 0x64, 0x00, 0x4e, 0x56, 0xff, 0xfa, 0x01, 0x08, 0x2e, 0x2e, 0x00, 0xb6,
  0xd0, 0x68, 0x3e, 0x80, 0x2f, 0x0c, 0xa9, 0xfe, 0x64, 0x53, 0x69, 0x7a,
]);

const KEY = {
  standard: ascii('/Standard'),
  length: ascii('/Length'),
  r: ascii('/R'),
  p: ascii('/P'),
  encryptMetadata: ascii('/EncryptMetadata'),
  stmF: ascii('/StmF'),
  strF: ascii('/StrF'),
  eff: ascii('/EFF'),
  cf: ascii('/CF'),
  cfm: ascii('/CFM'),
  o: ascii('/O'),
  u: ascii('/U'),
  oe: ascii('/OE'),
  ue: ascii('/UE'),
};

const hash = (algorithm: string, ...parts: Uint8Array[]): Uint8Array => {
  const h = createHash(algorithm);
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
};

/** RC4 (not in Node's OpenSSL 3 default provider). */
export function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  const s = new Uint8Array(256);
  for (let i = 0; i < 256; i++) s[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
  }
  const out = new Uint8Array(data.length);
  for (let k = 0, i = 0, j = 0; k < data.length; k++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
    out[k] = data[k]! ^ s[(s[i]! + s[j]!) & 0xff]!;
  }
  return out;
}

const aesName = (key: Uint8Array): string | undefined =>
  key.length === 16 ? 'aes-128-cbc' : key.length === 24 ? 'aes-192-cbc' : key.length === 32 ? 'aes-256-cbc' : undefined;

/**
 * aes_256cbc_decrypt: CBC over the whole 16-byte blocks (after a leading IV when `hasIv`), then
 * ClamAV's padding rule (a bad pad keeps every decrypted block). Input under 32 bytes is not
 * decrypted: ClamAV then hands back zeros of the input's length.
 */
function aesDecrypt(input: Uint8Array, key: Uint8Array, hasIv: boolean): Uint8Array {
  const name = aesName(key);
  if (!name || input.length < 32) return new Uint8Array(input.length);
  const iv = hasIv ? input.subarray(0, 16) : new Uint8Array(16);
  const body = hasIv ? input.subarray(16) : input;
  const blocks = body.subarray(0, body.length - (body.length % 16));
  const decipher = createDecipheriv(name, key, iv).setAutoPadding(false);
  const plain = new Uint8Array(Buffer.concat([decipher.update(blocks), decipher.final()]));
  if (!hasIv) return plain;
  const pad = plain[plain.length - 1] ?? 0;
  if (pad > 0x10) return plain;
  for (let i = 1; i < pad; i++) if (plain[plain.length - pad + i] !== pad) return plain;
  return plain.subarray(0, plain.length - pad);
}

/** Algorithm 2.B of ISO 32000-2 (compute_hash_r6), for the empty password. */
function hashR6(salt: Uint8Array, userKey?: Uint8Array): Uint8Array {
  let block = hash('sha256', salt, userKey ?? new Uint8Array(0));
  for (let round = 0; ; round++) {
    const unit = Buffer.concat([block, userKey ?? new Uint8Array(0)]);
    const repeated = Buffer.concat(Array.from({ length: 64 }, () => unit));
    const cipher = createCipheriv('aes-128-cbc', block.subarray(0, 16), block.subarray(16, 32)).setAutoPadding(false);
    const encrypted = Buffer.concat([cipher.update(repeated), cipher.final()]);
    let sum = 0;
    for (let j = 0; j < 16; j++) sum += encrypted[j]!;
    block = hash(['sha256', 'sha384', 'sha512'][sum % 3]!, encrypted);
    if (round + 1 >= 64 && encrypted[encrypted.length - 1]! + 32 <= round + 1) break;
  }
  return block.subarray(0, 32);
}

const equal = (a: Uint8Array, b: Uint8Array, length: number): boolean => {
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return false;
  return true;
};

interface EncryptDict {
  readonly buf: Uint8Array;
  readonly pos: number;
  readonly len: number;
}

/** pdf_readval: a name value, without its slash, up to the next name or `>>`. */
function nameValue(buf: Uint8Array, pos: number, len: number, key: Uint8Array): string | undefined {
  const value = dictValue(buf, pos, len, key);
  if (!value || value.len <= 0) return undefined;
  let q = value.pos;
  let left = value.len;
  while (left > 0 && buf[q] === 0x20) {
    q++;
    left--;
  }
  if (buf[q] !== 0x2f) return undefined;
  q++;
  left--;
  let end = q;
  while (left > 0 && buf[end] && !(buf[end] === 0x2f || (left > 1 && buf[end] === 0x3e && buf[end + 1] === 0x3e))) {
    end++;
    left--;
  }
  while (left < value.len && isCSpace(buf[end - 1])) {
    end--;
    left++;
  }
  return String.fromCharCode(...buf.subarray(q, end));
}

const isCSpace = (c: number | undefined): boolean => c === 0x20 || (c !== undefined && c >= 0x09 && c <= 0x0d);

/** parse_enc_method: a crypt filter's /CFM, looked up in /CF. */
export function encMethodOf(security: Pick<PdfSecurity, 'cryptFilters'>, name: string | undefined, fallback: EncMethod): EncMethod {
  if (name === undefined) return fallback;
  if (name === 'Identity') return 'identity';
  const cf = security.cryptFilters;
  if (!cf) return fallback;
  const filter = dictValue(cf.buf, cf.pos, cf.len, ascii(name));
  if (!filter) return fallback;
  const cfm = nameValue(cf.buf, filter.pos, filter.len, KEY.cfm);
  if (cfm?.startsWith('V2')) return 'v2';
  if (cfm?.startsWith('AESV2')) return 'aesv2';
  if (cfm?.startsWith('AESV3')) return 'aesv3';
  if (cfm?.startsWith('None')) return 'none';
  return 'unknown';
}

/** pdf_readint's value stored in a uint32 (C's int conversion), 0xffffffff when absent or unreadable. */
function dictIntU32(d: EncryptDict, pos: number, len: number, key: Uint8Array): number {
  const value = dictValue(d.buf, pos, len, key);
  const parsed = value && parseLong(d.buf, value.pos, value.len);
  if (!parsed) return 0xffffffff;
  return parsed.value < 0 ? -parsed.low32 >>> 0 : parsed.low32;
}

function dictBool(d: EncryptDict, key: Uint8Array, fallback: boolean): boolean {
  const value = dictValue(d.buf, d.pos, d.len, key);
  if (!value || value.len < 5) return fallback;
  const text = String.fromCharCode(...d.buf.subarray(value.pos, value.pos + 5));
  if (text.startsWith('true')) return true;
  if (text === 'false') return false;
  return fallback;
}

/** pdf_handle_enc for the /Encrypt dictionary object's bytes; the file /ID string is needed. */
export function openSecurity(dict: EncryptDict, fileId: Uint8Array): PdfSecurity {
  const unknown: PdfSecurity = { decryptable: false, stream: 'unknown', string: 'unknown', embeddedFile: 'unknown' };
  const { buf, pos, len } = dict;
  const standard = memstr(buf, pos, len, KEY.standard);
  if (standard === -1) return unknown;
  let length = dictIntU32(dict, standard, len - (standard - pos), KEY.length);
  if (length === 0xffffffff) length = dictIntU32(dict, pos, len, KEY.length);
  if (length < 40) length = 40;
  const r = dictIntU32(dict, pos, len, KEY.r);
  if (r === 0xffffffff || r > 6 || r < 2) return unknown;
  const p = dictIntU32(dict, pos, len, KEY.p);
  if (r < 6 && p === 0xffffffff) return unknown;
  const ouLength = r < 5 ? 32 : 48;
  let methods: Pick<PdfSecurity, 'stream' | 'string' | 'embeddedFile' | 'cryptFilters'> = { stream: 'v2', string: 'v2', embeddedFile: 'v2' };
  let encryptMetadata = true;
  let ue: Uint8Array | undefined;
  let oe: Uint8Array | undefined;
  if (r >= 4) {
    encryptMetadata = dictBool(dict, KEY.encryptMetadata, true);
    const cf = dictValue(buf, pos, len, KEY.cf);
    const cryptFilters = cf ? { buf, pos: cf.pos, len: cf.len } : undefined;
    const withFilters = { cryptFilters };
    const stream = encMethodOf(withFilters, nameValue(buf, pos, len, KEY.stmF), 'identity');
    methods = {
      cryptFilters,
      stream,
      string: encMethodOf(withFilters, nameValue(buf, pos, len, KEY.strF), 'identity'),
      embeddedFile: encMethodOf(withFilters, nameValue(buf, pos, len, KEY.eff), stream),
    };
    if (r === 4) length = 128;
    else {
      length = 256;
      ue = dictString(buf, pos, len, KEY.ue, false)?.bytes;
      oe = dictString(buf, pos, len, KEY.oe, false)?.bytes;
    }
  }
  const o = paddedString(buf, pos, len, KEY.o, ouLength);
  const u = paddedString(buf, pos, len, KEY.u, ouLength);
  if (!o || !u || length % 8) return { ...unknown, ...methods };
  const owner = r === 6 ? ownerKeyR6(o, u, oe) : undefined;
  const user = owner ? { key: owner, decryptable: true } : userKey(r, o, u, p, encryptMetadata, ue, length, fileId);
  return { ...methods, ...user };
}

/** /O or /U: at least `length` bytes, anything beyond them zero. */
function paddedString(buf: Uint8Array, pos: number, len: number, key: Uint8Array, length: number): Uint8Array | undefined {
  const value = dictString(buf, pos, len, key, false)?.bytes;
  if (!value || value.length < length) return undefined;
  for (let i = length; i < value.length; i++) if (value[i]) return undefined;
  return value;
}

/** check_owner_password (revision 6 only, as in ClamAV). */
function ownerKeyR6(o: Uint8Array, u: Uint8Array, oe: Uint8Array | undefined): Uint8Array | undefined {
  if (!oe) return undefined;
  const userKey = u.subarray(0, 48);
  if (!equal(o, hashR6(o.subarray(32, 40), userKey), 32)) return undefined;
  if (oe.length !== 32) return undefined;
  return aesDecrypt(oe, hashR6(o.subarray(40, 48), userKey), false);
}

/** check_user_password. */
function userKey(
  r: number,
  o: Uint8Array,
  u: Uint8Array,
  p: number,
  encryptMetadata: boolean,
  ue: Uint8Array | undefined,
  length: number,
  fileId: Uint8Array,
): { key?: Uint8Array; decryptable: boolean } {
  if (r <= 4) {
    const permissions = new Uint8Array(4);
    new DataView(permissions.buffer).setUint32(0, p >>> 0, true);
    const noMetadata = r >= 4 && !encryptMetadata ? new Uint8Array([0xff, 0xff, 0xff, 0xff]) : new Uint8Array(0);
    let digest = hash('md5', PADDING, o.subarray(0, 32), permissions, fileId, noMetadata);
    length = Math.min(length, 128);
    if (r >= 3) for (let i = 0; i < 50; i++) digest = hash('md5', digest.subarray(0, length / 8));
    if (r === 2) length = 40;
    const key = digest.slice(0, length / 8);
    if (r === 2) return { key, decryptable: equal(rc4(key, PADDING), u, 32) };
    let check = rc4(key, hash('md5', PADDING, fileId));
    for (let i = 1; i <= 19; i++) check = rc4(key.map((b) => b ^ i), check);
    return { key, decryptable: equal(check, u, 16) };
  }
  if (r === 5) {
    if (!equal(hash('sha256', u.subarray(32, 40)), u, 32) || ue?.length !== 32) return { decryptable: false };
    return { key: aesDecrypt(ue, hash('sha256', u.subarray(40, 48)), false), decryptable: true };
  }
  if (!ue || !equal(hashR6(u.subarray(32, 40)), u, 32) || ue.length !== 32) return { decryptable: false };
  return { key: aesDecrypt(ue, hashR6(u.subarray(40, 48)), false), decryptable: true };
}

/**
 * decrypt_any: the object key (document key, object number, generation, "sAlT" for AES) and
 * the method's cipher. Undefined without a key or for /None and unknown methods.
 */
export function decryptAny(security: PdfSecurity, id: number, input: Uint8Array, method: EncMethod): Uint8Array | undefined {
  const key = security.key;
  if (!input.length || !key?.length) return undefined;
  const objectKey = hash(
    'md5',
    key,
    new Uint8Array([(id >>> 8) & 0xff, (id >>> 16) & 0xff, (id >>> 24) & 0xff, id & 0xff, 0]),
    method === 'aesv2' ? ascii('sAlT') : new Uint8Array(0),
  ).subarray(0, Math.min(key.length + 5, 16));
  switch (method) {
    case 'v2':
      return rc4(objectKey, input);
    case 'aesv2':
      return aesDecrypt(input, objectKey, true);
    case 'aesv3':
      return aesDecrypt(input, key, true);
    case 'identity':
      return input.slice();
    default:
      return undefined;
  }
}
