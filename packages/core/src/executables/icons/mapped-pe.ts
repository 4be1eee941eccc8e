import { rawAddress, type PeFile } from '../pe-file.js';

/** A PE file's bytes with its headers: RVAs mapped to file offsets (cli_rawaddr) and bounded reads. */
export class MappedPe {
  private readonly view: DataView;

  constructor(
    readonly data: Uint8Array,
    readonly pe: PeFile,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  /** The file offset of `rva`, or undefined where ClamAV's cli_rawaddr finds none. */
  offsetOf(rva: number): number | undefined {
    return rawAddress(rva >>> 0, this.pe.sections, this.data.length, this.pe.headersSize);
  }

  /** Are `length` bytes from `offset` all in the file (fmap_need_off)? */
  has(offset: number, length: number): boolean {
    return offset + length <= this.data.length;
  }

  u8(offset: number): number {
    return this.data[offset]!;
  }

  u16(offset: number): number {
    return this.view.getUint16(offset, true);
  }

  u32(offset: number): number {
    return this.view.getUint32(offset, true);
  }
}
