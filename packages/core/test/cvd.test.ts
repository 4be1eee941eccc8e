/**
 * CVD/CLD/CUD containers.
 *
 * The real signed files come from ClamAV's own test data (../shared/sigs/clamav-cvd). Every
 * crafted container below states what ClamAV 1.4.6 prints when loading it (recorded from
 * `clamscan --no-summary -d FILE clean.txt`), and is also replayed against the installed clamscan
 * when there is one, so a wrong expectation shows up. Header fields were recorded from
 * `sigtool --info` and are replayed the same way.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { ClamError, strerror, type ClamErrorCode } from '../src/errors.js';
import {
  checkContainerEntry,
  ContainerLineReader,
  parseCvdHeader,
  readContainer,
  readCvdHead,
  verifyCvd,
  type ContainerKind,
  type CvdHeader,
} from '../src/signatures/cvd.js';
import { readTar, TAR_BLOCK_SIZE } from '../src/util/tar.js';
import { CaptureLogger } from './support/capture-logger.js';
import { tempDir } from './support/temp-dir.js';
import { needsSharedSigs, sharedSigs } from '../../../test/support/shared-sigs.js';

const SIGS = sharedSigs('clamav-cvd');
const installed = (tool: string) => spawnSync(tool, ['--version']).status === 0;
const needsClamscan = installed('clamscan') ? {} : { skip: 'clamscan is not installed' };
const needsSigtool = installed('sigtool') ? {} : { skip: 'sigtool is not installed' };
const needsTar = installed('tar') ? {} : { skip: 'tar is not installed' };

// ---------------------------------------------------------------------------------------------
// Real signed files
// ---------------------------------------------------------------------------------------------

/** `sigtool --info` of each file (it shows the first '-' of the time as ':'); timestamps from the header text. */
const REAL: Array<{ file: string; header: Omit<CvdHeader, 'digitalSignature'> }> = [
  { file: 'bytecode-19.cvd', header: { buildTime: '14 May 2010 09-57 -0400', version: 19, signatureCount: 3, functionalityLevel: 51, md5: 'f341ae79c7e73561b89d4e0b8f6a79c0', builder: 'nervous', buildTimestamp: 1273845430 } },
  { file: 'test-1.cvd', header: { buildTime: '22 Jun 2021 14-58 -0400', version: 1, signatureCount: 0, functionalityLevel: 81, md5: 'a4ab60ae1c1c4e8f787459102dcfd90b', builder: 'micasnyd', buildTimestamp: 1624388302 } },
  { file: 'test-2.cvd', header: { buildTime: '22 Jun 2021 16-55 -0400', version: 2, signatureCount: 0, functionalityLevel: 81, md5: '57ce21d16edad79ec53a16f03c96b680', builder: 'micasnyd', buildTimestamp: 1624395301 } },
  { file: 'test-3.cvd', header: { buildTime: '22 Jun 2021 20-40 -0400', version: 3, signatureCount: 11, functionalityLevel: 81, md5: '75c84c7f1a2d37d9c2a37b2bc9b3a670', builder: 'raynman', buildTimestamp: 1624408809 } },
  { file: 'test-4.cvd', header: { buildTime: '22 Jun 2021 21-29 -0400', version: 4, signatureCount: 12, functionalityLevel: 81, md5: '2c645dd81c87e46091e0cc136ae0b217', builder: 'micasnyd', buildTimestamp: 1624411776 } },
  { file: 'test-5.cvd', header: { buildTime: '22 Jun 2021 21-31 -0400', version: 5, signatureCount: 13, functionalityLevel: 81, md5: '4e5effe6a32ca5a4aa15a1384daae354', builder: 'micasnyd', buildTimestamp: 1624411902 } },
  { file: 'test-6.cvd', header: { buildTime: '22 Jun 2021 21-34 -0400', version: 6, signatureCount: 14, functionalityLevel: 81, md5: '3e249e00076b0b15bb54ced37be880c7', builder: 'micasnyd', buildTimestamp: 1624412045 } },
];

/** `tail -c +513 FILE | tar tzv`: names and sizes in archive order. */
const LISTINGS: Record<string, Array<[string, number]>> = {
  'bytecode-19.cvd': [['COPYING', 17992], ['bytecode.info', 736], ['767944.cbc', 7626], ['782872.cbc', 185167], ['767942.cbc', 8802], ['last.hdb', 114]],
  'test-6.cvd': [
    ['COPYING', 17992], ['test.info', 1802], ['test.cfg', 44], ['test.hdb', 113], ['test.hdu', 57], ['test.hsb', 89],
    ['test.hsu', 89], ['test.mdb', 60], ['test.mdu', 60], ['test.msb', 92], ['test.msu', 92], ['test.ndb', 671],
    ['test.ndu', 44], ['test.ldb', 176], ['test.ldu', 44], ['test.idb', 44], ['test.fp', 55], ['test.sfp', 87],
    ['test.crb', 44], ['test.cdb', 44],
  ],
};

