import type { Logger } from '../../util/logger.js';

/**
 * A bounded DER reader over a whole object (a PE file or a `.cat` file), as ClamAV's asn1.c
 * reads one: positions are offsets into the object, every read checks that the bytes are inside
 * the object (not only inside the enclosing element, as ClamAV's file map does), and each
 * enclosing element's length left is a running count the reads consume. A failure is a
 * debug line and `undefined`, never an exception.
 */

/** The position after the last element of its container (ClamAV's NULL `next`). */
export const NOWHERE = -1;

export const ASN1_BOOLEAN = 0x01;
export const ASN1_INTEGER = 0x02;
export const ASN1_BIT_STRING = 0x03;
export const ASN1_OCTET_STRING = 0x04;
export const ASN1_NULL = 0x05;
export const ASN1_OBJECT_ID = 0x06;
export const ASN1_UTC_TIME = 0x17;
export const ASN1_GENERALIZED_TIME = 0x18;
export const ASN1_SEQUENCE = 0x30;
export const ASN1_SET = 0x31;
/** Context-specific constructed tags [0] to [3]. */
export const ASN1_CONTEXT_0 = 0xa0;
export const ASN1_CONTEXT_1 = 0xa1;
export const ASN1_CONTEXT_3 = 0xa3;

/** One element: its tag, content length and where its content and its successor start. */
export interface Asn1Object {
  readonly type: number;
  readonly size: number;
  readonly content: number;
  /** The next element of the container, or NOWHERE when this one ends it. */
  readonly next: number;
}

/** The bytes left in an element being read (ClamAV's in-out `asn1len`). */
export class Remaining {
  constructor(public bytes: number) {}
}

/** An algorithm identifier one of a list of OIDs may name, with what it stands for. */
export interface OidChoice<T> {
  readonly oid: Uint8Array;
  readonly value: T;
}

/** At most this many header bytes are read: a tag, a length byte and four length octets. */
const MAX_HEADER = 6;

export class DerReader {
  constructor(
    readonly data: Uint8Array,
    readonly logger: Logger,
  ) {}

  debug(message: string): void {
    if (this.logger.debugEnabled) this.logger.debug(message);
  }

  /** ClamAV's fmap_need_ptr_once: `length` (> 0) bytes at `at`, all inside the object. */
  readable(at: number, length: number): boolean {
    return at >= 0 && length > 0 && at + length <= this.data.length;
  }

  bytes(at: number, length: number): Uint8Array {
    return this.data.subarray(at, at + length);
  }

  /** asn1_get_obj: the element at `at`, `left` counting down by its whole length. */
  getObject(at: number, left: Remaining): Asn1Object | undefined {
    const available = left.bytes;
    if (available < 2) return this.fail('asn1_get_obj: insufficient data length');
    const headerBytes = Math.min(MAX_HEADER, available);
    if (!this.readable(at, headerBytes)) return this.fail('asn1_get_obj: obj out of file');
    const type = this.data[at]!;
    const lengthByte = this.data[at + 1]!;
    let content = at + 2;
    let size = lengthByte;
    if (lengthByte & 0x80) {
      if (lengthByte === 0x80) return this.fail('asn1_get_obj: unsupported indefinite length object');
      const octets = lengthByte & 0x7f;
      if (octets > headerBytes - 2) return this.fail('asn1_get_obj: len octets overflow (or just too many)');
      size = 0;
      for (let i = 0; i < octets; i++) size = (size * 256 + this.data[content++]!) >>> 0;
    }
    const afterHeader = available - (content - at);
    if (size > afterHeader) return this.fail('asn1_get_obj: content overflow');
    left.bytes = afterHeader - size;
    return { type, size, content, next: size === afterHeader ? NOWHERE : content + size };
  }

