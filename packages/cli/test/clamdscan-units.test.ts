/**
 * clamdscan's pure pieces: reading replies, choosing the scan type, trimming paths, walking
 * trees, the summary. The rules are ClamAV 1.4.6's (clamdscan/client.c, common/clamdcom.c,
 * libclamav's cli_ftw); the reply cases were recorded from real clamdscan against a scripted
 * daemon (test/clamdscan/protocol-edges.test.ts replays them end to end).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ToolOutput } from '../src/common/output.js';
import { clientNamesFiles, readScanReply, readSessionReply } from '../src/clamdscan/replies.js';
import { chooseScanType } from '../src/clamdscan/scan-client.js';
import { printSummary } from '../src/clamdscan/summary.js';
import { trimSlashes, walkTree, type WalkOptions, type WalkReason } from '../src/clamdscan/tree-walk.js';

describe('clamdscan: reading replies', () => {
  it('prints CONTSCAN replies as clamd sent them, cutting ExtendedDetectionInfo', () => {
    assert.deepEqual(readScanReply('/a/b: Eicar FOUND', 'CONT', '/a'), { kind: 'found', shown: '/a/b: Eicar FOUND' });
    assert.deepEqual(readScanReply('/a/b: Eicar(44d88612fea8a8f36de82e1278abb02f:68) FOUND', 'MULTI', '/a'), {
      kind: 'found',
      shown: '/a/b: Eicar FOUND',
    });
    assert.deepEqual(readScanReply('/x/y: lstat() failed: No such file or directory. ERROR', 'CONT', '/x'), {
      kind: 'error',
      shown: '/x/y: lstat() failed: No such file or directory. ERROR',
    });
    assert.deepEqual(readScanReply('/a/b: OK', 'CONT', '/a'), { kind: 'other' });
  });

  it("prints the client's own name with the verdict when it named the file", () => {
    assert.deepEqual(readScanReply('stream: Eicar FOUND', 'STREAM', '/f'), { kind: 'found', shown: '/f: Eicar FOUND' });
    assert.deepEqual(readScanReply('fd[12]: Eicar(aa:1) FOUND', 'FILDES', '/f'), { kind: 'found', shown: '/f: Eicar FOUND' });
    assert.deepEqual(readScanReply('/real/f: File path check failure: Permission denied. ERROR', 'ALLMATCH', '/f'), {
      kind: 'error',
      shown: '/f: Permission denied. ERROR',
    });
  });

  it('gives up on replies it cannot read, and ignores very short ones', () => {
    assert.deepEqual(readScanReply('UNKNOWN COMMAND', 'CONT', '/f'), {
      kind: 'unparsable',
      message: 'clamd replied "UNKNOWN COMMAND". Command was CONTSCAN',
    });
    assert.deepEqual(readScanReply('garbage', 'STREAM', '/f'), { kind: 'unparsable', message: 'Failed to parse reply: "garbage"' });
    assert.deepEqual(readScanReply('ab', 'CONT', '/f'), { kind: 'other' });
  });

  it('reads session replies from their last colon, without cutting anything', () => {
    assert.deepEqual(readSessionReply('3: stream: Bad.Thing(aa:3) FOUND', '/d/a'), { kind: 'found', shown: '/d/a:3) FOUND' });
    assert.deepEqual(readSessionReply('1: fd[9]: Access denied. ERROR', '/d/b'), { kind: 'error', shown: '/d/b: Access denied. ERROR' });
    assert.deepEqual(readSessionReply('2: stream: OK', '/d/c'), { kind: 'other' });
    assert.equal(readSessionReply('1  garbage', '/d/c').kind, 'unparsable');
  });

  it('lets ALLMATCHSCAN count as a client-named scan type, as in ClamAV', () => {
    assert.deepEqual(
      (['CONT', 'MULTI', 'STREAM', 'FILDES', 'ALLMATCH'] as const).map(clientNamesFiles),
      [false, false, true, true, true],
    );
  });
});

describe('clamdscan: choosing the scan type', () => {
  const base = { remote: false, canPassDescriptors: true, passRequested: false, streamRequested: false, multiscan: false, allmatch: false };
  it('sends paths unless something asks for passing or streaming', () => {
    assert.deepEqual(chooseScanType(base), { scanType: 'CONT', session: false });
    assert.deepEqual(chooseScanType({ ...base, multiscan: true }), { scanType: 'MULTI', session: false });
    assert.deepEqual(chooseScanType({ ...base, allmatch: true }), { scanType: 'ALLMATCH', session: false });
    assert.deepEqual(chooseScanType({ ...base, multiscan: true, allmatch: true }), { scanType: 'MULTI', session: false });
  });

  it('passes descriptors on a local socket, streams otherwise; -m makes it a session', () => {
    assert.deepEqual(chooseScanType({ ...base, passRequested: true }), { scanType: 'FILDES', session: false });
    assert.deepEqual(chooseScanType({ ...base, passRequested: true, multiscan: true }), { scanType: 'FILDES', session: true });
    assert.deepEqual(chooseScanType({ ...base, passRequested: true, remote: true }), { scanType: 'STREAM', session: false });
    assert.deepEqual(chooseScanType({ ...base, remote: true, multiscan: true }), { scanType: 'STREAM', session: true });
    assert.deepEqual(chooseScanType({ ...base, canPassDescriptors: false, passRequested: true, streamRequested: true }), {
      scanType: 'STREAM',
      session: false,
    });
    // --fdpass without descriptor passing: as a ClamAV built without it, paths are sent.
    assert.deepEqual(chooseScanType({ ...base, canPassDescriptors: false, passRequested: true }), { scanType: 'CONT', session: false });
  });
});

describe('clamdscan: paths and trees', () => {
  const roots: string[] = [];
  after(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

  it('trims slashes as cli_ftw does: trailing ones from the printed name too, leading ones only for the walk', () => {
    assert.deepEqual(trimSlashes('/tmp/a//b//'), { shown: '/tmp/a//b', walked: '/tmp/a//b' });
    assert.deepEqual(trimSlashes('//tmp/x/'), { shown: '//tmp/x', walked: '/tmp/x' });
    assert.deepEqual(trimSlashes('/'), { shown: '/', walked: '/' });
  });

  const options = (over: Partial<WalkOptions> = {}): WalkOptions => ({
    followDirectorySymlinks: false,
    followFileSymlinks: false,
    maxDepth: 15,
    excluded: () => false,
    onAbort: () => {},
    ...over,
  });
  async function walk(start: string, over: Partial<WalkOptions> = {}) {
    const visits: Array<[string, WalkReason]> = [];
    const status = await walkTree(start, options(over), async (path, reason) => {
      visits.push([path.slice(start.length), reason]);
      return 'continue';
    });
    return { status, visits };
  }

  it('visits files before subdirectories, each in inode order, and skips inner symlinks', async () => {
    const root = mkdtempSync(join(tmpdir(), 'clamts-walk-'));
    roots.push(root);
    for (const name of ['m', 'b', 'z', 'a']) writeFileSync(join(root, name), name);
    mkdirSync(join(root, 'dir1'));
    writeFileSync(join(root, 'dir1', 'inner'), 'x');
    mkdirSync(join(root, 'dir0'));
    symlinkSync(join(root, 'a'), join(root, 'link'));
    execFileSync('mkfifo', [join(root, 'fifo')]);

    const { visits } = await walk(root);
    const inode = (name: string) => lstatSync(join(root, name)).ino;
    const files = ['m', 'b', 'z', 'a'].sort((x, y) => inode(x) - inode(y)).map((name) => [`/${name}`, 'file']);
    const dirs = ['dir1', 'dir0'].sort((x, y) => inode(x) - inode(y));
    const expected = [
      ['', 'top-directory'],
      ['/fifo', 'skipped-special'],
      ...files,
      ...dirs.flatMap((dir) => (dir === 'dir1' ? [['/dir1/inner', 'file']] : [])),
    ];
    assert.deepEqual(visits, expected);
  });

  it('reports the starting path by kind: missing, a symlink not followed, a followed one', async () => {
    const root = mkdtempSync(join(tmpdir(), 'clamts-walk-'));
    roots.push(root);
    writeFileSync(join(root, 'f'), 'f');
    symlinkSync(join(root, 'f'), join(root, 'link'));
    assert.deepEqual((await walk(join(root, 'missing'))).visits, [['', 'error-stat']]);
    assert.deepEqual((await walk(join(root, 'link'))).visits, [['', 'skipped-link']]);
    assert.deepEqual((await walk(join(root, 'link'), { followFileSymlinks: true })).visits, [['', 'file']]);
  });

  it('stops descending at the depth limit, and leaves out excluded paths', async () => {
    const root = mkdtempSync(join(tmpdir(), 'clamts-walk-'));
    roots.push(root);
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    writeFileSync(join(root, 'a', 'b', 'deep'), 'x');
    writeFileSync(join(root, 'a', 'skip-me'), 'x');
    const { visits } = await walk(root, { maxDepth: 1, excluded: (path) => path.endsWith('skip-me') });
    assert.deepEqual(visits, [
      ['', 'top-directory'],
      ['/a/b', 'skipped-directory'],
    ]);
  });
});

describe('clamdscan: summary', () => {
  it("prints clamdscan's short block, with error and quarantine lines only when needed", () => {
    const lines: string[] = [];
    const out = new ToolOutput();
    out.info = (line: string) => void lines.push(line);
    const started = new Date(2024, 7, 20, 10, 5, 1);
    printSummary(out, {
      infected: 2,
      errors: 1,
      notRemoved: 0,
      notMoved: 3,
      started,
      startedAt: 0n,
      endedAt: 61_234_000_000n,
      ended: new Date(2024, 7, 20, 10, 6, 2),
    });
    assert.deepEqual(lines, [
      '',
      '----------- SCAN SUMMARY -----------',
      'Infected files: 2',
      'Total errors: 1',
      'Not moved: 3',
      'Time: 61.234 sec (1 m 1 s)',
      'Start Date: 2024:08:20 10:05:01',
      'End Date:   2024:08:20 10:06:02',
    ]);
  });
});
