/**
 * ClamTS clamdscan against real ClamAV clamdscan, both talking to one real clamd: the same
 * command must give the same output lines (times aside), error lines and exit code, in every way
 * clamdscan can reach clamd — paths (default, -m), streams (--stream, --stream -m) and passed
 * descriptors (--fdpass, --fdpass -m) — on clean, infected, empty, missing and unreadable files,
 * directories and standard input. Needs real clamd and clamdscan; skipped otherwise.
 *
 * With --multiscan, clamd answers in whatever order its threads finish, so those outputs are
 * compared as sorted lines.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { comparable, runClamAV, runClamTS, type ToolRun } from '../support/run-tool.js';
import { HAVE_REAL_CLAMD, startRealClamd, type RealClamd } from '../clamdscan/real-clamd.js';

const INFECTED = 'ClamTS clamdscan conformance: a file the test database flags by its hash\n';
const BODY_MARKER = 'clamts-body-signature-marker';
const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const hex = (text: string) => Buffer.from(text).toString('hex');

let clamd: RealClamd;

describe('clamdscan conformance: every mode against real clamd', { skip: HAVE_REAL_CLAMD ? false : 'real clamd/clamdscan are not installed' }, () => {
  before(async () => {
    clamd = await startRealClamd({
      database: {
        'test.hdb': `${md5(INFECTED)}:${Buffer.byteLength(INFECTED)}:ClamTS.Test.Hash\n`,
        'test.ndb': `ClamTS.Test.Body:0:*:${hex(BODY_MARKER)}\n`,
      },
    });
    const files = join(clamd.dir, 'files');
    mkdirSync(join(files, 'sub'), { recursive: true, mode: 0o755 });
    writeFileSync(join(files, 'clean.txt'), 'nothing to see here\n');
    writeFileSync(join(files, 'infected.bin'), INFECTED);
    writeFileSync(join(files, 'body.txt'), `some text ${BODY_MARKER} more text\n`);
    writeFileSync(join(files, 'empty'), '');
    writeFileSync(join(files, 'unreadable'), INFECTED, { mode: 0o000 });
    chmodSync(join(files, 'unreadable'), 0o000);
    writeFileSync(join(files, 'sub', 'infected-too.bin'), INFECTED);
    writeFileSync(join(files, 'sub', 'notes.md'), '# notes\n');
    // Readable by the tests, not by a clamd that dropped its privileges.
    mkdirSync(join(files, 'locked'), { mode: 0o700 });
    writeFileSync(join(files, 'locked', 'infected.bin'), INFECTED);
    chmodSync(join(files, 'locked'), 0o700);
    mkdirSync(join(clamd.dir, 'cleandir', 'inner'), { recursive: true, mode: 0o755 });
    writeFileSync(join(clamd.dir, 'cleandir', 'a.txt'), 'a\n');
    writeFileSync(join(clamd.dir, 'cleandir', 'inner', 'b.txt'), 'b\n');
    writeFileSync(join(clamd.dir, 'list.txt'), 'files/clean.txt\nfiles/missing\n-\nfiles/sub\n');
  });
  after(() => clamd?.stop());

  const modes: string[][] = [[], ['-m'], ['--stream'], ['--fdpass'], ['--stream', '-m'], ['--fdpass', '-m']];
  // The daemon's directory only exists once the tests run, hence functions.
  // [what, arguments, a line real clamdscan must print (so that agreeing on a failure is no pass)]
  const targets: Array<[string, () => string[], RegExp]> = [
    [
      'clean, infected, empty, missing and unreadable files',
      () => ['files/clean.txt', 'files/infected.bin', 'files/body.txt', 'files/empty', 'files/missing', 'files/unreadable'],
      /\/files\/body\.txt: ClamTS\.Test\.Body\.UNOFFICIAL FOUND$/m,
    ],
    ['a directory tree with an unreadable file and directory', () => ['files'], /\/files\/sub\/infected-too\.bin: ClamTS\.Test\.Hash\.UNOFFICIAL FOUND$/m],
    ['a clean directory, named with a trailing slash', () => ['cleandir/'], /\/cleandir: OK$/m],
    ['an absolute path with doubled slashes', () => [`${clamd.dir}//files//sub//`], /infected-too\.bin: ClamTS\.Test\.Hash\.UNOFFICIAL FOUND$/m],
  ];
  for (const mode of modes) {
    const label = mode.length ? mode.join(' ') : 'default';
    for (const [what, args, expected] of targets) {
      it(`${label}: ${what}`, () => compare([...mode, ...args()], mode.includes('-m'), undefined, expected));
    }
    it(`${label}: standard input`, () => compare([...mode, '-'], false, INFECTED, /ClamTS\.Test\.Hash\.UNOFFICIAL FOUND$/m));
  }

  const extras: Array<[string, string[], boolean?]> = [
    ['-i leaves out OK lines', ['-i', 'files', 'cleandir', 'files/clean.txt']],
    ['--no-summary', ['--no-summary', 'files/clean.txt', 'files/missing']],
    ['-z (ALLMATCHSCAN, walked by the client)', ['-z', 'files', 'files/infected.bin', 'files/infected.bin']],
    ['--file-list with a missing entry and a dash', ['-f', 'list.txt', 'files/infected.bin']],
    ['--quiet', ['--quiet', 'files']],
    ['--stdout', ['--stdout', 'files/missing', 'files/infected.bin']],
    ['--version asks clamd', ['--version']],
    ['--ping', ['--ping', '2:1']],
    ['--wait', ['--wait', 'files/infected.bin']],
    ['-v', ['-v', 'files/clean.txt']],
  ];
  for (const [what, args, sorted] of extras) {
    it(what, () => compare(args, sorted ?? false));
  }

  it('connects over TCP when clamd.conf names no LocalSocket', () => {
    const tcp = clamd.clientConfig('tcp.conf', [`TCPSocket ${clamd.port}`, 'TCPAddr 127.0.0.1']);
    compareWith(tcp, ['files/infected.bin', 'files/clean.txt']);
    compareWith(tcp, ['-m', 'files'], true);
    compareWith(tcp, ['-'], false, INFECTED);
  });

  it('reports an unreachable daemon the same way in every mode', () => {
    const gone = clamd.clientConfig('gone.conf', [`LocalSocket ${join(clamd.dir, 'no-such.sock')}`]);
    for (const mode of modes) compareWith(gone, [...mode, 'files', 'files/clean.txt']);
    compareWith(gone, ['--ping', '1']);
    compareWith(gone, ['--reload']);
  });

  it('falls back from a dead LocalSocket to TCP', () => {
    const fallback = clamd.clientConfig('fallback.conf', [
      `LocalSocket ${join(clamd.dir, 'no-such.sock')}`,
      `TCPSocket ${clamd.port}`,
      'TCPAddr 127.0.0.1',
    ]);
    compareWith(fallback, ['files/infected.bin', 'files/clean.txt']);
  });

  for (const action of [['--copy=quarantine'], ['--move=quarantine'], ['--remove']]) {
    for (const mode of [[], ['-m'], ['--stream']]) {
      it(`${action[0]} ${mode.join(' ')}: quarantines the same files with the same messages`, () => {
        const results = [runClamAV, runClamTS].map((runTool) => {
          const tree = freshQuarantineTree();
          const run = runTool('clamdscan', ['-c', clamd.config, ...action, ...mode, tree], { cwd: clamd.dir });
          return { run, listing: listing(join(clamd.dir, 'qtree')) + '|' + listing(join(clamd.dir, 'quarantine')) };
        });
        assert.deepEqual(normalise(results[1]!.run, true), normalise(results[0]!.run, true));
        assert.equal(results[1]!.listing, results[0]!.listing);
      });
    }
  }
});

function compare(args: string[], sorted: boolean, input?: string, expected?: RegExp): void {
  compareWith(clamd.config, args, sorted, input, expected);
}

function compareWith(config: string, args: string[], sorted = false, input?: string, expected?: RegExp): void {
  const argv = ['-c', config, ...args];
  const real = runClamAV('clamdscan', argv, { cwd: clamd.dir, input });
  const ours = runClamTS('clamdscan', argv, { cwd: clamd.dir, input });
  if (expected) assert.match(real.stdout, expected, 'real clamdscan did not scan as the test expects');
  assert.deepEqual(normalise(ours, sorted), normalise(real, sorted), `clamdscan ${argv.join(' ')}`);
}

function normalise(run: ToolRun, sorted: boolean) {
  const lines = (text: string) => (sorted ? comparable(text).sort() : comparable(text));
  return { status: run.status, stdout: lines(run.stdout), stderr: lines(run.stderr) };
}

/** A small tree with infected and clean files, and an empty quarantine directory. */
function freshQuarantineTree(): string {
  const tree = join(clamd.dir, 'qtree');
  const quarantine = join(clamd.dir, 'quarantine');
  rmSync(tree, { recursive: true, force: true });
  rmSync(quarantine, { recursive: true, force: true });
  mkdirSync(join(tree, 'deeper'), { recursive: true, mode: 0o755 });
  mkdirSync(quarantine, { mode: 0o755 });
  writeFileSync(join(tree, 'infected.bin'), INFECTED);
  writeFileSync(join(tree, 'clean.txt'), 'clean\n');
  writeFileSync(join(tree, 'deeper', 'also-infected.bin'), INFECTED);
  return tree;
}

function listing(dir: string): string {
  return readdirSync(dir, { recursive: true }).map(String).sort().join(',');
}
