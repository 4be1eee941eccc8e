import { DEFAULT_LIMITS } from '../engine/scan-options.js';
import type { ExtractionContext, FormatHandler, ExtractedObject } from './handler.js';
import { guarded } from './compression/guard.js';
import { biffRecordsBroken, scanBiff, type BiffFindings } from './documents/biff.js';
import { extractOle10Native } from './documents/ole10.js';
import { Ole2Reader, walkStreams, type StreamEntry, type WalkResult } from './documents/ole2-reader.js';
import { extractPptObjects } from './documents/ppt.js';
import { readVbaDirProject } from './documents/vba-dir.js';
import { inflateVba, readVbaProject } from './documents/vba.js';
import { readWordMacros } from './documents/word-macros.js';
import { inflateZlib } from './documents/zlib-stream.js';

/**
 * OLE2 compound documents (libclamav's cli_scanole2): Word, Excel and PowerPoint 97-2003 files,
 * MSI packages and anything else in the compound file format.
 *
 * ClamAV reads the directory twice. The first pass looks for signs of macros: a stream named
 * `_VBA_PROJECT`, `PowerPoint Document`, `WordDocument` or `\x01Ole10Native` (all of which it
 * calls "VBA"), or an Excel workbook with XLM macro sheets or images.
 *
 * - Without them, every stream is scanned as a file; a stream that is a zlib stream behind a
 *   4-byte size (compressed Office "MSO" data) is inflated first.
 * - With them, the streams are written to a directory tree mirroring the storages and that tree
 *   is processed one directory at a time, recursively: embedded OLE 1.0 objects, the VBA modules
 *   of `_VBA_PROJECT` projects, PowerPoint embedded objects, Word 6 macros and the project text
 *   built from `dir` streams; then (with VBA or XLM) every file of the directory *and its
 *   subdirectories* — so streams in nested storages are scanned once per level, exactly as
 *   ClamAV does (it shows with --allmatch).
 *
 * Macro source is scanned with the OLE2 target type (CL_TYPE_MSOLE2, as ClamAV's vba_scandata),
 * the `dir` project text as CL_TYPE_SCRIPT; both raise Heuristics.OLE2.ContainsMacros.VBA.
 */

export interface Ole2Limits {
  /** Storage depth followed (ClamAV reuses --max-recursion, default 17). */
  readonly maxRecursion: number;
  /** Streams read before the walk stops (--max-files, default 10000). */
  readonly maxFiles: number;
  /** Streams larger than this are skipped (--max-filesize, default 100 MiB). */
  readonly maxFileSize: number;
}

export const DEFAULT_OLE2_LIMITS: Ole2Limits = { maxRecursion: DEFAULT_LIMITS.maxRecursion, maxFiles: DEFAULT_LIMITS.maxFiles, maxFileSize: DEFAULT_LIMITS.maxFileSize };

const MSOLE2 = ['CL_TYPE_MSOLE2'];
const SCRIPT = ['CL_TYPE_SCRIPT'];
/** Names ClamAV takes as a sign of VBA (and of other content its VBA pass handles). */
const VBA_STREAMS = new Set(['_vba_project', 'powerpoint document', 'worddocument', '_1_ole10native']);
/** ClamAV does not write streams with longer directory names to its temporary tree. */
const MAX_WRITTEN_NAME_SIZE = 64;

export function createOle2Handler(limits: Ole2Limits = DEFAULT_OLE2_LIMITS): FormatHandler {
  return {
    name: 'ole2',
    fileTypes: ['CL_TYPE_MSOLE2'],
    scanSwitch: 'ole2',
    extract: (data, ctx) => guarded('cli_scanole2', extractOle2(data, ctx, limits), ctx),
  };
}

export const ole2Handler = createOle2Handler();

function* extractOle2(data: Uint8Array, ctx: ExtractionContext, limits: Ole2Limits): Generator<ExtractedObject> {
  const reader = Ole2Reader.open(data);
  if (!reader) return;
  const walk = walkStreams(reader, {
    maxRecursion: limits.maxRecursion,
    maxFiles: limits.maxFiles,
    maxStreamSize: Math.max(limits.maxFileSize, ctx.maxObjectSize),
  });
  const document = new Ole2Document(reader, walk);
  // The first pass (handler_enum) and the second one walk the same tree and hit the same limits.
  reportWalkEnd(walk, ctx);
  if (!walk.streams.length) return;
  const flags = document.findMacroSigns(ctx.maxObjectSize);
  reportWalkEnd(walk, ctx);
  if (flags.vba || flags.macro || flags.image) {
    yield* scanStorage(document, document.tree(), flags, ctx);
  } else {
    for (const stream of document.streams) yield* scanStream(document.read(stream), stream.name, ctx);
  }
}

