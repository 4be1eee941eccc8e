import { open } from 'node:fs/promises';
import { ClamError } from '../errors.js';
import { errnoMessage } from '../util/strerror.js';
import { isAllowListed } from '../matching/hash-detector.js';
import type { Engine } from './engine.js';
import { ObjectHashes, type DetectionSink, type ScanObject } from './scan-object.js';
import { scanOptions, type ScanOptions } from './scan-options.js';

/** What one scan found. */
export interface ScanResult {
  /** Signature names in the order ClamAV reports them; empty when clean. */
  readonly viruses: string[];
  /**
   * Data scanned, in ClamAV's 4 KiB counting units (what clamscan sums for "Data scanned").
   */
  scannedBlocks: number;
}

/** ClamAV's counting precision and the chunk size its matcher walks an object in. */
export const COUNT_PRECISION = 4096;
const SCAN_CHUNK = 0x20000;
const SMALLEST_SCANNED_SIZE = 5;

/** Blocks ClamAV counts for one pass over `size` bytes: whole 4 KiB units of each 128 KiB chunk. */
export function countedBlocks(size: number): number {
  const fullChunks = Math.floor(size / SCAN_CHUNK);
  return fullChunks * (SCAN_CHUNK / COUNT_PRECISION) + Math.floor((size % SCAN_CHUNK) / COUNT_PRECISION);
}

/**
 * Scans files, buffers and streams with one engine. Stateless between scans, so one scanner can
 * serve any number of concurrent scans; clamscan, clamd and the library API all use it.
 */
export class Scanner {
  readonly options: ScanOptions;

  constructor(
    readonly engine: Engine,
    options: ScanOptions = scanOptions(),
  ) {
    this.options = options;
  }

  scanBuffer(data: Uint8Array): ScanResult {
    const result: ScanResult = { viruses: [], scannedBlocks: 0 };
    // ClamAV ignores objects of five bytes or less entirely: not typed, not hashed, not scanned.
    if (data.length <= SMALLEST_SCANNED_SIZE) return result;
    const sink = new ResultSink(this.engine, this.options, result);
    const { maxFileSize } = this.options.limits;
    if (maxFileSize > 0 && data.length > maxFileSize) {
      if (this.options.alertExceedsMax) sink.report('Heuristics.Limits.Exceeded.MaxFileSize');
      return result;
    }
    const object: ScanObject = {
      data,
      fileType: this.engine.fileTypes.detect(data),
      depth: 0,
      containers: [],
      hashes: new ObjectHashes(data),
    };
    this.scanObject(object, sink, result);
    return result;
  }

  /** Reads and scans a file. Throws ClamError('EOPEN' | 'EREAD') when it cannot be read. */
  async scanFile(path: string): Promise<ScanResult> {
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw new ClamError('EOPEN', { path, message: errnoMessage(error) });
    }
    try {
      const { size } = await handle.stat();
      const { maxFileSize } = this.options.limits;
      if (size > SMALLEST_SCANNED_SIZE && maxFileSize > 0 && size > maxFileSize) return this.scanOversized();
      return this.scanBuffer(await handle.readFile());
    } catch (error) {
      if (error instanceof ClamError) throw error;
      throw new ClamError('EREAD', { path });
    } finally {
      await handle.close();
    }
  }

  /** Scans everything a stream yields, as one object (clamd INSTREAM, stdin). */
  async scanStream(source: AsyncIterable<Uint8Array>): Promise<ScanResult> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const { maxFileSize } = this.options.limits;
    for await (const chunk of source) {
      size += chunk.length;
      // Past the limit the object will not be scanned: stop keeping its bytes.
      if (maxFileSize === 0 || size <= maxFileSize) chunks.push(chunk);
    }
    if (size > SMALLEST_SCANNED_SIZE && maxFileSize > 0 && size > maxFileSize) return this.scanOversized();
    return this.scanBuffer(Buffer.concat(chunks, size));
  }

  private scanOversized(): ScanResult {
    const result: ScanResult = { viruses: [], scannedBlocks: 0 };
    if (this.options.alertExceedsMax) {
      new ResultSink(this.engine, this.options, result).report('Heuristics.Limits.Exceeded.MaxFileSize');
    }
    return result;
  }

  private scanObject(object: ScanObject, sink: ResultSink, result: ScanResult): void {
    result.scannedBlocks += countedBlocks(object.data.length);
    sink.current = object;
    for (const detector of this.engine.detectors) {
      detector.scan(object, sink);
      if (sink.stopped) return;
    }
  }
}

/** Collects detections, voids those the allow-list clears, and says when to stop. */
class ResultSink implements DetectionSink {
  current?: ScanObject;
  stopped = false;

  constructor(
    private readonly engine: Engine,
    private readonly options: ScanOptions,
    private readonly result: ScanResult,
  ) {}

  report(name: string): boolean {
    if (isAllowListed(this.engine.allowHashes, this.current)) return true;
    this.result.viruses.push(name);
    this.stopped = !this.options.allMatch;
    return !this.stopped;
  }
}
