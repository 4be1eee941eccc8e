/**
 * The check ClamAV applies when a fixed-offset magic says "MBR" (libclamav's cli_mbr_check):
 * a protective or hybrid first entry means a GPT disk, a sane partition table means an MBR,
 * anything else is not a disk image after all.
 */

const SECTOR_SIZE = 512;
/** The boot record's partition table (4 × 16 bytes) and signature end the first sector. */
const TABLE_OFFSET = SECTOR_SIZE - (4 * 16 + 2);
const SIGNATURE_OFFSET = SECTOR_SIZE - 2;
const PROTECTIVE = 0xee;
const HYBRID = 0xed;

export type MbrVerdict = 'gpt' | 'mbr' | 'invalid';

/**
 * @param head the first bytes of the object (at least one sector to be anything)
 * @param objectSize the size of the whole object, which the partitions must fit in
 */
export function checkMbr(head: Uint8Array, objectSize: number): MbrVerdict {
  if (head.length < SECTOR_SIZE) return 'invalid';
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const firstType = head[TABLE_OFFSET + 4];
  if (firstType === PROTECTIVE || firstType === HYBRID) return 'gpt';
  for (let entry = 0; entry < 4; entry++) {
    const at = TABLE_OFFSET + entry * 16;
    const status = head[at];
    if (status !== 0x00 && status !== 0x80) return 'invalid';
    const firstLba = view.getUint32(at + 8, true);
    const sectorCount = view.getUint32(at + 12, true);
    if ((firstLba + sectorCount) * SECTOR_SIZE > objectSize) return 'invalid';
  }
  if (view.getUint16(SIGNATURE_OFFSET, false) !== 0x55aa) return 'invalid';
  if (Math.floor(objectSize / SECTOR_SIZE) < 2) return 'invalid';
  return 'mbr';
}