/** libclamav's CLI_DBEXT: the files a container load reads and checks against the manifest. */
const CLI_DBEXT =
  /\.(db|hdb|hdu|fp|mdb|mdu|hsb|hsu|sfp|msb|msu|ndb|ndu|ldb|ldu|sdb|zmd|rmd|pdb|gdb|wdb|cbc|ftm|cfg|cvd|cld|cud|cdb|cat|crb|idb|ioc|yar|yara|pwdb|ign|ign2|imp)$/i;

const realFile = (file: string) => readFileSync(`${SIGS}/${file}`);
const kindOf = (file: string) => file.slice(-3) as ContainerKind;

/** Runs a container through what cli_cvdload does, checking each database file as the loader would. */
function load(data: Uint8Array, path: string, kind = kindOf(path)): { errors: string[]; code?: ClamErrorCode } {
  const logger = new CaptureLogger();
  try {
    const contents = readContainer(data, path, kind, logger);
    for (const entry of contents.entries) {
      if (CLI_DBEXT.test(entry.name)) checkContainerEntry(contents, entry, path, logger);
    }
    return { errors: logger.errors };
  } catch (error) {
    assert.ok(error instanceof ClamError, String(error));
    assert.equal(error.path, path);
    return { errors: logger.errors, code: error.code };
  }
}

/**
 * What clamscan prints loading one database: the signature-count pass's header lines (ending in
 * "cli_loaddbdir: error parsing header of"), then the load's lines, then "Can't load" and ERROR.
 */
function clamscan(path: string, dir: ReturnType<typeof tempDir>) {
  const clean = dir.write('clean.txt', 'nothing to see\n');
  const run = spawnSync('clamscan', ['--no-summary', '-d', path, clean], { encoding: 'latin1' });
  const lines = `${run.stderr}${run.stdout}`.split('\n');
  let errors = lines.filter((line) => line.startsWith('LibClamAV Error: ')).map((line) => line.slice(17));
  const countPassEnd = errors.findIndex((line) => line.startsWith('cli_loaddbdir: error parsing header of'));
  const countPass = errors.slice(0, countPassEnd + 1);
  errors = errors.slice(countPassEnd + 1);
  const final = lines.find((line) => line.startsWith('ERROR: '))?.slice(7);
  if (final !== undefined) assert.equal(errors.pop(), `Can't load ${path}: ${final}`);
  return { countPass, errors, final };
}

function sigtoolInfo(path: string): Record<string, string> {
  const run = spawnSync('sigtool', ['--info', path], { encoding: 'latin1' });
  return Object.fromEntries(
    run.stdout
      .split('\n')
      .filter((line) => line.includes(': '))
      .map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]),
  );
}

