import { GrowableShared } from '../util/shared-memory.js';

/** A StringList as plain data in shared memory. */
export interface SharedStringList {
  /** The characters of all strings, one byte each, one string after the other. */
  units: Uint8Array;
  /** Where each string starts in `units`, and a last entry for the end. */
  starts: Uint32Array;
}

/**
 * Strings (signature names) in shared memory, made into JavaScript strings when reported. They
 * come from database text, which is decoded as latin1: every character fits in a byte.
 */
export class StringList {
  private constructor(
    private readonly units: Uint8Array,
    private readonly starts: Uint32Array,
  ) {}

  static fromShared(shared: SharedStringList): StringList {
    return new StringList(shared.units, shared.starts);
  }

  toShared(): SharedStringList {
    return { units: this.units, starts: this.starts };
  }

  get(index: number): string {
    const end = this.starts[index + 1]!;
    let text = '';
    // In slices, as String.fromCharCode takes one argument per code unit.
    for (let at = this.starts[index]!; at < end; at += STRING_SLICE) {
      text += String.fromCharCode.apply(null, this.units.subarray(at, Math.min(end, at + STRING_SLICE)) as unknown as number[]);
    }
    return text;
  }
}

const STRING_SLICE = 4096;

/**
 * Collects the strings of a StringList as they are added, as bytes: a name cut from a database
 * line is a slice that would keep the whole line alive until the list is built.
 */
export class StringListBuilder {
  private readonly units = new GrowableShared(Uint8Array, 1 << 16);
  private readonly starts = new GrowableShared(Uint32Array, 1 << 10);

  get count(): number {
    return this.starts.length;
  }

  add(text: string): void {
    const at = this.units.length;
    const units = this.units.ensure(at + text.length);
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      if (unit > 0xff) throw new RangeError(`StringList: a name beyond latin1: ${text}`);
      units[at + i] = unit;
    }
    this.units.length += text.length;
    this.starts.push(at);
  }

  /** The list, in the memory the builder wrote; the builder cannot be used afterwards. */
  build(): StringList {
    this.starts.push(this.units.length);
    return StringList.fromShared({ units: this.units.used(), starts: this.starts.used() });
  }
}