function reportWalkEnd(walk: WalkResult, ctx: ExtractionContext): void {
  if (walk.end === 'max-recursion') {
    ctx.debug('OLE2: Recursion limit reached');
    ctx.heuristic('exceeds-max', 'Heuristics.Limits.Exceeded.MaxRecursion');
  } else if (walk.end === 'max-files') {
    ctx.debug('OLE2: files limit reached');
    ctx.heuristic('exceeds-max', 'Heuristics.Limits.Exceeded.MaxFiles');
  } else if (walk.end === 'loop') {
    ctx.debug('OLE2: Property tree loop detected');
  }
}

/** A stream as ClamAV's temporary tree holds it: its name and which occurrence of it it is. */
interface StoredStream extends StreamEntry {
  readonly key: string;
  /** 1-based count of streams with this name up to this one (ClamAV's `<hash>_<n>` file name). */
  readonly occurrence: number;
  readonly storage: Storage;
}

/** A directory of ClamAV's temporary tree: one storage of the document. */
interface Storage {
  readonly path: string;
  readonly streams: StoredStream[];
  readonly children: Storage[];
}

class Ole2Document {
  readonly streams: readonly StreamEntry[];
  private readonly contents = new Map<StreamEntry, Uint8Array>();
  private written?: { root: Storage; byName: Map<string, StoredStream[]> };

  constructor(
    private readonly reader: Ole2Reader,
    private readonly walk: WalkResult,
  ) {
    this.streams = walk.streams;
  }

  read(stream: StreamEntry): Uint8Array {
    let data = this.contents.get(stream);
    if (!data) {
      data = this.reader.readStream(stream.property, this.walk.rootStart);
      this.contents.set(stream, data);
    }
    return data;
  }

  /** handler_enum's findings: VBA-like stream names, XLM macro sheets and images in workbooks. */
  findMacroSigns(limit: number): BiffFindings & { vba: boolean } {
    const found = { vba: false, macro: false, image: false };
    for (const stream of this.streams) {
      if (stream.name !== undefined && VBA_STREAMS.has(stream.name)) found.vba = true;
      if ((!found.macro || !found.image) && (stream.name === 'workbook' || stream.name === 'book')) {
        scanBiff(this.reader.readStream(stream.property, this.walk.rootStart, limit), found);
      }
    }
    return found;
  }

  /** The temporary tree of handler_writefile, built on first use. */
  tree(): Storage {
    return this.writtenTree().root;
  }

  /** Streams of this name in the whole document, in writing order (ClamAV's uniq store). */
  named(name: string): readonly StoredStream[] {
    return this.writtenTree().byName.get(name) ?? [];
  }

  private writtenTree(): { root: Storage; byName: Map<string, StoredStream[]> } {
    if (this.written) return this.written;
    const root: Storage = { path: '', streams: [], children: [] };
    const storages = new Map<string, Storage>([['', root]]);
    const storageFor = (path: string): Storage => {
      let storage = storages.get(path);
      if (!storage) {
        const parent = storageFor(path.slice(0, path.lastIndexOf('/')));
        storage = { path, streams: [], children: [] };
        parent.children.push(storage);
        storages.set(path, storage);
      }
      return storage;
    };
    const byName = new Map<string, StoredStream[]>();
    for (const entry of this.streams) {
      if (entry.property.nameSize > MAX_WRITTEN_NAME_SIZE) continue;
      const key = entry.name ?? '';
      const same = byName.get(key) ?? [];
      const storage = storageFor(entry.path);
      const stored: StoredStream = { ...entry, key, occurrence: same.length + 1, storage };
      same.push(stored);
      byName.set(key, same);
      storage.streams.push(stored);
    }
    this.written = { root, byName };
    return this.written;
  }

  /** Streams of this name in `storage`, highest occurrence first (ClamAV counts down). */
  namedIn(name: string, storage: Storage): StoredStream[] {
    return this.named(name)
      .filter((stream) => stream.storage === storage)
      .reverse();
  }
}

function within(storage: Storage, ancestor: Storage): boolean {
  return storage.path === ancestor.path || storage.path.startsWith(`${ancestor.path}/`);
}

/**
 * One directory of the temporary tree (cli_ole2_scan_tempdir), then its subdirectories. Returns
 * false when ClamAV's processing stops here, which also ends it in the directories above.
 */
