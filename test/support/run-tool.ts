import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ToolRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs one of ClamTS's bin/ tools. */
export function runClamTS(tool: string, args: readonly string[], options: RunOptions = {}): ToolRun {
  return run(process.execPath, [`${REPO_ROOT}bin/${tool}`, ...args], options);
}

/** Runs a real ClamAV tool from PATH. */
export function runClamAV(tool: string, args: readonly string[], options: RunOptions = {}): ToolRun {
  return run(tool, args, options);
}

export interface RunOptions {
  cwd?: string;
  input?: string | Buffer;
  /** Most bytes of output kept (Node's default of 1 MiB is too few for long --debug runs). */
  maxBuffer?: number;
  /** Variables added to the environment (after the default TZ=UTC, which they may replace). */
  env?: Readonly<Record<string, string>>;
}

function run(command: string, args: readonly string[], options: RunOptions): ToolRun {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    input: options.input,
    encoding: 'latin1',
    env: { ...process.env, TZ: 'UTC', ...options.env },
    timeout: 60000,
    maxBuffer: options.maxBuffer,
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Is this program on PATH? */
export function haveTool(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/**
 * Output lines with the values that legitimately differ between two runs blanked: timings,
 * dates, and the engine version (ClamTS reports its own).
 */
export function comparable(text: string): string[] {
  return text
    .split('\n')
    .map((line) =>
      line
        .replace(/^(Time|Start Date|End Date|Engine version):.*$/, '$1: <varies>')
        .replace(/^(Data scanned|Data read):.*$/, '$1: <varies>'),
    );
}

/**
 * Runs real clamscan and ClamTS's with `args` and asserts the same report lines (in any order,
 * timings blanked as `comparable` does) and the same exit code.
 */
export function assertSameReports(args: readonly string[]): void {
  const real = runClamAV('clamscan', args);
  const ours = runClamTS('clamscan', args);
  assert.deepEqual(comparable(ours.stdout).sort(), comparable(real.stdout).sort(), 'the same reports');
  assert.equal(ours.status, real.status, 'the same exit code');
}
