import { lstatSync, opendirSync, statSync, type Dirent, type Stats } from 'node:fs';

/**
 * The file-tree walk ClamAV's tools share (libclamav's cli_ftw), with the details that show in
 * clamdscan's output: in each directory, files come before subdirectories and each group is in
 * inode order; symlinks found inside directories are skipped silently unless followed; a path
 * named by the user that is a symlink is reported (as a skipped link) rather than skipped.
 */

export type WalkReason =
  /** stat() failed, or a directory could not be opened. */
  | 'error-stat'
  /** The recursion limit was reached. */
  | 'skipped-directory'
  | 'skipped-link'
  /** Not a regular file, directory or followed symlink (a fifo, a socket, a device…). */
  | 'skipped-special'
  /** The path the walk started from, when it is a directory. */
  | 'top-directory'
  | 'file';

/**
 * What a visitor tells the walk: go on, stop here without failing (clamd scanned the whole
 * directory), or abort because something went wrong.
 */
export type WalkStatus = 'continue' | 'break' | 'abort';

export interface WalkOptions {
  readonly followDirectorySymlinks: boolean;
  readonly followFileSymlinks: boolean;
  /** How deep to descend; the top directory's entries are at depth 1. */
  readonly maxDepth: number;
  /** Paths to leave out entirely (ClamAV's path check: clamd.conf's ExcludePath). */
  readonly excluded: (path: string) => boolean;
  /** Called when a walk inside a directory is aborted (libclamav's error message). */
  readonly onAbort: () => void;
}

export type WalkVisitor = (path: string, reason: WalkReason) => Promise<WalkStatus>;

type FileKind = 'unknown' | 'link' | 'directory' | 'regular' | 'skipped-special' | 'skipped-link';
/** What a path turns out to be once symlinks are settled ('unknown': stat() failed). */
type SettledKind = Exclude<FileKind, 'link'>;

interface Entry {
  readonly path: string;
  readonly isDirectory: boolean;
  readonly inode: number;
}

/**
 * Walks `start` after trimming repeated leading and any trailing slashes, as cli_ftw does.
 * Resolves to 'continue' when the walk completed, or the status that ended it.
 */
export async function walkTree(start: string, options: WalkOptions, visit: WalkVisitor): Promise<WalkStatus> {
  const path = trimSlashes(start).walked;
  if (options.excluded(path)) return 'continue';
  const kind = classify(path, 'unknown', options);
  if (kind === 'unknown') return visit(path, 'error-stat');
  if (kind === 'skipped-link' || kind === 'skipped-special') return visit(path, kind);
  if (kind === 'regular') return visit(path, 'file');
  const status = await visit(path, 'top-directory');
  if (status !== 'continue') return status;
  return walkDirectory(path, options.maxDepth, options, visit);
}

/**
 * cli_ftw trims the caller's buffer in place: trailing slashes go from the path the caller
 * prints too, while skipped leading slashes only affect the walk.
 */
export function trimSlashes(path: string): { shown: string; walked: string } {
  if (path.length < 2) return { shown: path, walked: path };
  let start = 0;
  while (path[start] === '/' && path[start + 1] === '/') start++;
  let end = path.length;
  while (end > start && path[end - 1] === '/') end--;
  return { shown: path.slice(0, end), walked: path.slice(start, end) };
}

async function walkDirectory(directory: string, depth: number, options: WalkOptions, visit: WalkVisitor): Promise<WalkStatus> {
  if (depth < 0) return visit(directory, 'skipped-directory');
  const listing = readDirectory(directory);
  if (listing === undefined) return visit(directory, 'error-stat');

  const entries: Entry[] = [];
  for (const { name, kind: listedKind } of listing) {
    // Symlinks are not even looked at unless some kind of symlink is followed.
    if (listedKind === 'link' && !options.followDirectorySymlinks && !options.followFileSymlinks) continue;
    const path = directory === '/' ? `/${name}` : `${directory}/${name}`;
    if (options.excluded(path)) continue;
    const kind = classify(path, listedKind, options);
    if (kind === 'directory' || kind === 'regular') {
      entries.push({ path, isDirectory: kind === 'directory', inode: inodeOf(path) });
      continue;
    }
    // Problems are reported while the directory is read; a visitor that objects ends the
    // reading, but what was collected so far is still walked (libclamav's behaviour).
    const status = await visit(path, kind === 'unknown' ? 'error-stat' : kind);
    if (status !== 'continue') break;
  }

  entries.sort(compareEntries);
  for (const entry of entries) {
    const status = entry.isDirectory
      ? await walkDirectory(entry.path, depth - 1, options, visit)
      : await visit(entry.path, 'file');
    if (status !== 'continue') {
      options.onAbort();
      return status;
    }
  }
  return 'continue';
}

/** A directory's entries with the type readdir reports; undefined when it cannot be opened. */
function readDirectory(directory: string): { name: string; kind: FileKind }[] | undefined {
  let handle;
  try {
    handle = opendirSync(directory);
  } catch {
    return undefined;
  }
  const listing: { name: string; kind: FileKind }[] = [];
  try {
    for (let dirent = handle.readSync(); dirent !== null; dirent = handle.readSync()) {
      listing.push({ name: dirent.name, kind: kindOf(dirent) });
    }
  } catch {
    // A directory that fails half-way is walked as far as it was read, like readdir() ending.
  } finally {
    handle.closeSync();
  }
  return listing;
}

/**
 * Files before directories, then ascending inode numbers. libclamav subtracts the inode numbers
 * as longs and returns the difference as an int, so very distant inodes compare by the low 32
 * bits of their difference; `| 0` reproduces that truncation.
 */
function compareEntries(a: Entry, b: Entry): number {
  const byType = Number(a.isDirectory) - Number(b.isDirectory);
  return byType !== 0 ? byType : (a.inode - b.inode) | 0;
}

function kindOf(dirent: Dirent): FileKind {
  if (dirent.isDirectory()) return 'directory';
  if (dirent.isFile()) return 'regular';
  if (dirent.isSymbolicLink()) return 'link';
  return 'skipped-special';
}

/**
 * libclamav's get_filetype(): settles what `path` is, following symlinks only as asked.
 * 'unknown' means stat() failed. A symlink that is followed but whose target is neither kind
 * being followed counts as a special file — the quirk of testing the target's mode.
 */
function classify(path: string, listed: FileKind, options: WalkOptions): SettledKind {
  let kind = listed;
  if (kind !== 'unknown' && kind !== 'link') return kind;
  const followBoth = options.followDirectorySymlinks && options.followFileSymlinks;
  let stats: Stats;
  try {
    if (!followBoth) {
      if (kind !== 'link') {
        const own = lstatSync(path);
        if (!own.isSymbolicLink()) return typeOf(own);
        kind = 'link';
      }
      if (!options.followDirectorySymlinks && !options.followFileSymlinks) return 'skipped-link';
    }
    stats = statSync(path);
  } catch {
    return 'unknown';
  }
  const isLink = kind === 'link';
  if (stats.isDirectory() && (!isLink || options.followDirectorySymlinks)) return 'directory';
  if (stats.isFile() && (!isLink || options.followFileSymlinks)) return 'regular';
  return stats.isSymbolicLink() ? 'skipped-link' : 'skipped-special';
}

function typeOf(stats: Stats): SettledKind {
  if (stats.isDirectory()) return 'directory';
  if (stats.isFile()) return 'regular';
  return 'skipped-special';
}

function inodeOf(path: string): number {
  try {
    return lstatSync(path).ino;
  } catch {
    return 0;
  }
}
