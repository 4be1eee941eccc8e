/**
 * Traditional PKWARE zip encryption ("ZipCrypto", APPNOTE 6.1), the only kind ClamAV decrypts,
 * with a password from a `.pwdb` database. Three 32-bit keys start from fixed values and take in
 * the password, then each byte of the 12-byte encryption header and of the data; the decrypted
 * header's last byte or two confirm the password (see passwordFits).
 */

/** The encryption header in front of every encrypted member's data. */
export const ENCRYPTION_HEADER_SIZE = 12;

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crcStep(crc: number, byte: number): number {
  return (CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8)) >>> 0;
}

/** The three keys, as they stand after the password and every byte decrypted so far. */
class ZipKeys {
  private k0 = 0x12345678;
  private k1 = 0x23456789;
  private k2 = 0x34567890;

  constructor(password: string) {
    for (let i = 0; i < password.length; i++) this.update(password.charCodeAt(i) & 0xff);
  }

  /** Decrypts one byte and takes the plain byte in. */
  decrypt(byte: number): number {
    const t = (this.k2 | 2) & 0xffff;
    const plain = (byte ^ ((t * (t ^ 1)) >>> 8)) & 0xff;
    this.update(plain);
    return plain;
  }

  private update(byte: number): void {
    this.k0 = crcStep(this.k0, byte);
    this.k1 = (Math.imul((this.k1 + (this.k0 & 0xff)) >>> 0, 134775813) + 1) >>> 0;
    this.k2 = crcStep(this.k2, this.k1 >>> 24);
  }
}

/** The local header fields ClamAV checks a password against. */
export interface EncryptionCheck {
  /** "Version needed to extract" (20 for 2.0). */
  readonly version: number;
  /** General-purpose flags: bit 3 (data descriptor) makes the check use the modification time. */
  readonly flags: number;
  /** The local header's time and date as one little-endian 32-bit value. */
  readonly modified: number;
  /** The local header's CRC-32 (0 when a data descriptor follows the data). */
  readonly crc: number;
}

const FLAG_DESCRIPTOR = 0x0008;

/**
 * Decrypts `data` (encryption header included) with `password` when the decrypted header confirms
 * it as ClamAV's zdecrypt does: for version 2.0 and earlier the header's last two bytes must equal
 * the high 16 bits of the CRC (or the low 16 bits of the time field with a data descriptor), for
 * later versions its last byte their high byte. `debug` receives ClamAV's line about the check.
 * Returns the decrypted data after the header, or undefined when the password does not fit.
 */
export function decryptWithPassword(
  data: Uint8Array,
  password: string,
  check: EncryptionCheck,
  debug: (message: string) => void,
): Uint8Array | undefined {
  const keys = new ZipKeys(password);
  const header = new Uint8Array(ENCRYPTION_HEADER_SIZE);
  for (let i = 0; i < ENCRYPTION_HEADER_SIZE; i++) header[i] = keys.decrypt(data[i] ?? 0);
  if (!passwordFits(header, check, debug)) return undefined;
  const plain = new Uint8Array(Math.max(0, data.length - ENCRYPTION_HEADER_SIZE));
  for (let i = 0; i < plain.length; i++) plain[i] = keys.decrypt(data[ENCRYPTION_HEADER_SIZE + i]!);
  return plain;
}

function passwordFits(header: Uint8Array, { version, flags, modified, crc }: EncryptionCheck, debug: (message: string) => void): boolean {
  const last = header[ENCRYPTION_HEADER_SIZE - 1]!;
  const beforeLast = header[ENCRYPTION_HEADER_SIZE - 2]!;
  const byTime = (flags & FLAG_DESCRIPTOR) !== 0;
  const reference = byTime ? modified : crc;
  const what = byTime ? 'moddate' : 'crc32';
  if (version > 20) {
    debug(`cli_unzip: decrypt - (v${version}) >> 0x${hex2(last)} 0x${reference.toString(16)} (${what})`);
    return last === (byTime ? (modified >>> 8) & 0xff : crc >>> 24);
  }
  debug(`cli_unzip: decrypt - (v${version}) >> 0x0000${hex2(last)}${hex2(beforeLast)} 0x${reference.toString(16)} (${what})`);
  return (beforeLast | (last << 8)) === (byTime ? modified & 0xffff : crc >>> 16);
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
