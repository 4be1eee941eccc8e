/**
 * Authenticode verification of PE files (.crb certificate lists), compared with real clamscan:
 * files signed with osslsigncode by a test PKI made with openssl. A file signed by a chain the
 * .crb trusts is clean whatever matches it; an untrusted, expired, tampered or misplaced
 * signature changes nothing; a block-listed certificate is reported by the .crb entry's name.
 * The reports, the summary and the debug lines of the check must be ClamAV's.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { authenticodeDigest, buildCatalog, countersign, TestPki, unsignedPe, type TestCertificate } from '../../packages/core/test/fixtures/executables/authenticode-pki.js';
import { haveTool, runClamAV, runClamTS } from '../support/run-tool.js';

const skip = !haveTool('clamscan')
  ? 'real clamscan is not installed'
  : !haveTool('osslsigncode') || !haveTool('openssl')
    ? 'osslsigncode or openssl is not installed'
    : !haveTool('zip')
      ? 'zip is not installed'
      : false;

/** The debug lines of the check and of the .crb loader, and the end of a verified file's layer. */
const CHECK_LINE = /^LibClamAV (debug: (in asn1_|Descriptor\[-?\d+\]: halting after file scan because: The scanned object was verified|asn1_|crtmgr_|cli_check_auth_header|Authenticode:|_padding_check|cli_loadcrt|cli_ladcrt|cli_loadmscat|Failed to load certificates|Number of certs|cert:|  (subject|serial|pubkey|i|raw_subject|raw_serial|raw_issuer):|  =+RAW)|Error|Warning)/;

function checkLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => CHECK_LINE.test(line));
}

function reportLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => !/^(Time|Start Date|End Date|Engine version):/.test(line));
}