describe('real signed databases', needsSharedSigs, () => {
  for (const { file, header } of REAL) {
    it(`${file}: parses, verifies and unpacks`, () => {
      const data = realFile(file);
      const logger = new CaptureLogger();
      const contents = readContainer(data, file, 'cvd', logger);
      assert.deepEqual(logger.errors, []);
      const { digitalSignature, ...rest } = contents.header;
      assert.deepEqual(rest, header);
      assert.match(digitalSignature, /^[A-Za-z0-9+/]+$/);
      if (LISTINGS[file]) {
        assert.deepEqual(contents.entries.map((entry) => [entry.name, entry.data.length]), LISTINGS[file]);
      }
      for (const entry of contents.entries) {
        if (CLI_DBEXT.test(entry.name)) checkContainerEntry(contents, entry, file, logger);
      }
    });

    it(`${file}: header fields agree with sigtool --info`, needsSigtool, () => {
      const info = sigtoolInfo(`${SIGS}/${file}`);
      const parsed = parseCvdHeader(realFile(file), file);
      assert.deepEqual(
        {
          'Build time': parsed.buildTime.replace('-', ':'),
          Version: String(parsed.version),
          Signatures: String(parsed.signatureCount),
          'Functionality level': String(parsed.functionalityLevel),
          Builder: parsed.builder,
          MD5: parsed.md5,
          'Digital signature': parsed.digitalSignature,
        },
        {
          'Build time': info['Build time'],
          Version: info.Version,
          Signatures: info.Signatures,
          'Functionality level': info['Functionality level'],
          Builder: info.Builder,
          MD5: info.MD5,
          'Digital signature': info['Digital signature'],
        },
      );
      assert.deepEqual(readCvdHead(realFile(file), file), parsed);
    });

    it(`${file}: entries agree with tar`, needsTar, () => {
      const listing = spawnSync('tar', ['tzvf', '-'], { input: realFile(file).subarray(512), encoding: 'latin1' });
      const expected = listing.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => line.trim().split(/\s+/))
        .map((fields) => [fields[5], Number(fields[2])]);
      const entries = readContainer(realFile(file), file, 'cvd', new CaptureLogger()).entries;
      assert.deepEqual(entries.map((entry) => [entry.name, entry.data.length]), expected);
    });
  }

  it('logs the debug lines ClamAV logs while verifying', () => {
    const logger = new CaptureLogger(true);
    readContainer(realFile('test-6.cvd'), 'test-6.cvd', 'cvd', logger);
    const md5 = '3e249e00076b0b15bb54ced37be880c7';
    for (const line of [`MD5(.tar.gz) = ${md5}`, `cli_versig: Decoded signature: ${md5}`, 'cli_versig: Digital signature is correct.']) {
      assert.ok(logger.debugs.includes(line), line);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Building containers
// ---------------------------------------------------------------------------------------------

interface Test6 {
  readonly cvd: Buffer;
  readonly header: Buffer;
  readonly members: Map<string, Buffer>;
  /** The members' names in the container's order. */
  readonly order: string[];
  /** The names of the database files among them. */
  readonly databases: string[];
}

let test6Parts: Test6 | undefined;

/** test-6.cvd, the real signed container the crafted ones are built from, read on first use. */
function test6(): Test6 {
  if (test6Parts) return test6Parts;
  const cvd = realFile('test-6.cvd');
  const members = new Map(readTar(gunzipSync(cvd.subarray(512))).entries.map((e) => [e.name, Buffer.from(e.data)]));
  const order = [...members.keys()];
  return (test6Parts = { cvd, header: cvd.subarray(0, 512), members, order, databases: order.filter((name) => CLI_DBEXT.test(name)) });
}

type Member = [name: string, data: Uint8Array, type?: string];

function tarHeader(name: string, size: number, type = '0', sizeField?: string): Buffer {
  const block = Buffer.alloc(TAR_BLOCK_SIZE);
  block.write(name, 0, 'latin1');
  block.write('0000644\0', 100);
  block.write(sizeField ?? `${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  block.write(type, 156, 'latin1');
  block.write('ustar\u000000', 257);
  block.fill(0x20, 148, 156);
  block.write(`${block.reduce((sum, byte) => sum + byte, 0).toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}

function tar(members: Member[]): Buffer {
  const parts = members.flatMap(([name, data, type]) => [
    tarHeader(name, data.length, type),
    data,
    Buffer.alloc((TAR_BLOCK_SIZE - (data.length % TAR_BLOCK_SIZE)) % TAR_BLOCK_SIZE),
  ]);
  return Buffer.concat([...parts, Buffer.alloc(2 * TAR_BLOCK_SIZE)]);
}

const container = (body: Uint8Array, header: Uint8Array = test6().header) => Buffer.concat([header, body]);
const gz = (data: Uint8Array) => gzipSync(data);

/** test-6's members in order, some replaced. */
const members = (replace: Record<string, Uint8Array> = {}, order = test6().order): Member[] =>
  order.map((name) => [name, replace[name] ?? test6().members.get(name)!]);

const INFO_HEADER = 'ClamAV-VDB:22 Jun 2021 21-34 -0400:6:14:81:X:X:micasnyd:1624412045';
const infoLine = (name: string, data = test6().members.get(name)!) =>
  `${name}:${data.length}:${createHash('sha256').update(data).digest('hex')}`;

/** An unsigned manifest (what a `.cud` carries) for test-6's database files. */
function unsignedInfo(lines = [INFO_HEADER, ...test6().databases.map((name) => infoLine(name))]): Buffer {
  return Buffer.from(`${lines.join('\n')}\n`, 'latin1');
}

const cud = (replace: Record<string, Uint8Array> = {}) => members({ 'test.info': unsignedInfo(), ...replace });

function withByte(data: Uint8Array, offset: number, value: number): Buffer {
  const copy = Buffer.from(data);
  copy[offset] = value;
  return copy;
}

/** Replaces the first occurrence of `from` in the 512-byte header, keeping the padding. */
function editHeader(from: string, to: string, data: Uint8Array = test6().cvd): Buffer {
  const text = Buffer.from(data.subarray(0, 512)).toString('latin1').replace(from, to);
  return Buffer.concat([Buffer.from(text.padEnd(512, ' ').slice(0, 512), 'latin1'), data.subarray(512)]);
}

function headerOnly(text: string, body: Uint8Array): Buffer {
  return container(body, Buffer.from(text.padEnd(512, ' '), 'latin1'));
}

// ---------------------------------------------------------------------------------------------
// Crafted containers and what ClamAV says about them
// ---------------------------------------------------------------------------------------------

interface Case {
  title: string;
  /** The file name: its extension is the container kind. */
  file: string;
  bytes: () => Uint8Array;
  /** ClamAV's error lines while loading (without the final "Can't load FILE: …"). */
  errors: string[];
  /** The resulting error, absent when the container loads. */
  code?: ClamErrorCode;
}

const TAMPERED_INFO = (name: string) => [
  `Can't load ${name}: Malformed database`,
  `cli_tgzload: Can't load ${name}`,
];

/** A manifest bigger than ClamAV's 32 KiB read buffer: padding lines, then the real ones. */
function bigInfo(nulAcrossBufferEnd: boolean): Buffer {
  const pad = Array.from({ length: 400 }, (_, i) => `pad${String(i).padStart(4, '0')}.dat:1:${'0'.repeat(64)}`);
  const info = unsignedInfo([INFO_HEADER, ...pad, ...test6().databases.map((name) => infoLine(name))]);
  if (nulAcrossBufferEnd) {
    // A NUL in the line that straddles the end of the first 32768-byte read.
    const lineStart = info.lastIndexOf('\n', 32767) + 1;
    assert.ok(info.indexOf('\n', lineStart) > 32768);
    info[lineStart + 3] = 0;
  }
  return info;
}

const CASES: Case[] = [
  // .cvd: the header must match the body and be signed.
  { title: 'a body byte changed', file: 'tamp.cvd', bytes: () => withByte(test6().cvd, 600, test6().cvd[600]! ^ 1), errors: [], code: 'EVERIFY' },
  { title: 'the MD5 field changed', file: 'md5.cvd', bytes: () => editHeader(':3e249e', ':4e249e'), errors: [], code: 'EVERIFY' },
  {
    title: 'the signature field changed',
    file: 'sig.cvd',
    bytes: () => editHeader(':Dou6ICRT', ':Dou6IART'),
    errors: ['cli_decodesig: Resulting signature too large (128 vs 16).'],
    code: 'EVERIFY',
  },
  {
    title: 'a character outside the signature alphabet',
    file: 'ndecode.cvd',
    bytes: () => editHeader(':Dou6', ':Dou*'),
    errors: ['cli_ndecode: value out of range'],
    code: 'EVERIFY',
  },
  { title: 'a truncated file', file: 'trunc.cvd', bytes: () => test6().cvd.subarray(0, 3000), errors: [], code: 'EVERIFY' },
  { title: 'a header and no body', file: 'hdronly.cvd', bytes: () => test6().cvd.subarray(0, 512), errors: [], code: 'EVERIFY' },
  { title: 'an empty file', file: 'empty.cvd', bytes: () => new Uint8Array(0), errors: ["cli_cvdverify: Can't read CVD header"], code: 'ECVD' },
  { title: 'a short file', file: 'short.cvd', bytes: () => test6().cvd.subarray(0, 100), errors: ["cli_cvdverify: Can't read CVD header"], code: 'ECVD' },
  {
    title: 'random bytes',
    file: 'random.cvd',
    bytes: () => Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919 + 13) & 0xff)),
    errors: ['cli_cvdparse: Not a CVD file'],
    code: 'ECVD',
  },
  {
    title: 'a header missing the builder',
    file: 'nobuilder.cvd',
    bytes: () => headerOnly('ClamAV-VDB:22 Jun 2021 21-34 -0400:6:14:81:3e249e00076b0b15bb54ced37be880c7:Dou6', test6().cvd.subarray(512)),
    errors: ["cli_cvdparse: Can't parse the builder name"],
    code: 'ECVD',
  },

  // .cld: header MD5 and signature are not checked; the signed manifest protects the content.
  { title: 'a renamed .cvd', file: 'ok.cld', bytes: () => test6().cvd, errors: [] },
  { title: 'MD5 and signature fields changed', file: 'fields.cld', bytes: () => editHeader(':Dou6ICRT', ':Dou6IART', editHeader(':3e249e', ':4e249e')), errors: [] },
  { title: 'an uncompressed archive', file: 'raw.cld', bytes: () => container(tar(members())), errors: [] },
  {
    title: 'a corrupted gzip stream',
    file: 'gztamp.cld',
    bytes: () => withByte(test6().cvd, 600, test6().cvd[600]! ^ 1),
    errors: ['cli_tgzload: Incomplete block read'],
    code: 'EMALFDB',
  },
  { title: 'an extra file that is not a database', file: 'readme.cld', bytes: () => container(gz(tar([...members(), ['README', Buffer.from('hello')]]))), errors: [] },
  {
    title: 'an extra database missing from the manifest',
    file: 'extra.cld',
    bytes: () => container(gz(tar([...members(), ['extra.ndb', Buffer.from('Test:0:*:41414141\n')]]))),
    errors: ['cli_tgzload: File extra.ndb not found in .info'],
    code: 'EMALFDB',
  },
  {
    title: 'a manifest line changed under its signature',
    file: 'badsig.cld',
    bytes: () => container(gz(tar(members({ 'test.info': Buffer.from(test6().members.get('test.info')!.toString('latin1').replace('test.cfg:44', 'test.cfg:45'), 'latin1') })))),
    errors: ['cli_loadinfo: Incorrect digital signature', 'cli_loadinfo: Problem parsing database at line 20', ...TAMPERED_INFO('test.info')],
    code: 'EMALFDB',
  },
  {
    title: 'a manifest without its DSIG line',
    file: 'nodsig.cld',
    bytes: () => {
      const info = test6().members.get('test.info')!;
      return container(gz(tar(members({ 'test.info': info.subarray(0, info.indexOf('DSIG:')) }))));
    },
    errors: ['cli_loadinfo: Digital signature not found', ...TAMPERED_INFO('test.info')],
    code: 'EMALFDB',
  },
  {
    title: 'a bad manifest line before the DSIG line (reported as a missing signature)',
    file: 'badline.cld',
    bytes: () => container(gz(tar(members({ 'test.info': Buffer.from(test6().members.get('test.info')!.toString('latin1').replace('test.cfg:44:', 'test.cfg:4x:'), 'latin1') })))),
    errors: ['cli_loadinfo: Invalid value in the size field', 'cli_loadinfo: Digital signature not found', ...TAMPERED_INFO('test.info')],
    code: 'EMALFDB',
  },
  {
    title: 'a DSIG with a character outside the alphabet',
    file: 'dsigchar.cld',
    bytes: () => container(gz(tar(members({ 'test.info': Buffer.from(test6().members.get('test.info')!.toString('latin1').replace('DSIG:Th3', 'DSIG:Th*'), 'latin1') })))),
    errors: ['cli_ndecode: value out of range', 'cli_loadinfo: Incorrect digital signature', 'cli_loadinfo: Problem parsing database at line 20', ...TAMPERED_INFO('test.info')],
    code: 'EMALFDB',
  },
  {
    title: 'an entry of an unknown type',
    file: 'type7.cld',
    bytes: () => container(gz(tar([...members().slice(0, 3), ['link', Buffer.alloc(0), '7'], ...members().slice(3)]))),
    errors: ["cli_tgzload: Unknown type flag '7'"],
    code: 'EMALFDB',
  },
  { title: 'a header-only file', file: 'bodyless.cld', bytes: () => test6().cvd.subarray(0, 512), errors: [], code: 'EFORMAT' },
  { title: 'a 6-byte body', file: 'tiny.cld', bytes: () => test6().cvd.subarray(0, 518), errors: [], code: 'EFORMAT' },

  // .cud: nothing is signed, and a DSIG line is not allowed.
  { title: 'an unsigned manifest', file: 'ok.cud', bytes: () => container(gz(tar(cud()))), errors: [] },
  {
    title: 'a renamed .cvd (its DSIG line is a malformed entry)',
    file: 'signed.cud',
    bytes: () => test6().cvd,
    errors: ['cli_loadinfo: Problem parsing database at line 20', ...TAMPERED_INFO('test.info')],
    code: 'EMALFDB',
  },
  {
    title: 'a database that does not match its hash',
    file: 'hash.cud',
    bytes: () => container(gz(tar(cud({ 'test.hdb': Buffer.from(test6().members.get('test.hdb')!.toString('latin1').replace('a', 'b'), 'latin1') })))),
    errors: ['cli_tgzload: Invalid checksum for file test.hdb'],
    code: 'EMALFDB',
  },
  {
    title: 'a database missing from the manifest',
    file: 'missing.cud',
    bytes: () => container(gz(tar(cud({ 'test.info': unsignedInfo([INFO_HEADER, ...test6().databases.filter((n) => n !== 'test.hdb').map((n) => infoLine(n))]) })))),
    errors: ['cli_tgzload: File test.hdb not found in .info'],
    code: 'EMALFDB',
  },
  {
    title: 'a wrong gzip CRC',
    file: 'crc.cud',
    bytes: () => {
      const body = gz(tar(cud()));
      return container(withByte(body, body.length - 8, body[body.length - 8]! ^ 1));
    },
    errors: ['cli_tgzload: Incomplete block read'],
    code: 'EMALFDB',
  },
  { title: 'garbage after the gzip stream', file: 'trailing.cud', bytes: () => container(Buffer.concat([gz(tar(cud())), Buffer.from('garbage after gzip')])), errors: [] },
  { title: 'two gzip members', file: 'members.cud', bytes: () => { const t = tar(cud()); return container(Buffer.concat([gz(t.subarray(0, 20000)), gz(t.subarray(20000))])); }, errors: [] },
  {
    title: 'an uncompressed archive not starting with COPYING',
    file: 'raw.cud',
    bytes: () => container(tar(members({ 'test.info': unsignedInfo() }, ['test.info', ...test6().order.filter((n) => n !== 'test.info')]))),
    errors: [],
  },
  {
    title: 'a cut gzip stream (the manifest is lost)',
    file: 'cutgz.cud',
    bytes: () => container(gz(tar(cud())).subarray(0, 1500)),
    errors: ['cli_cvdload: Corrupted CVD header'],
    code: 'EMALFDB',
  },
  {
    title: 'an archive cut inside a header after the manifest',
    file: 'cuthdr.cud',
    bytes: () => {
      const archive = tar(cud());
      const at = archive.indexOf(Buffer.from('test.hsb\0'));
      return container(archive.subarray(0, at + 100));
    },
    errors: ['cli_tgzload: Incomplete block read'],
    code: 'EMALFDB',
  },
  {
    title: 'an archive cut inside a database',
    file: 'cutdata.cud',
    bytes: () => {
      const archive = tar(cud());
      const at = archive.indexOf(Buffer.from('test.hdb\0'));
      // Past the first line (57 bytes), so ClamAV's hash loader reads one signature and stops.
      return container(archive.subarray(0, at + 512 + 80));
    },
    errors: ['cli_tgzload: File test.hdb not correctly loaded'],
    code: 'EMALFDB',
  },
  {
    title: 'a directory entry',
    file: 'dir.cud',
    bytes: () => container(gz(tar([...cud().slice(0, 1), ['adir', Buffer.alloc(0), '5'], ...cud().slice(1)]))),
    errors: ['cli_tgzload: Directories are not supported in CVD'],
    code: 'EMALFDB',
  },
  {
    title: 'a name with a slash',
    file: 'slash.cud',
    bytes: () => container(gz(tar([...cud().slice(0, 1), ['a/b', Buffer.from('x')], ...cud().slice(1)]))),
    errors: ['cli_tgzload: Slash separators are not allowed in CVD'],
    code: 'EMALFDB',
  },
  {
    title: 'a GNU long-name record',
    file: 'longname.cud',
    bytes: () => container(gz(tar([...cud().slice(0, 1), ['././@LongLink', Buffer.from(`${'x'.repeat(150)}\0`), 'L'], ...cud().slice(1)]))),
    errors: ['cli_tgzload: Slash separators are not allowed in CVD'],
    code: 'EMALFDB',
  },
  {
    title: 'a long-name type without a slash',
    file: 'typeL.cud',
    bytes: () => container(gz(tar([...cud().slice(0, 1), ['LongLink', Buffer.from(`${'x'.repeat(150)}\0`), 'L'], ...cud().slice(1)]))),
    errors: ["cli_tgzload: Unknown type flag 'L'"],
    code: 'EMALFDB',
  },
  {
    title: 'an unreadable size',
    file: 'size.cud',
    bytes: () => {
      const archive = tar(cud());
      archive.write('zzzzzzzzzzz\0', 124, 'latin1');
      return container(gz(archive));
    },
    errors: ['cli_tgzload: Invalid size in header'],
    code: 'EMALFDB',
  },
  {
    title: 'a bad entry after a manifest that does not match (the manifest is checked first)',
    file: 'order.cud',
    bytes: () => {
      const info = unsignedInfo([INFO_HEADER.replace(':6:14:', ':7:14:'), ...test6().databases.map((n) => infoLine(n))]);
      return container(gz(tar([...cud({ 'test.info': info }).slice(0, 2), ['a/b', Buffer.from('x')], ...cud().slice(2)])));
    },
    errors: ['cli_cvdload: Corrupted CVD header'],
    code: 'EMALFDB',
  },
  {
    title: 'a manifest header that does not match',
    file: 'version.cud',
    bytes: () => container(gz(tar(cud({ 'test.info': unsignedInfo([INFO_HEADER.replace(':6:14:', ':7:14:'), ...test6().databases.map((n) => infoLine(n))]) })))),
    errors: ['cli_cvdload: Corrupted CVD header'],
    code: 'EMALFDB',
  },
  {
    title: 'a container header without the seconds field',
    file: 'oldheader.cud',
    bytes: () => headerOnly(INFO_HEADER.replace(':1624412045', ''), gz(tar(cud()))),
    errors: ['cli_cvdload: Corrupted CVD header'],
    code: 'EMALFDB',
  },
  {
    title: 'a header whose seconds follow a newline (kept when loading)',
    file: 'newline.cud',
    bytes: () => headerOnly(INFO_HEADER.replace(':1624412045', '\n:1624412045'), gz(tar(cud()))),
    errors: [],
  },
  { title: 'no manifest', file: 'noinfo.cud', bytes: () => container(gz(tar(cud().filter(([n]) => n !== 'test.info')))), errors: ['cli_cvdload: Corrupted CVD header'], code: 'EMALFDB' },
  { title: 'a manifest with only its header', file: 'hdrinfo.cud', bytes: () => container(gz(tar(cud({ 'test.info': unsignedInfo([INFO_HEADER]) })))), errors: ['cli_cvdload: dbinfo error'], code: 'EMALFDB' },
  {
    title: 'a malformed hash in the manifest',
    file: 'badhex.cud',
    bytes: () => container(gz(tar(cud({ 'test.info': Buffer.from(unsignedInfo().toString('latin1').replace('test.cfg:44:0', 'test.cfg:44:g'), 'latin1') })))),
    errors: ['cli_loadinfo: Malformed SHA256 string at line 2', 'cli_loadinfo: Problem parsing database at line 2', ...TAMPERED_INFO('test.info')],
    code: 'EMALFDB',
  },
  {
    title: 'a manifest not starting with its header',
    file: 'nohdr.cud',
    bytes: () => container(gz(tar(cud({ 'test.info': unsignedInfo(['junk', INFO_HEADER, ...test6().databases.map((n) => infoLine(n))]) })))),
    errors: ['cli_loadinfo: Incorrect file format', 'cli_loadinfo: Problem parsing database at line 1', ...TAMPERED_INFO('test.info')],
    code: 'EMALFDB',
  },
  {
    title: 'a manifest with two headers',
    file: 'twohdr.cud',
    bytes: () => container(gz(tar(cud({ 'test.info': unsignedInfo([INFO_HEADER, INFO_HEADER, ...test6().databases.map((n) => infoLine(n))]) })))),
    errors: ['cli_loadinfo: engine->dbinfo already initialized', 'cli_loadinfo: Problem parsing database at line 2', ...TAMPERED_INFO('test.info')],
    code: 'EMALFDB',
  },
  {
    title: 'a manifest with CRLF line ends',
    file: 'crlf.cud',
    bytes: () => container(gz(tar(cud({ 'test.info': Buffer.from(unsignedInfo().toString('latin1').replaceAll('\n', '\r\n'), 'latin1') })))),
    errors: [],
  },
  {
    title: 'a last manifest line without a newline (dropped)',
    file: 'nonl.cud',
    bytes: () => container(gz(tar(cud({ 'test.info': unsignedInfo().subarray(0, -1) })))),
    errors: ['cli_tgzload: File test.cdb not found in .info'],
    code: 'EMALFDB',
  },
  {
    title: 'a NUL byte in a manifest line (the rest is ignored)',
    file: 'nul.cud',
    bytes: () => {
      const info = unsignedInfo();
      info[info.indexOf('test.hsb')] = 0;
      return container(gz(tar(cud({ 'test.info': info }))));
    },
    errors: ['cli_tgzload: File test.hsb not found in .info'],
    code: 'EMALFDB',
  },
  {
    title: 'a manifest line of 8192 bytes',
    file: 'longline.cud',
    bytes: () => container(gz(tar(cud({ 'test.info': unsignedInfo([INFO_HEADER, infoLine('test.cfg'), 'x'.repeat(8192), ...test6().databases.slice(1).map((n) => infoLine(n))]) })))),
    errors: ['cli_dbgets: Line too long for provided buffer', 'cli_tgzload: File test.hdb not found in .info'],
    code: 'EMALFDB',
  },
  {
    title: 'a manifest line of 8191 bytes',
    file: 'line8191.cud',
    bytes: () => container(gz(tar(cud({ 'test.info': unsignedInfo([INFO_HEADER, infoLine('test.cfg'), 'x'.repeat(8191), ...test6().databases.slice(1).map((n) => infoLine(n))]) })))),
    errors: ['cli_loadinfo: Problem parsing database at line 3', ...TAMPERED_INFO('test.info')],
    code: 'EMALFDB',
  },
  { title: 'a manifest larger than the read buffer', file: 'biginfo.cud', bytes: () => container(gz(tar(cud({ 'test.info': bigInfo(false) })))), errors: [] },
  {
    title: 'a NUL in the manifest line that straddles the read buffer',
    file: 'bignul.cud',
    bytes: () => container(gz(tar(cud({ 'test.info': bigInfo(true) })))),
    errors: ['cli_dbgets: Invalid data or internal buffer too small', 'cli_tgzload: File test.fp not found in .info'],
    code: 'EMALFDB',
  },
];

describe('crafted containers load as in ClamAV', needsSharedSigs, () => {
  for (const c of CASES) {
    it(`${c.file}: ${c.title}`, () => {
      const result = load(c.bytes(), c.file);
      assert.deepEqual(result, c.code ? { errors: c.errors, code: c.code } : { errors: c.errors });
    });
  }

  it('agree with the installed clamscan', needsClamscan, () => {
    const dir = tempDir();
    for (const c of CASES) {
      const path = dir.write(c.file, c.bytes());
      const real = clamscan(path, dir);
      const ours = load(readFileSync(path), path);
      assert.deepEqual(
        { file: c.file, errors: ours.errors, final: ours.code && strerror(ours.code) },
        { file: c.file, errors: real.errors, final: real.final },
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Header reading for tools (cl_cvdhead) and the verification API
// ---------------------------------------------------------------------------------------------

describe('headers', () => {
  it('reads numbers like atoi into 32 bits, as sigtool --info shows them', () => {
    const head = readCvdHead(headerOnly('ClamAV-VDB:t-1:99999999999:-1:4294967297:X:X:b', new Uint8Array(0)), 'g.cud');
    assert.deepEqual(
      [head.version, head.signatureCount, head.functionalityLevel, head.builder, head.buildTimestamp],
      [1215752191, 4294967295, 1, 'b', 0],
    );
    const other = readCvdHead(headerOnly('ClamAV-VDB:t-1:-99999999999: 0x12:  \t7:X:X:b', new Uint8Array(0)), 'h.cud');
    assert.deepEqual([other.version, other.signatureCount, other.functionalityLevel], [3079215105, 0, 7]);
  });

  it('treats runs of colons as one separator and reads leading digits only', () => {
    const doubled = parseCvdHeader(headerOnly(INFO_HEADER.replace(':6:', '::6:'), new Uint8Array(0)), 'c.cud');
    assert.equal(doubled.version, 6);
    const signed = parseCvdHeader(headerOnly(INFO_HEADER.replace(':6:', ': +6x:'), new Uint8Array(0)), 'd.cud');
    assert.equal(signed.version, 6);
  });

  it('ends the header at a newline for tools but not when loading', () => {
    const data = headerOnly(INFO_HEADER.replace(':1624412045', '\n:1624412045'), new Uint8Array(0));
    assert.equal(readCvdHead(data, 'n.cud').buildTimestamp, 0);
    assert.equal(readCvdHead(data, 'n.cud').builder, 'micasnyd');
    assert.equal(parseCvdHeader(data, 'n.cud').buildTimestamp, 1624412045);
  });

  it('agrees with sigtool --info on odd headers', { ...needsSigtool, ...needsSharedSigs }, () => {
    const dir = tempDir();
    for (const text of ['ClamAV-VDB:t-1:99999999999:-1:4294967297:X:X:b', 'ClamAV-VDB:t-1:-99999999999: 0x12:  \t7:X:X:b', INFO_HEADER.replace(':6:', '::6:'), INFO_HEADER.replace(':6:', ': +6x:')]) {
      const path = dir.write('odd.cud', headerOnly(text, gz(tar(cud()))));
      const info = sigtoolInfo(path);
      const head = readCvdHead(readFileSync(path), path);
      assert.deepEqual(
        [String(head.version), String(head.signatureCount), String(head.functionalityLevel), head.builder],
        [info.Version, info.Signatures, info['Functionality level'], info.Builder],
      );
    }
  });

  const COUNT_PASS: Array<{ file: string; bytes: () => Uint8Array; errors: (path: string) => string[] }> = [
    { file: 'empty.cvd', bytes: () => new Uint8Array(0), errors: (path) => [`cl_cvdhead: Can't read CVD header in ${path}`] },
    { file: 'short.cvd', bytes: () => test6().cvd.subarray(0, 100), errors: () => ["cli_cvdparse: Can't parse the builder name"] },
    { file: 'random.cvd', bytes: () => Buffer.alloc(600, 0x41), errors: () => ['cli_cvdparse: Not a CVD file'] },
  ];

  it('reports unreadable headers like cl_cvdhead', needsSharedSigs, () => {
    for (const c of COUNT_PASS) {
      const logger = new CaptureLogger();
      assert.throws(() => readCvdHead(c.bytes(), c.file, logger), (e: unknown) => e instanceof ClamError && e.code === 'ECVD');
      assert.deepEqual(logger.errors, c.errors(c.file));
    }
  });

  it('reports unreadable headers like clamscan does while counting signatures', { ...needsClamscan, ...needsSharedSigs }, () => {
    const dir = tempDir();
    for (const c of COUNT_PASS) {
      const path = dir.write(c.file, c.bytes());
      const logger = new CaptureLogger();
      assert.throws(() => readCvdHead(c.bytes(), path, logger));
      assert.deepEqual([...logger.errors, `cli_loaddbdir: error parsing header of ${path}`], clamscan(path, dir).countPass);
    }
  });

  it('verifyCvd refuses a body that does not match, with no message', needsSharedSigs, () => {
    const header = parseCvdHeader(test6().cvd, 'x.cvd');
    const logger = new CaptureLogger();
    assert.throws(() => verifyCvd(withByte(test6().cvd, 9000, 0), header, 'x.cvd', logger), (e: unknown) => e instanceof ClamError && e.code === 'EVERIFY' && e.path === 'x.cvd');
    assert.deepEqual(logger.errors, []);
    verifyCvd(test6().cvd, header, 'x.cvd', logger);
  });

  it('checkContainerEntry skips size and hash when nothing was read', needsSharedSigs, () => {
    const contents = readContainer(test6().cvd, 'x.cvd', 'cvd', new CaptureLogger());
    const changed = { name: 'test.hdb', data: Buffer.from('other') };
    checkContainerEntry(contents, changed, 'x.cvd', new CaptureLogger(), 0);
    assert.throws(() => checkContainerEntry(contents, changed, 'x.cvd', new CaptureLogger()), /Malformed database/);
  });
});

// ---------------------------------------------------------------------------------------------
// Lines inside containers (cli_dbgets)
// ---------------------------------------------------------------------------------------------

describe('ContainerLineReader', () => {
  const read = (text: string | Uint8Array, maxLine?: number) => {
    const logger = new CaptureLogger();
    const reader = new ContainerLineReader(typeof text === 'string' ? Buffer.from(text, 'latin1') : text, logger, maxLine);
    const lines: string[] = [];
    for (let line = reader.next(); line; line = reader.next()) lines.push(Buffer.from(line).toString('latin1'));
    return { lines, errors: logger.errors, bytesRead: reader.bytesRead };
  };

  it('returns every line of a well-formed file across many buffer refills', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const lines = Array.from({ length: 400 }, () => 'y'.repeat(Math.floor(random() * 8191)));
    const text = `${lines.join('\n')}\n`;
    assert.deepEqual(read(text), { lines, errors: [], bytesRead: text.length });
  });

  it('drops a last line without newline and keeps CR', () => {
    assert.deepEqual(read('a\r\nb'), { lines: ['a\r'], errors: [], bytesRead: 4 });
  });

  it('refuses a file without any newline, and stops quietly at a later NUL', () => {
    assert.deepEqual(read('abc'), { lines: [], errors: ['cli_dbgets: Invalid data or internal buffer too small'], bytesRead: 3 });
    assert.deepEqual(read('a\nb\0c\nd\n'), { lines: ['a'], errors: [], bytesRead: 8 });
  });

  it('stops at a line as long as the caller buffer', () => {
    assert.deepEqual(read(`ok\n${'z'.repeat(10)}\nnext\n`, 10), { lines: ['ok'], errors: ['cli_dbgets: Line too long for provided buffer'], bytesRead: 19 });
    assert.deepEqual(read(`${'z'.repeat(9)}\n`, 10).lines, ['z'.repeat(9)]);
  });

  it('reads nothing from an empty file', () => {
    assert.deepEqual(read(''), { lines: [], errors: [], bytesRead: 0 });
  });
});
