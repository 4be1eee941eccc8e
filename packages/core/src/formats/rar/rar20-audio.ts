/**
 * RAR 2.0 multimedia mode: each byte is coded as its difference from a prediction made by an
 * adaptive linear filter over the channel's recent deltas. Every 32 bytes the filter nudges the
 * one weight (K1..K5) whose change would have made the smallest total error, so the decoder
 * must replay exactly the encoder's bookkeeping.
 */

const WEIGHT_LIMIT = 16;

class Channel {
  /** Weights of the last four deltas (K1..K4) and of the neighbouring channel's delta (K5). */
  readonly weights = new Int32Array(5);
  /** The last four deltas, most recent first. */
  readonly deltas = new Int32Array(4);
  lastDelta = 0;
  lastByte = 0;
  count = 0;
  /** Accumulated |error| without and with each weight moved down/up (11 candidates). */
  readonly errors = new Uint32Array(11);

  reset(): void {
    this.weights.fill(0);
    this.deltas.fill(0);
    this.errors.fill(0);
    this.lastDelta = 0;
    this.lastByte = 0;
    this.count = 0;
  }
}

export class Rar20Audio {
  private readonly channels = [new Channel(), new Channel(), new Channel(), new Channel()];
  /** The delta of the byte decoded last, whatever its channel (the K5 input). */
  private channelDelta = 0;

  reset(): void {
    for (const channel of this.channels) channel.reset();
    this.channelDelta = 0;
  }

  /** Turns the coded value of the next byte of `channel` (0..3) into the byte. */
  decode(channel: number, coded: number): number {
    const c = this.channels[channel]!;
    const d = c.deltas;
    const w = c.weights;
    d[3] = d[2]!;
    d[2] = d[1]!;
    d[1] = c.lastDelta - d[0]!;
    d[0] = c.lastDelta;
    const predicted =
      (8 * c.lastByte + w[0]! * d[0]! + w[1]! * d[1]! + w[2]! * d[2]! + w[3]! * d[3]! + w[4]! * this.channelDelta) >> 3;
    const byte = (predicted - coded) & 0xff;

    const error = ((coded << 24) >> 24) * 8;
    const e = c.errors;
    e[0] += Math.abs(error);
    for (let k = 0; k < 4; k++) {
      e[1 + 2 * k] += Math.abs(error - d[k]!);
      e[2 + 2 * k] += Math.abs(error + d[k]!);
    }
    e[9] += Math.abs(error - this.channelDelta);
    e[10] += Math.abs(error + this.channelDelta);

    this.channelDelta = c.lastDelta = (((byte - c.lastByte) << 24) >> 24);
    c.lastByte = byte;

    if ((++c.count & 0x1f) === 0) adaptWeights(c.errors, c.weights);
    return byte;
  }
}

/**
 * The adaptation step shared with RAR 2.9's audio filter: the candidate with the smallest
 * accumulated error wins (ties go to the earlier one), every error restarts from zero, and
 * candidate 2k+1 or 2k+2 moves weight k one step down or up (within -17..16).
 */
export function adaptWeights(errors: Uint32Array, weights: Int32Array): void {
  let best = 0;
  for (let i = 1; i < errors.length; i++) if (errors[i]! < errors[best]!) best = i;
  errors.fill(0);
  if (best === 0) return;
  const weight = (best - 1) >> 1;
  if (best & 1) {
    if (weights[weight]! >= -WEIGHT_LIMIT) weights[weight]--;
  } else if (weights[weight]! < WEIGHT_LIMIT) {
    weights[weight]++;
  }
}