  /** asn1_expect_objtype: the element at `at`, which must have tag `type`. */
  expectType(at: number, left: Remaining, type: number): Asn1Object | undefined {
    const object = this.getObject(at, left);
    if (!object) return undefined;
    if (object.type !== type) return this.fail(`asn1_expect_objtype: expected type ${hex2(type)}, got ${hex2(object.type)}`);
    return object;
  }

  /**
   * asn1_expect_obj: an element with tag `type` and exactly the content `expected`; returns the
   * position after it.
   */
  expectContent(at: number, left: Remaining, type: number, expected: Uint8Array): number | undefined {
    const object = this.expectType(at, left, type);
    if (!object) return undefined;
    if (object.size !== expected.length) return this.fail(`asn1_expect_obj: expected size ${expected.length}, got ${object.size}`);
    if (expected.length > 0) {
      if (!this.readable(object.content, expected.length)) return this.fail('asn1_expect_obj: failed to read content');
      if (!sameBytes(this.bytes(object.content, expected.length), expected)) return this.fail('asn1_expect_obj: content mismatch');
    }
    return object.next;
  }

  /**
   * asn1_expect_algo: `SEQUENCE { OID algorithm, NULL? }` naming `oid`; returns the position
   * after the sequence.
   */
  expectAlgorithm(at: number, left: Remaining, oid: Uint8Array): number | undefined {
    const sequence = this.expectType(at, left, ASN1_SEQUENCE);
    if (!sequence) return undefined;
    const inner = new Remaining(sequence.size);
    const afterOid = this.expectContent(sequence.content, inner, ASN1_OBJECT_ID, oid);
    if (afterOid === undefined) return undefined;
    if (inner.bytes > 0 && this.expectContent(afterOid, inner, ASN1_NULL, EMPTY) === undefined) {
      return this.fail('asn1_expect_algo: expected NULL after AlgorithmIdentifier OID');
    }
    if (inner.bytes > 0) return this.fail('asn1_expect_algo: extra data found in SEQUENCE');
    return sequence.next;
  }

  /**
   * asn1_expect_algo_multi: an algorithm identifier naming one of `choices`. Returns the choice
   * and the position after the sequence. As in ClamAV, an OID matching none of the choices
   * counts as the last one.
   */
  expectAlgorithmOf<T>(at: number, left: Remaining, choices: readonly OidChoice<T>[]): { value: T; next: number } | undefined {
    const sequence = this.expectType(at, left, ASN1_SEQUENCE);
    if (!sequence) return this.fail('asn1_expect_algo_multi: expecting SEQUENCE at the start of the algo');
    const inner = new Remaining(sequence.size);
    const oid = this.expectType(sequence.content, inner, ASN1_OBJECT_ID);
    if (!oid) return this.fail('asn1_expect_algo_multi: expected OID in algo');
    if (oid.size === 0) return this.fail('asn1_expect_algo_multi: Unexpected length value of zero when parsing OID obj');
    if (!this.readable(oid.content, oid.size)) return this.fail('asn1_expect_algo_multi: failed to read OID');
    const found = this.bytes(oid.content, oid.size);
    const choice = choices.find((c) => sameBytes(c.oid, found)) ?? choices[choices.length - 1]!;
    if (inner.bytes > 0 && this.expectContent(oid.next, inner, ASN1_NULL, EMPTY) === undefined) {
      return this.fail('asn1_expect_algo_multi: expected NULL following OID');
    }
    if (inner.bytes > 0) return this.fail('asn1_expect_algo_multi: extra data found in SEQUENCE');
    return { value: choice.value, next: sequence.next };
  }

  /** Logs `message` and gives `undefined`: the shape of every failure. */
  fail(message: string): undefined {
    this.debug(message);
    return undefined;
  }
}

const EMPTY = new Uint8Array(0);

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function hex2(value: number): string {
  return value.toString(16).padStart(2, '0');
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/** An OID's DER content from its dotted form. */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const out = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const groups = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) groups.unshift((rest & 0x7f) | 0x80);
    out.push(...groups);
  }
  return Uint8Array.from(out);
}