function* scanStorage(
  document: Ole2Document,
  storage: Storage,
  flags: BiffFindings & { vba: boolean },
  ctx: ExtractionContext,
): Generator<ExtractedObject, boolean> {
  for (const stream of document.namedIn('_1_ole10native', storage)) {
    const embedded = extractOle10Native(document.read(stream));
    if (embedded?.length) yield { data: embedded };
  }
  if (flags.vba) yield* scanVba(document, storage, ctx);
  if (flags.macro) ctx.heuristic('macros', 'Heuristics.OLE2.ContainsMacros.XLM');
  if ((flags.macro || flags.image) && xlmExtractionFails(document, storage)) {
    ctx.debug('cli_ole2_tempdir_scan_for_xlm_and_images: An error occurred when parsing XLM BIFF temp file');
    return false;
  }
  if (flags.macro || flags.vba) yield* scanDirectory(document, storage);
  for (const child of storage.children) {
    if (!(yield* scanStorage(document, child, flags, ctx))) return false;
  }
  return true;
}

/**
 * ClamAV disassembles the `Workbook` streams of a directory (the XLM text itself is not
 * reproduced, see the docs); the outcome that counts is the first workbook's, when it is here.
 */
function xlmExtractionFails(document: Ole2Document, storage: Storage): boolean {
  const first = document.named('workbook')[0];
  return first?.storage === storage && biffRecordsBroken(document.read(first));
}

/** Every file of a directory and its subdirectories (cli_magic_scan_dir). */
function* scanDirectory(document: Ole2Document, storage: Storage): Generator<ExtractedObject> {
  for (const stream of storage.streams) {
    const data = document.read(stream);
    if (data.length) yield { data, name: stream.name };
  }
  for (const child of storage.children) yield* scanDirectory(document, child);
}

/** cli_ole2_tempdir_scan_vba and cli_ole2_tempdir_scan_vba_new for one directory. */
function* scanVba(document: Ole2Document, storage: Storage, ctx: ExtractionContext): Generator<ExtractedObject> {
  const limit = ctx.maxObjectSize;
  let hasMacros = 0;
  for (const project of document.namedIn('_vba_project', storage)) {
    const modules = readVbaProject(document.read(project), (name) => document.named(name).length);
    for (const module of modules ?? []) {
      for (const stream of document.namedIn(module.name, storage).reverse()) {
        hasMacros++;
        const source = inflateVba(document.read(stream), module.offset, limit);
        if (source) yield { data: source, name: stream.name, scanAs: MSOLE2, inMemory: true };
      }
    }
  }
  for (const stream of document.namedIn('powerpoint document', storage)) {
    for (const object of extractPptObjects(document.read(stream), limit) ?? []) yield { data: object };
  }
  for (const stream of document.namedIn('worddocument', storage)) {
    for (const macro of readWordMacros(document.read(stream))) yield { data: macro, scanAs: MSOLE2, inMemory: true };
  }
  if (hasMacros) ctx.heuristic('macros', 'Heuristics.OLE2.ContainsMacros.VBA');

  // `dir` streams are looked up in the whole subtree, so each project is built again at every
  // level above its storage.
  const dirs = document
    .named('dir')
    .filter((stream) => within(stream.storage, storage))
    .reverse();
  for (const dir of dirs) {
    const modules = (name: string) =>
      document
        .namedIn(name, dir.storage)
        .reverse()
        .map((stream) => document.read(stream));
    const project = readVbaDirProject(document.read(dir), modules, limit, (message) => ctx.warning(message));
    if (project.inflated) hasMacros++;
    if (!project.text) {
      ctx.debug('cli_ole2_tempdir_scan_vba_new: Failed to read dir, trying others');
      continue;
    }
    ctx.heuristic('macros', 'Heuristics.OLE2.ContainsMacros.VBA');
    yield { data: project.text, name: 'vba_project', scanAs: SCRIPT };
  }
}

/** A stream scanned on its own (handler_otf): inflated first when it is compressed MSO data. */
function* scanStream(data: Uint8Array, name: string | undefined, ctx: ExtractionContext): Generator<ExtractedObject> {
  if (data.length >= 6 && data[4] === 0x78 && data[5] === 0x9c) {
    const declared = (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0;
    const inflated = inflateZlib(data.subarray(4), ctx.maxObjectSize);
    if (inflated.end === 'limit') ctx.heuristic('exceeds-max', 'Heuristics.Limits.Exceeded.MaxFileSize');
    if (inflated.end === 'error' && !inflated.data.length) {
      ctx.debug('scan_mso_stream: Error decompressing MSO file. No data decompressed.');
      return;
    }
    if (inflated.data.length !== declared) {
      ctx.warning(`scan_mso_stream: declared prefix != inflated stream size, ${declared} != ${inflated.data.length}`);
    }
    if (!inflated.data.length) return;
    yield { data: inflated.data, name };
    return;
  }
  if (data.length) yield { data, name };
}