describe('Authenticode and .crb certificate lists, against real clamscan', { skip }, () => {
  let dir: string;
  const file = (name: string) => join(dir, name);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-authenticode-'));
    const pki = new TestPki(join(dir, 'pki'));
    const root = pki.root('ClamTS Test Root');
    const otherRoot = pki.root('ClamTS Other Root');
    const intermediate = pki.issue('ClamTS Test Intermediate', root, 'ca');
    const leaf = pki.issue('ClamTS Test Signer', intermediate, 'code');
    const sha1Leaf = pki.issue('ClamTS SHA1 Signer', intermediate, 'code', undefined, 'sha1');
    const expired = pki.issue('ClamTS Expired Signer', intermediate, 'code', { start: '20200101000000Z', end: '20210101000000Z' });
    const stamper = pki.issue('ClamTS Time Stamper', root, 'time');
    const chain = (signer: TestCertificate) => [signer, intermediate, root];
    // Validity within hours of now, and starting just after a daylight saving change (New York,
    // 2024-03-10 02:00 -> 03:00), so that the zone ClamAV's mktime reads them in decides.
    const hour = 3600_000;
    const endsSoon = pki.issue('ClamTS Ends Soon', intermediate, 'code', { start: '20200101000000Z', end: opensslTime(Date.now() + 3 * hour) });
    const startedRecently = pki.issue('ClamTS Started Recently', intermediate, 'code', { start: opensslTime(Date.now() - 3 * hour), end: '20491231000000Z' });
    const afterDstChange = pki.issue('ClamTS After DST Change', intermediate, 'code', { start: '20240310032000Z', end: '20240601000000Z' });

    const pe = unsignedPe(11);
    const signed = pki.sign(pe, leaf, chain(leaf));
    const expiredSigned = pki.sign(pe, expired, chain(expired));
    const files: Record<string, Uint8Array> = {
      'unsigned.exe': pe,
      'signed.exe': signed,
      'signed-sha1.exe': pki.sign(pe, sha1Leaf, chain(sha1Leaf), { hash: 'sha1' }),
      'no-root-embedded.exe': pki.sign(pe, leaf, [leaf, intermediate]),
      'expired.exe': expiredSigned,
      'expired-countersigned.exe': countersign(expiredSigned, stamper, { signingTime: '200601120000Z' }),
      'countersigned-outside.exe': countersign(expiredSigned, stamper, { signingTime: '220601120000Z' }),
      'countersigned-wrong-digest.exe': countersign(expiredSigned, stamper, { signingTime: '200601120000Z', wrongDigest: true }),
      'countersigned-by-code-signer.exe': countersign(expiredSigned, leaf, { signingTime: '200601120000Z' }),
      'countersigned-valid.exe': countersign(signed, stamper, { signingTime: '250601120000Z' }),
      'expired-rfc3161.exe': pki.sign(pe, expired, chain(expired), { timestamp: stamper }),
      'rfc3161.exe': pki.sign(pe, leaf, chain(leaf), { timestamp: stamper }),
      'tampered.exe': patched(signed, (view) => view.setUint8(0x700, view.getUint8(0x700) ^ 0xff)),
      'bad-revision.exe': patched(signed, (view, table) => view.setUint16(table + 4, 0x0100, true)),
      'bad-type.exe': patched(signed, (view, table) => view.setUint16(table + 6, 0x0001, true)),
      'ms13-098.exe': patched(signed, (view, table) => view.setUint32(table, view.getUint32(table, true) - 8, true)),
      'overlap.exe': patched(signed, (view) => {
        view.setUint32(securityEntry(view), 0x100, true);
        view.setUint32(securityEntry(view) + 4, view.byteLength - 0x100, true);
      }),
      'appended.exe': Buffer.concat([signed, Buffer.alloc(16, 0x41)]),
      'ends-soon.exe': pki.sign(pe, endsSoon, chain(endsSoon)),
      'started-recently.exe': pki.sign(pe, startedRecently, chain(startedRecently)),
      'stamped-in-dst-gap.exe': countersign(pki.sign(pe, afterDstChange, chain(afterDstChange)), stamper, { signingTime: '240310025000Z' }),
      'stamped-after-dst-change.exe': countersign(pki.sign(pe, afterDstChange, chain(afterDstChange)), stamper, { signingTime: '240310042000Z' }),
    };
    for (const [name, data] of Object.entries(files)) writeFileSync(file(name), data);

    const line = (...lines: string[]) => `${lines.join('\n')}\n`;
    writeFileSync(file('body.ndb'), `Test.Body:0:*:${Buffer.from(pe.subarray(0x500, 0x510)).toString('hex')}\n`);
    writeFileSync(file('trust.crb'), line(pki.crbLine('Trusted.Test.Root', root, true)));
    // ClamAV's default PE configuration (0xfff7f) without CERTS, and without CATALOG.
    writeFileSync(file('certs-off.cfg'), 'PE:0xdff7f:1:255\n');
    writeFileSync(file('catalog-off.cfg'), 'PE:0xeff7f:1:255\n');
    writeFileSync(file('other.crb'), line(pki.crbLine('Trusted.Other.Root', otherRoot, true)));
    writeFileSync(file('block-leaf.crb'), line(pki.crbLine('Trusted.Test.Root', root, true), pki.crbLine('Blocked.Test.Signer', leaf, false)));
    writeFileSync(
      file('block-chain.crb'),
      line(pki.crbLine('Trusted.Test.Root', root, true), pki.crbLine('', intermediate, false, { serial: false }), pki.crbLine('Blocked.Test.Signer', leaf, false)),
    );
    writeFileSync(file('future.crb'), line(`${pki.crbLine('Trusted.Test.Root', root, true)};999`, `${pki.crbLine('Old.Root', root, true)};1;2`));
    writeFileSync(file('bad-flag.crb'), line(pki.crbLine('Bad.Flag', root, true, { flags: '1x1' })));
    writeFileSync(file('bad-subject.crb'), line(pki.crbLine('Bad.Subject', root, true).replace(/;1;[0-9a-f]{40};/, ';1;abcd;')));
    writeFileSync(file('few-fields.crb'), line('A;1;2;3'));

    const listing = (data: Uint8Array, hashes: ('sha1' | 'sha256')[]) => hashes.map((hash) => ({ hash, digest: authenticodeDigest(data, hash) }));
    writeFileSync(file('both.cat'), buildCatalog(leaf, chain(leaf), listing(pe, ['sha1', 'sha256'])));
    writeFileSync(file('sha1.cat'), buildCatalog(leaf, chain(leaf), listing(pe, ['sha1'])));
    writeFileSync(file('other-file.cat'), buildCatalog(leaf, chain(leaf), listing(unsignedPe(12), ['sha256'])));
    writeFileSync(file('expired-signer.cat'), buildCatalog(expired, chain(expired), listing(pe, ['sha256'])));

    // Allow-list entries of size 2 hold Authenticode hashes, as catalogs add them; those of size 1
    // (catalog cabinets) match a whole file's SHA digest whatever its size.
    const fileDigest = (name: string, hash: string) => createHash(hash).update(files[name]!).digest('hex');
    writeFileSync(file('authenticode-sha1.fp'), line(`${authenticodeDigest(pe, 'sha1').toString('hex')}:2:Authenticode.Sha1`));
    writeFileSync(file('authenticode-sha256.sfp'), line(`${authenticodeDigest(pe, 'sha256').toString('hex')}:2:Authenticode.Sha256`));
    writeFileSync(file('authenticode-size3.fp'), line(`${authenticodeDigest(pe, 'sha1').toString('hex')}:3:Wrong.Size`));
    writeFileSync(file('md5-size2.fp'), line(`${createHash('md5').update('ab').digest('hex')}:2:Two.Bytes`));
    writeFileSync(file('cabinet-sha1.fp'), line(`${fileDigest('unsigned.exe', 'sha1')}:1:Cabinet.Sha1`));
    writeFileSync(file('cabinet-sha256.fp'), line(`${fileDigest('unsigned.exe', 'sha256')}:1:Cabinet.Sha256`));
    writeFileSync(
      file('cabinet-sha256-wanted.fp'),
      line(`${fileDigest('unsigned.exe', 'sha256')}:1:Cabinet.Sha256`, `${fileDigest('signed.exe', 'sha256')}:${files['unsigned.exe']!.length}:Same.Size`),
    );

    execFileSync('zip', ['-q', '-j', file('mixed.zip'), file('signed.exe'), file('unsigned.exe')]);
    execFileSync('zip', ['-q', '-j', file('signed-only.zip'), file('signed.exe')]);
    execFileSync('zip', ['-q', '-j', file('nested.zip'), file('signed-only.zip')]);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  function same(args: string[], env?: Record<string, string>): void {
    const options = { cwd: dir, maxBuffer: 64 << 20, env };
    const real = runClamAV('clamscan', ['--debug', ...args], options);
    const ours = runClamTS('clamscan', ['--debug', ...args], options);
    const run = `${args.join(' ')}${env ? ` with ${JSON.stringify(env)}` : ''}`;
    assert.deepEqual(reportLines(ours.stdout), reportLines(real.stdout), `the same reports and summary for ${run}`);
    assert.deepEqual(checkLines(ours.stderr), checkLines(real.stderr), `the same check lines for ${run}`);
    assert.equal(ours.status, real.status, `the same exit code for ${run}`);
  }

  const FILES = [
    'unsigned.exe',
    'signed.exe',
    'signed-sha1.exe',
    'no-root-embedded.exe',
    'expired.exe',
    'expired-rfc3161.exe',
    'expired-countersigned.exe',
    'countersigned-outside.exe',
    'countersigned-wrong-digest.exe',
    'countersigned-by-code-signer.exe',
    'countersigned-valid.exe',
    'rfc3161.exe',
    'tampered.exe',
    'bad-revision.exe',
    'bad-type.exe',
    'ms13-098.exe',
    'overlap.exe',
    'appended.exe',
  ];

  for (const name of FILES) {
    it(`${name} with a .crb that trusts its root`, () => same(['-d', 'body.ndb', '-d', 'trust.crb', name]));
  }

  it('a .crb trusting another root verifies nothing', () => same(['-d', 'body.ndb', '-d', 'other.crb', 'signed.exe', 'rfc3161.exe']));
  it('--dumpcerts prints every certificate read', () => same(['--dumpcerts', '-d', 'body.ndb', '-d', 'trust.crb', '-d', 'both.cat', 'signed.exe', 'rfc3161.exe']));
  it('--nocerts turns the check off', () => same(['--nocerts', '-d', 'body.ndb', '-d', 'trust.crb', 'signed.exe']));
  it('a block-listed signer is reported by its entry name', () => same(['-d', 'body.ndb', '-d', 'block-leaf.crb', 'signed.exe', 'unsigned.exe']));
  it('block-listed signer and intermediate, with --allmatch', () => same(['--allmatch', '-d', 'body.ndb', '-d', 'block-chain.crb', 'signed.exe', 'no-root-embedded.exe']));
  it('a block-listed intermediate without a serial', () => same(['-d', 'body.ndb', '-d', 'block-chain.crb', 'no-root-embedded.exe']));
  it('a signed PE inside a zip: verified, the other members still scanned', () => same(['-d', 'body.ndb', '-d', 'trust.crb', 'mixed.zip', 'signed-only.zip']));
  it('the descriptor of a verified file: one more per temporary file, one more with --log', () =>
    same(['-d', 'body.ndb', '-d', 'trust.crb', '--disable-cache', `--log=${join(dir, 'scan.log')}`, 'nested.zip', 'signed.exe']));
  it('functionality levels of .crb lines', () => same(['-d', 'body.ndb', '-d', 'future.crb', 'signed.exe']));
  for (const cat of ['both.cat', 'sha1.cat', 'other-file.cat', 'expired-signer.cat']) {
    it(`a .cat catalog (${cat}) trusts the files it lists`, () => same(['-d', 'body.ndb', '-d', 'trust.crb', '-d', cat, 'unsigned.exe', 'tampered.exe', 'mixed.zip']));
  }
  it('a catalog signed by an untrusted chain is not loaded', () => same(['-d', 'body.ndb', '-d', 'other.crb', '-d', 'both.cat', 'unsigned.exe']));
  it('--nocerts skips catalogs too', () => same(['--nocerts', '-d', 'body.ndb', '-d', 'trust.crb', '-d', 'both.cat', 'unsigned.exe']));
  it('a .cfg turning DCONF CERTS off skips .crb lines and the check', () =>
    same(['-d', 'certs-off.cfg', '-d', 'body.ndb', '-d', 'trust.crb', '-d', 'both.cat', 'signed.exe', 'unsigned.exe']));
  it('a .cfg turning DCONF CATALOG off skips catalogs only', () =>
    same(['-d', 'catalog-off.cfg', '-d', 'body.ndb', '-d', 'trust.crb', '-d', 'both.cat', 'signed.exe', 'unsigned.exe']));
  const TIMED = ['ends-soon.exe', 'started-recently.exe', 'stamped-in-dst-gap.exe', 'stamped-after-dst-change.exe'];
  for (const TZ of ['UTC', 'America/New_York', 'Asia/Tokyo']) {
    it(`validity times are read in the local zone (TZ=${TZ})`, () => same(['-d', 'body.ndb', '-d', 'trust.crb', ...TIMED], { TZ }));
  }
  for (const fp of ['authenticode-sha1.fp', 'authenticode-sha256.sfp', 'authenticode-size3.fp', 'md5-size2.fp']) {
    it(`an allow-list entry of size 2 (${fp}) trusts the PE file whose Authenticode hash it is`, () =>
      same(['-d', 'body.ndb', '-d', fp, 'unsigned.exe', 'tampered.exe', 'mixed.zip']));
  }
  for (const fp of ['cabinet-sha1.fp', 'cabinet-sha256.fp', 'cabinet-sha256-wanted.fp']) {
    it(`an allow-list entry of size 1 (${fp}) matches the whole file as a catalog cabinet`, () => same(['-d', 'body.ndb', '-d', fp, 'unsigned.exe', 'mixed.zip']));
  }
  for (const db of ['bad-flag.crb', 'bad-subject.crb', 'few-fields.crb']) {
    it(`a malformed .crb (${db}) fails the load as in ClamAV`, () => same(['-d', 'body.ndb', '-d', db, 'signed.exe']));
  }
});

/** openssl's YYYYMMDDHHMMSSZ of a time (milliseconds since the epoch). */
function opensslTime(at: number): string {
  return `${new Date(at).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/** Where the optional header's security directory entry is. */
function securityEntry(view: DataView): number {
  const peOffset = view.getUint32(0x3c, true);
  return peOffset + 24 + 96 + 4 * 8;
}

/** A copy of `data` changed by `change`, given the certificate table's offset. */
function patched(data: Uint8Array, change: (view: DataView, table: number) => void): Uint8Array {
  const copy = Uint8Array.from(data);
  const view = new DataView(copy.buffer);
  change(view, view.getUint32(securityEntry(view), true));
  return copy;
}
