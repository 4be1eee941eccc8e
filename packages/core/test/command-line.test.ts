import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandLineError, parseCommandLine } from '../src/config/command-line.js';

function errorLines(argv: string[]): string[] {
  try {
    parseCommandLine('clamscan', argv);
  } catch (error) {
    assert.ok(error instanceof CommandLineError);
    return error.lines;
  }
  assert.fail('expected a command-line error');
}

describe('command line (getopt_long over the option schema)', () => {
  it('reads long options with = or a separate argument, and mixes operands and options', () => {
    const parsed = parseCommandLine('clamscan', ['a', '--database=x.hdb', 'b', '--database', 'y.hdb', '-r', 'c']);
    assert.deepEqual(parsed.strings('database'), ['x.hdb', 'y.hdb']);
    assert.deepEqual(parsed.operands, ['a', 'b', 'c']);
    assert.equal(parsed.bool('recursive'), true);
  });

  it('groups short options and takes glued or following arguments', () => {
    const parsed = parseCommandLine('clamscan', ['-ril', 'log.txt', '-dDB']);
    assert.equal(parsed.bool('recursive'), true);
    assert.equal(parsed.bool('infected'), true);
    assert.equal(parsed.string('log'), 'log.txt');
    assert.deepEqual(parsed.strings('database'), ['DB']);
  });

  it('takes =yes/no on booleans only after =, and falls back to the schema defaults', () => {
    const parsed = parseCommandLine('clamscan', ['--recursive=no', '--cross-fs=no', 'file']);
    assert.equal(parsed.bool('recursive'), false);
    assert.equal(parsed.bool('cross-fs'), false);
    assert.deepEqual(parsed.operands, ['file']);
    const defaults = parseCommandLine('clamscan', []);
    assert.equal(defaults.bool('cross-fs'), true);
    assert.equal(defaults.number('follow-dir-symlinks'), 1);
    assert.equal(defaults.number('max-dir-recursion'), 15);
    assert.equal(defaults.has('max-filesize'), false);
  });

  it('accepts unique prefixes of long options and converts sizes with K/M/G', () => {
    const parsed = parseCommandLine('clamscan', ['--recur', '--max-files=7', '--max-filesize=2M', '--max-scansize=3k']);
    assert.equal(parsed.bool('recursive'), true);
    assert.equal(parsed.number('max-files'), 7);
    assert.equal(parsed.number('max-filesize'), 2 * 1024 * 1024);
    assert.equal(parsed.number('max-scansize'), 3 * 1024);
  });

  it('ends options at --', () => {
    assert.deepEqual(parseCommandLine('clamscan', ['--', '-r', '--x']).operands, ['-r', '--x']);
  });

  it('reports errors with the lines ClamAV prints', () => {
    assert.deepEqual(errorLines(['--foo']), ["clamscan: unrecognized option `--foo'", 'ERROR: Unknown option passed']);
    assert.deepEqual(errorLines(['-Q']), ['clamscan: illegal option -- Q', 'ERROR: Unknown option passed']);
    assert.deepEqual(errorLines(['-d']), [
      'clamscan: option requires an argument -- d',
      'ERROR: Incomplete option passed (missing argument)',
    ]);
    assert.deepEqual(errorLines(['--max-filesize=abc']), ['ERROR: Incorrect argument format for option --max-filesize']);
    assert.deepEqual(errorLines(['--recursive=maybe']), ['ERROR: Incorrect argument format for option --recursive (-r)']);
    assert.deepEqual(errorLines(['--database=']), ['ERROR: Option --database (-d) requires a non-empty string argument']);
    assert.deepEqual(errorLines(['--max']), ["clamscan: option `--max' is ambiguous", 'ERROR: Unknown option passed']);
  });
});
