import { closeSync, copyFileSync, constants, linkSync, openSync, realpathSync, statSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { errnoMessage } from '@clamts/core/client';
import type { ParsedCommandLine } from '@clamts/core/client';
import type { ToolOutput } from '../common/output.js';

export type QuarantineMode = { kind: 'move' | 'copy'; directory: string } | { kind: 'remove' };

/** ClamAV tries `name`, then `name.001` … `name.999` in the quarantine directory. */
const MAX_NAME_ATTEMPTS = 1000;

/**
 * What clamscan does with an infected file (`--move`, `--copy`, `--remove`), done so that no data
 * is lost: a destination is never overwritten (O_EXCL, numbered names), a move links or fully
 * copies the file before the original is unlinked, and any failure leaves the original in place.
 */
export class Quarantine {
  /** Files that could not be moved or copied, and files that could not be removed. */
  notMoved = 0;
  notRemoved = 0;

  private constructor(
    private readonly mode: QuarantineMode,
    private readonly out: ToolOutput,
    /** The quarantine directory's real path. */
    private readonly target: string,
  ) {}

  /** Checks the destination like ClamAV's action setup; undefined (after a message) when unusable. */
  static setUp(mode: QuarantineMode, out: ToolOutput): Quarantine | undefined {
    if (mode.kind === 'remove') return new Quarantine(mode, out, '');
    let target: string;
    try {
      target = realpathSync(mode.directory);
    } catch {
      out.info(`action_setup: Failed to get realpath of ${mode.directory}`);
      return undefined;
    }
    if (!isDirectory(target)) {
      out.error(`'${target}' doesn't exist or is not a directory`);
      return undefined;
    }
    // Prove the directory is writable before scanning, as ClamAV does with its lock file.
    const probe = join(target, `.clamav-quarantine-lock.${process.pid}.0`);
    try {
      closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
      unlinkSync(probe);
    } catch (error) {
      out.info(`action_setup: Failed to create quarantine lock file in ${target}: ${errnoMessage(error)}`);
      return undefined;
    }
    return new Quarantine(mode, out, target);
  }

  /** Acts on one infected file; `displayPath` is the path as clamscan printed it. */
  apply(displayPath: string): void {
    let realPath: string;
    try {
      realPath = realpathSync(displayPath);
    } catch {
      realPath = displayPath;
    }
    const shown = realPath === displayPath ? displayPath : `${displayPath} (real path: '${realPath}')`;
    switch (this.mode.kind) {
      case 'remove':
        return this.remove(realPath, shown);
      case 'move':
        return this.move(realPath, shown);
      case 'copy':
        return this.copy(realPath, shown);
    }
  }

  private remove(realPath: string, shown: string): void {
    try {
      unlinkSync(realPath);
      this.out.info(`${shown}: Removed.`);
    } catch {
      this.out.error(`Can't remove file '${quoteShown(shown)}`);
      this.notRemoved++;
    }
  }

  private move(realPath: string, shown: string): void {
    const linked = this.placeUnderFreeName(realPath, (dest) => linkSync(realPath, dest));
    if (linked.ok) {
      try {
        unlinkSync(realPath);
        this.out.info(`${shown}: moved to '${linked.dest}'`);
      } catch (error) {
        safeUnlink(linked.dest);
        this.out.error(`Can't unlink '${quoteShown(shown)} after linking into quarantine: ${errnoMessage(error)}`);
        this.notMoved++;
      }
      return;
    }
    // Hard links cannot cross filesystems: copy completely, then remove the original.
    const copied = this.copyToFreeName(realPath);
    if (!copied.ok) {
      this.reportCopyFailure('move', shown, copied.dest);
      return;
    }
    try {
      unlinkSync(realPath);
      this.out.info(`${shown}: moved to '${copied.dest}'`);
    } catch (error) {
      safeUnlink(copied.dest);
      this.out.error(`Can't unlink '${quoteShown(shown)} after copy: ${errnoMessage(error)}`);
      this.notMoved++;
    }
  }

  private copy(realPath: string, shown: string): void {
    const copied = this.copyToFreeName(realPath);
    if (copied.ok) this.out.info(`${shown}: copied to '${copied.dest}'`);
    else this.reportCopyFailure('copy', shown, copied.dest);
  }

  private reportCopyFailure(verb: 'move' | 'copy', shown: string, dest: string | undefined): void {
    this.out.error(
      dest
        ? `Can't ${verb} file '${quoteShown(shown)} to '${dest}'`
        : `Can't ${verb} file '${quoteShown(shown)}: quarantine destination '${this.target}' is unavailable`,
    );
    this.notMoved++;
  }

  private copyToFreeName(source: string): { ok: boolean; dest?: string } {
    return this.placeUnderFreeName(source, (dest) => {
      try {
        copyFileSync(source, dest, constants.COPYFILE_EXCL);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') safeUnlink(dest);
        throw error;
      }
    });
  }

  /**
   * Runs `place(dest)` for `name`, `name.001`, … until one does not exist yet. Returns the
   * destination that worked, or the last one tried when placing failed for another reason.
   */
  private placeUnderFreeName(source: string, place: (dest: string) => void): { ok: boolean; dest?: string } {
    const name = basename(source);
    let dest: string | undefined;
    for (let attempt = 0; attempt < MAX_NAME_ATTEMPTS; attempt++) {
      dest = join(this.target, attempt === 0 ? name : `${name}.${String(attempt).padStart(3, '0')}`);
      try {
        place(dest);
        return { ok: true, dest };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return { ok: false, dest };
      }
    }
    return { ok: false };
  }
}

/** `file' (real path: 'x')` as ClamAV quotes it inside its error messages. */
function quoteShown(shown: string): string {
  const marker = " (real path: '";
  const at = shown.indexOf(marker);
  return at < 0 ? `${shown}'` : `${shown.slice(0, at)}'${shown.slice(at, -1)})`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function safeUnlink(path: string | undefined): void {
  if (!path) return;
  try {
    unlinkSync(path);
  } catch {
    // Nothing was left behind, or it cannot be helped: the original file is still in place.
  }
}

/**
 * The quarantine `--move`/`--copy`/`--remove` ask for: undefined when none, null when the
 * destination failed ClamAV's setup checks (the message is printed; the tool exits with 2).
 */
export function quarantineFromOptions(options: ParsedCommandLine, out: ToolOutput): Quarantine | undefined | null {
  let mode: QuarantineMode | undefined;
  const move = options.string('move');
  const copy = options.string('copy');
  if (move !== undefined) mode = { kind: 'move', directory: move };
  else if (copy !== undefined) mode = { kind: 'copy', directory: copy };
  else if (options.bool('remove')) mode = { kind: 'remove' };
  if (!mode) return undefined;
  return Quarantine.setUp(mode, out) ?? null;
}
