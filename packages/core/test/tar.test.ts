/**
 * The in-memory tar reader. Well-formed archives are written by GNU tar (the oracle for names,
 * types, sizes and contents); damaged ones are built block by block from the format (POSIX ustar
 * and GNU tar's documented extensions) and must never make the reader throw or read too far.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readTar, TAR_BLOCK_SIZE, type TarListing } from '../src/util/tar.js';
import { tempDir } from './support/temp-dir.js';

const HAVE_GNU_TAR = /GNU tar/.test(spawnSync('tar', ['--version'], { encoding: 'utf8' }).stdout ?? '');
const needsTar = HAVE_GNU_TAR ? {} : { skip: 'GNU tar is not installed' };

const LONG_NAME = `${'long-directory-name/'.repeat(4)}${'f'.repeat(60)}.txt`; // 140 characters

/** Files of assorted sizes around the block size, a nested path too long for the name field, a directory. */
function sampleTree(root: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>([
    ['empty', Buffer.alloc(0)],
    ['one-block', Buffer.alloc(TAR_BLOCK_SIZE, 0x41)],
    ['odd-size', Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff))],
    [LONG_NAME, Buffer.from('deep\n')],
  ]);
  for (const [name, data] of files) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), data);
  }
  return files;
}

function gnuTar(format: 'gnu' | 'ustar', root: string): Buffer {
  const archive = join(root, '..', `${format}.tar`);
  const result = spawnSync(
    'tar',
    ['--format', format, '--sort=name', '--owner=0', '--group=0', '-cf', archive, '-C', root, '.'],
    { encoding: 'utf8' },
  );
  assert.equal(result.status, 0, result.stderr);
  return readFileSync(archive);
}

