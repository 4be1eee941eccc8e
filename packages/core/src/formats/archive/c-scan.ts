/**
 * `sscanf(field, "%o")` and `"%x"` into a C unsigned int, as ClamAV reads the ASCII numbers of
 * cpio headers: the field ends at its first NUL (it was copied with strncpy), blanks are skipped,
 * a sign is allowed (minus wraps modulo 2^32), hex may start with 0x, digits run to the first
 * non-digit, and at least one digit is required.
 */
function isBlank(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

function digitValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  return 99;
}

export function scanUnsignedField(field: Uint8Array, radix: 8 | 16): number | undefined {
  const nul = field.indexOf(0);
  const end = nul < 0 ? field.length : nul;
  let i = 0;
  while (i < end && isBlank(field[i]!)) i++;
  let negative = false;
  if (i < end && (field[i] === 0x2b || field[i] === 0x2d)) negative = field[i++] === 0x2d;
  if (radix === 16 && i + 2 < end && field[i] === 0x30 && (field[i + 1]! | 0x20) === 0x78 && digitValue(field[i + 2]!) < 16) {
    i += 2;
  }
  const start = i;
  let value = 0;
  for (; i < end; i++) {
    const digit = digitValue(field[i]!);
    if (digit >= radix) break;
    value = (value * radix + digit) % 2 ** 32;
  }
  if (i === start) return undefined;
  return negative && value !== 0 ? 2 ** 32 - value : value;
}
