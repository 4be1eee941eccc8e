import { lstat, opendir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';

/**
 * The file tree walk clamd does for SCAN, CONTSCAN, MULTISCAN and ALLMATCHSCAN (libclamav's
 * cli_ftw with clamd's path check), reproduced for its visible effects: which entries are
 * reported and in what order, which are skipped silently, and where errors are reported.
 *
 * Paths are byte strings (one char per byte) so that any name round-trips to the client exactly;
 * they are turned into Buffers for the file system.
 */
export interface WalkOptions {
  readonly followDirSymlinks: boolean;
  readonly followFileSymlinks: boolean;
  /** Stat every entry (off for MULTISCAN, whose file jobs then get no size to check). */
  readonly needStat: boolean;
  /** Directory levels below the top one that are entered (MaxDirectoryRecursion; 0: no limit). */
  readonly maxDepth: number;
  /** clamd's path check, run on every path before anything else: true skips it. */
  readonly excluded: (path: string) => Promise<boolean>;
}

/** What the walk found, in clamd's cli_ftw_reason terms. */
export type WalkEntry =
  | { readonly reason: 'file'; readonly path: string; readonly stats: Stats | undefined }
  | { readonly reason: 'top-directory'; readonly path: string }
  | { readonly reason: 'stat-error'; readonly path: string; readonly error: NodeJS.ErrnoException }
  | { readonly reason: 'skipped-link'; readonly path: string }
  /** `topLevel`: the path the client named (clamd replies "Not supported file type" only then). */
  | { readonly reason: 'skipped-special'; readonly path: string; readonly topLevel: boolean }
  | { readonly reason: 'skipped-directory'; readonly path: string };

/** The visitor returns false to abort the walk (SCAN stops at the first detection). */
export type WalkVisitor = (entry: WalkEntry) => Promise<boolean>;

type FileKind = 'unknown' | 'link' | 'directory' | 'regular' | 'skipped-special' | 'skipped-link';

export const fsPath = (path: string): Buffer => Buffer.from(path, 'latin1');

/**
 * Walks `path`. Returns the path as clamd reports it in the final `path: OK` (trailing slashes
 * trimmed, as cli_ftw trims the command's buffer in place), and whether the walk ran to the end.
 */
export async function walk(path: string, options: WalkOptions, visit: WalkVisitor): Promise<{ reported: string; completed: boolean }> {
  let walked = path;
  let reported = path;
  if (path.length > 1) {
    // "dir" and "dir/" must behave the same when they are symlinks that are not followed.
    const start = /^\/*/.exec(path)?.[0].length ?? 0;
    const leading = Math.max(0, start - 1);
    const end = path.replace(/\/+$/, '').length;
    reported = path.slice(0, Math.max(end, 1));
    walked = reported.slice(Math.min(leading, reported.length - 1));
  }
  const topLevel = walked === reported;
  if (await options.excluded(walked)) return { reported, completed: true };

  const classified = await classify(walked, 'unknown', options, true);
  if (classified.kind === 'error') {
    return { reported, completed: await visit({ reason: 'stat-error', path: walked, error: classified.error }) };
  }
  if (classified.kind === 'skipped-link') return { reported, completed: await visit({ reason: 'skipped-link', path: walked }) };
  if (classified.kind === 'skipped-special') {
    return { reported, completed: await visit({ reason: 'skipped-special', path: walked, topLevel }) };
  }
  if (classified.kind === 'regular') {
    return { reported, completed: await visit({ reason: 'file', path: walked, stats: classified.stats }) };
  }
  if (!(await visit({ reason: 'top-directory', path: walked }))) return { reported, completed: false };
  const maxDepth = options.maxDepth > 0 ? options.maxDepth : Number.MAX_SAFE_INTEGER;
  return { reported, completed: await walkDirectory(walked, maxDepth, options, visit) };
}

interface DirectoryEntry {
  readonly path: string;
  readonly isDirectory: boolean;
  readonly stats: Stats | undefined;
  readonly inode: number;
}

async function walkDirectory(directory: string, depth: number, options: WalkOptions, visit: WalkVisitor): Promise<boolean> {
  if (depth < 0) return visit({ reason: 'skipped-directory', path: directory });
  let handle;
  try {
    handle = await opendir(fsPath(directory), { encoding: 'latin1' });
  } catch (error) {
    return visit({ reason: 'stat-error', path: directory, error: error as NodeJS.ErrnoException });
  }
  const following = options.followDirSymlinks || options.followFileSymlinks;
  const entries: DirectoryEntry[] = [];
  for await (const dirent of handle) {
    let kind: FileKind;
    if (dirent.isDirectory()) kind = 'directory';
    else if (dirent.isSymbolicLink()) {
      // Links are not even looked at when none are followed.
      if (!following) continue;
      kind = 'link';
    } else if (dirent.isFile()) kind = 'regular';
    else kind = 'skipped-special';
    const name = dirent.name as string;
    const path = directory === '/' ? `/${name}` : `${directory}/${name}`;
    if (await options.excluded(path)) continue;

    const classified = await classify(path, kind, options, options.needStat);
    if (classified.kind === 'error') {
      if (!(await visit({ reason: 'stat-error', path, error: classified.error }))) return false;
      continue;
    }
    if (classified.kind === 'skipped-link' || classified.kind === 'skipped-special') {
      const entry: WalkEntry =
        classified.kind === 'skipped-link' ? { reason: 'skipped-link', path } : { reason: 'skipped-special', path, topLevel: false };
      if (!(await visit(entry))) return false;
      continue;
    }
    entries.push({
      path,
      isDirectory: classified.kind === 'directory',
      stats: options.needStat ? classified.stats : undefined,
      inode: await inodeOf(path, kind, classified),
    });
  }
  // clamd visits files before directories, each in inode order.
  entries.sort((a, b) => Number(a.isDirectory) - Number(b.isDirectory) || a.inode - b.inode);
  for (const entry of entries) {
    const completed = entry.isDirectory
      ? await walkDirectory(entry.path, depth - 1, options, visit)
      : await visit({ reason: 'file', path: entry.path, stats: entry.stats });
    if (!completed) return false;
  }
  return true;
}

/**
 * The entry's own inode, readdir's d_ino, which orders clamd's walk: for a followed link that of
 * the link, not of its target.
 */
async function inodeOf(path: string, direntKind: FileKind, classified: Found): Promise<number> {
  if (classified.ownStats) return classified.ownStats.ino;
  if (direntKind !== 'link' && classified.stats) return classified.stats.ino;
  return (await lstat(fsPath(path)).catch(() => undefined))?.ino ?? 0;
}

interface Found {
  readonly kind: 'regular' | 'directory' | 'skipped-special' | 'skipped-link';
  /** stat() of the entry (lstat() when the entry is not a link). */
  readonly stats: Stats | undefined;
  /** lstat() of the entry, when it was taken. */
  readonly ownStats: Stats | undefined;
}

type Classified = Found | { readonly kind: 'error'; readonly error: NodeJS.ErrnoException };

/** libclamav's get_filetype(): lstat/stat as needed and decide what the entry is. */
async function classify(path: string, known: FileKind, options: WalkOptions, needStat: boolean): Promise<Classified> {
  let kind = known;
  let stats: Stats | undefined;
  let ownStats: Stats | undefined;
  let mustStat = needStat;
  try {
    if (kind === 'unknown' || kind === 'link') {
      mustStat = true;
      if (!(options.followDirSymlinks && options.followFileSymlinks)) {
        if (kind !== 'link') {
          stats = ownStats = await lstat(fsPath(path));
          if (stats.isSymbolicLink()) kind = 'link';
          else mustStat = false;
        }
        if (kind === 'link' && !options.followDirSymlinks && !options.followFileSymlinks) {
          return { kind: 'skipped-link', stats, ownStats };
        }
      }
    }
    if (mustStat) stats = await stat(fsPath(path));
  } catch (error) {
    return { kind: 'error', error: error as NodeJS.ErrnoException };
  }
  if (kind === 'unknown' || kind === 'link') {
    const target = stats as Stats;
    const viaLink = kind === 'link';
    if (target.isDirectory() && (!viaLink || options.followDirSymlinks)) kind = 'directory';
    else if (target.isFile() && (!viaLink || options.followFileSymlinks)) kind = 'regular';
    else kind = target.isSymbolicLink() ? 'skipped-link' : 'skipped-special';
  }
  return { kind: kind as Found['kind'], stats, ownStats };
}