/** What GNU tar itself lists, to compare names with. */
function gnuTarNames(archive: Buffer, root: string): string[] {
  const path = join(root, '..', 'listed.tar');
  writeFileSync(path, archive);
  return spawnSync('tar', ['-tf', path], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
}

/** A header block built from the ustar layout, with a correct checksum unless told otherwise. */
function header(fields: { name: string; size?: number; sizeField?: Uint8Array; type?: string; prefix?: string }): Uint8Array {
  const block = new Uint8Array(TAR_BLOCK_SIZE);
  block.set(Buffer.from(fields.name, 'latin1'), 0);
  block.set(Buffer.from('0000644\0'), 100);
  block.set(fields.sizeField ?? Buffer.from(`${(fields.size ?? 0).toString(8).padStart(11, '0')}\0`), 124);
  block[156] = (fields.type ?? '0').charCodeAt(0);
  block.set(Buffer.from('ustar\u000000'), 257);
  if (fields.prefix) block.set(Buffer.from(fields.prefix), 345);
  block.fill(0x20, 148, 156);
  const sum = block.reduce((total, byte) => total + byte, 0);
  block.set(Buffer.from(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
  return block;
}

function archive(...parts: Uint8Array[]): Uint8Array {
  const padded = parts.map((part) => {
    const out = new Uint8Array(Math.ceil(part.length / TAR_BLOCK_SIZE) * TAR_BLOCK_SIZE);
    out.set(part);
    return out;
  });
  return Buffer.concat([...padded, new Uint8Array(2 * TAR_BLOCK_SIZE)]);
}

const names = (listing: TarListing) => listing.entries.map((entry) => entry.name);

describe('readTar on archives written by GNU tar', () => {
  for (const format of ['gnu', 'ustar'] as const) {
    it(`reads every name, type, size and byte of a ${format} archive`, needsTar, () => {
      const dir = tempDir();
      const root = join(dir.root, 'tree');
      const files = sampleTree(root);
      const tar = gnuTar(format, root);
      const listing = readTar(tar);

      assert.equal(listing.end, 'end-marker');
      assert.deepEqual(names(listing), gnuTarNames(tar, root));
      for (const entry of listing.entries) {
        assert.ok(entry.checksumValid, entry.name);
        const expected = files.get(entry.name.replace(/^\.\//, ''));
        if (entry.typeFlag === '5') {
          assert.ok(entry.name.endsWith('/'));
          assert.equal(entry.size, 0);
        } else {
          assert.equal(entry.typeFlag, '0');
          assert.ok(expected, `unexpected file ${entry.name}`);
          assert.equal(entry.size, expected.length);
          assert.deepEqual(Buffer.from(entry.data), expected);
        }
      }
      assert.ok(names(listing).includes(`./${LONG_NAME}`));
    });
  }

  it('returns GNU long-name records as plain entries when asked not to resolve them', needsTar, () => {
    const dir = tempDir();
    const root = join(dir.root, 'tree');
    sampleTree(root);
    const listing = readTar(gnuTar('gnu', root), { gnuLongNames: false });
    const record = listing.entries.find((entry) => entry.typeFlag === 'L');
    assert.ok(record);
    assert.equal(record.nameField, '././@LongLink');
    assert.equal(Buffer.from(record.data).toString('latin1'), `./${LONG_NAME}\0`);
    // The entry that follows carries only the truncated 100-byte name field.
    const next = listing.entries[listing.entries.indexOf(record) + 1]!;
    assert.equal(next.name, `./${LONG_NAME}`.slice(0, 100));
  });
});

describe('readTar on damaged archives', () => {
  const file = (name: string, text: string) => [header({ name, size: text.length }), Buffer.from(text)];
  const good = archive(...file('a.txt', 'alpha\n'), ...file('b.txt', 'x'.repeat(700)), ...file('c.txt', 'gamma\n'));

  it('reads nothing from empty input and stops on a short header', () => {
    assert.deepEqual(readTar(new Uint8Array(0)), { entries: [], end: 'eof', endOffset: 0 });
    assert.equal(readTar(new Uint8Array(100).fill(0x41)).end, 'truncated-header');
  });

  it('survives the archive cut at every offset, never returning bytes it does not have', () => {
    for (let cut = 0; cut <= good.length; cut += 37) {
      const input = good.subarray(0, cut);
      const listing = readTar(input);
      for (const entry of listing.entries) {
        assert.ok(entry.data.length <= entry.size);
        assert.ok(entry.offset + TAR_BLOCK_SIZE + entry.data.length <= cut);
      }
      const last = listing.entries.at(-1);
      if (listing.end === 'eof' && last && last.data.length < last.size) {
        assert.deepEqual(last.data, good.subarray(last.offset + TAR_BLOCK_SIZE, cut));
      }
      if (listing.end === 'truncated-header') assert.ok(cut - listing.endOffset < TAR_BLOCK_SIZE);
    }
  });

  it('keeps entries whose checksum is wrong, flagged', () => {
    const damaged = Uint8Array.from(good);
    damaged[0] = 'A'.charCodeAt(0);
    const listing = readTar(damaged);
    assert.deepEqual(names(listing), ['A.txt', 'b.txt', 'c.txt']);
    assert.deepEqual(
      listing.entries.map((entry) => entry.checksumValid),
      [false, true, true],
    );
  });

  it('never trusts a huge declared size', () => {
    const octal = readTar(archive(header({ name: 'big', sizeField: Buffer.from('77777777777\0') }), Buffer.from('tail')));
    assert.equal(octal.end, 'eof');
    assert.equal(octal.entries[0]!.size, 0o77777777777);
    assert.equal(octal.entries[0]!.data.length, 3 * TAR_BLOCK_SIZE); // everything after the header

    // GNU base-256: 0x80 marker then a big-endian number: 1 followed by ten zero bytes is 2^80.
    const base256 = Uint8Array.of(0x80, 1, ...new Array(10).fill(0));
    const huge = readTar(archive(header({ name: 'huge', sizeField: base256 })));
    assert.equal(huge.end, 'eof');
    assert.equal(huge.entries[0]!.size, 2 ** 80);
    assert.equal(readTar(archive(header({ name: 'huge', sizeField: base256 })), { base256Sizes: false }).end, 'invalid-size');
  });

  it('reads sizes with blanks, spaces or no terminator, and refuses fields with no digit or a negative size', () => {
    const sizeOf = (field: string | Uint8Array) => {
      const bytes = typeof field === 'string' ? Buffer.from(field, 'latin1') : field;
      return readTar(archive(header({ name: 'f', sizeField: bytes }), Buffer.alloc(64))).entries[0]?.size;
    };
    assert.equal(sizeOf('     17 \0\0\0\0'), 15);
    assert.equal(sizeOf('000000000017'), 15);
    assert.equal(sizeOf('00000000017\0'), 15);
    const invalid = readTar(archive(header({ name: 'bad', sizeField: Buffer.from('zzzzzzzzzzz\0'), type: '7' })));
    assert.deepEqual(
      { end: invalid.end, invalid: invalid.invalid, entries: invalid.entries },
      { end: 'invalid-size', invalid: { nameField: 'bad', typeFlag: '7' }, entries: [] },
    );
    assert.equal(readTar(archive(header({ name: 'blank', sizeField: new Uint8Array(12) }))).end, 'invalid-size');
    const negative = Uint8Array.of(0xff, ...new Array(11).fill(0xff));
    assert.equal(readTar(archive(header({ name: 'neg', sizeField: negative }))).end, 'invalid-size');
  });

  it('returns hostile names verbatim and joins the ustar prefix', () => {
    const listing = readTar(
      archive(
        ...file('../../etc/passwd', 'x'),
        ...file('/absolute', 'y'),
        header({ name: 'name.txt', prefix: 'some/prefix' }),
      ),
    );
    assert.deepEqual(names(listing), ['../../etc/passwd', '/absolute', 'some/prefix/name.txt']);
    assert.equal(listing.entries[2]!.nameField, 'name.txt');
  });

  it('stops at the first header whose name starts with NUL, even when other bytes are set', () => {
    const marker = header({ name: '', size: 5 });
    const listing = readTar(archive(...file('a.txt', 'alpha\n'), marker, ...file('hidden', 'h')));
    assert.deepEqual(names(listing), ['a.txt']);
    assert.equal(listing.end, 'end-marker');
    assert.equal(listing.endOffset, 2 * TAR_BLOCK_SIZE);
  });

  it('resolves a long-name record whose data is cut', () => {
    const longName = 'n'.repeat(300);
    const record = header({ name: '././@LongLink', size: longName.length + 1, type: 'L' });
    const listing = readTar(Buffer.concat([record, Buffer.from(longName.slice(0, 200))]));
    assert.deepEqual(listing, { entries: [], end: 'eof', endOffset: record.length + 200 });
  });
});
