/**
 * The Authenticode check's parts on their own: the bounded DER reader, ClamAV's RSA signature
 * check and time reading, the .crb loader's quirks, and a fuzz of signed files (mutated
 * signatures never throw or hang). What they decide is compared with clamscan in
 * test/conformance/authenticode.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EngineBuilder } from '../src/engine/engine-builder.js';
import { ANY_SIZE, HashIndexBuilder } from '../src/matching/hash-index.js';
import { checkAuthenticode } from '../src/executables/authenticode/check.js';
import { ASN1_SEQUENCE, DerReader, NOWHERE, Remaining } from '../src/executables/authenticode/der.js';
import { rsaVerify } from '../src/executables/authenticode/rsa.js';
import { readTime } from '../src/executables/authenticode/x509.js';
import { readPeHeaders, type PeFile } from '../src/executables/pe-file.js';
import { loadCrbDatabase } from '../src/signatures/crb.js';
import { inMemoryInput } from '../src/signatures/database-input.js';
import type { Logger } from '../src/util/logger.js';
import { haveTool } from '../../../test/support/run-tool.js';
import { mutate, prng } from './support/archive-samples.js';
import { authenticodeDigest, buildCatalog, countersign, TestPki, unsignedPe } from './fixtures/executables/authenticode-pki.js';
import { loadCatalog } from '../src/executables/authenticode/catalog.js';
import { CertificateStore } from '../src/executables/authenticode/cert-store.js';
import { restoreCertificate } from '../src/executables/authenticode/certificate.js';

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    error: (message) => lines.push(`error: ${message}`),
    warning: (message) => lines.push(`warning: ${message}`),
    debug: (message) => lines.push(message),
    debugEnabled: true,
  };
}

function reader(bytes: number[]): { reader: DerReader; lines: string[] } {
  const logger = recordingLogger();
  return { reader: new DerReader(Uint8Array.from(bytes), logger), lines: logger.lines };
}

describe('DER reader bounds', () => {
  it('reads an element and knows when it ends its container', () => {
    const { reader: r } = reader([0x30, 0x03, 0x02, 0x01, 0x05]);
    const left = new Remaining(5);
    const object = r.getObject(0, left);
    assert.deepEqual(object, { type: 0x30, size: 3, content: 2, next: NOWHERE }, 'the last element has no next');
    assert.equal(left.bytes, 0, 'the whole length consumed');
  });

  it('refuses what ClamAV refuses, with its debug lines', () => {
    const cases: Array<[number[], number, string]> = [
      [[0x30], 1, 'asn1_get_obj: insufficient data length'],
      [[0x30, 0x80, 0x00, 0x00], 4, 'asn1_get_obj: unsupported indefinite length object'],
      [[0x30, 0x85, 1, 1, 1, 1, 1], 7, 'asn1_get_obj: len octets overflow (or just too many)'],
      [[0x30, 0x05, 0x00], 3, 'asn1_get_obj: content overflow'],
      [[0x30, 0x82, 0xff, 0xff], 4, 'asn1_get_obj: content overflow'],
    ];
    for (const [bytes, length, message] of cases) {
      const { reader: r, lines } = reader(bytes);
      assert.equal(r.getObject(0, new Remaining(length)), undefined, `refused: ${message}`);
      assert.deepEqual(lines, [message], `the debug line for ${bytes.join(',')}`);
    }
  });

  it('never reads outside the object, whatever length it is told', () => {
    const { reader: r, lines } = reader([0x30, 0x02, 0x05]);
    assert.equal(r.getObject(1, new Remaining(1000)), undefined, 'header past the end');
    assert.equal(lines[0], 'asn1_get_obj: obj out of file', 'out of the file');
    assert.equal(r.getObject(NOWHERE, new Remaining(10)), undefined, 'no position');
    assert.equal(r.readable(0, 0), false, 'zero bytes are never readable (fmap_need)');
    assert.equal(r.readable(2, 2), false, 'past the end');
  });

  it('checks the element type', () => {
    const { reader: r, lines } = reader([0x31, 0x00]);
    assert.equal(r.expectType(0, new Remaining(2), ASN1_SEQUENCE), undefined, 'a SET is no SEQUENCE');
    assert.deepEqual(lines, ['asn1_expect_objtype: expected type 30, got 31'], 'the debug line');
  });
});

describe('ClamAV time reading', () => {
  const time = (tag: number, text: string) => {
    const bytes = [tag, text.length, ...Buffer.from(text, 'latin1'), 0, 0];
    const { reader: r, lines } = reader(bytes);
    return { value: readTime(r, 0, new Remaining(bytes.length))?.seconds, lines };
  };

  it('reads UTCTime, with or without seconds', () => {
    assert.equal(time(0x17, '250102030405Z').value, Date.UTC(2025, 0, 2, 3, 4, 5) / 1000, 'with seconds');
    assert.equal(time(0x17, '9901020304Z').value, Date.UTC(1999, 0, 2, 3, 4, 0) / 1000, 'without seconds, 19xx');
  });

  it("reads a GeneralizedTime's century digits twice, as ClamAV does", () => {
    assert.equal(time(0x18, '20491231235959Z').value, Date.UTC(2020, 11, 31, 23, 59, 59) / 1000, '2049 reads as 2020');
  });

  it("reads the fields as local standard time, as ClamAV's mktime with tm_isdst 0", () => {
    const zone = process.env.TZ;
    try {
      process.env.TZ = 'Asia/Tokyo';
      assert.equal(time(0x17, '250102030405Z').value, Date.UTC(2025, 0, 2, 3, 4, 5) / 1000 - 9 * 3600, 'Tokyo: 9 hours earlier');
      process.env.TZ = 'America/New_York';
      assert.equal(time(0x17, '250102030405Z').value, Date.UTC(2025, 0, 2, 3, 4, 5) / 1000 + 5 * 3600, 'New York in winter: 5 hours later');
      assert.equal(time(0x17, '250702030405Z').value, Date.UTC(2025, 6, 2, 3, 4, 5) / 1000 + 5 * 3600, 'New York in summer: still 5 hours later');
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it('refuses bad fields with their lines', () => {
    const bad = time(0x17, '251302030405Z');
    assert.equal(bad.value, undefined, 'month 13');
    assert.deepEqual(bad.lines, ['asn1_get_time: invalid month 13'], 'the debug line');
  });
});

describe('allow-list sizes the Authenticode check asks about', () => {
  it('tells exact sizes from any-size entries, as cli_hm_have_size does', () => {
    const builder = new HashIndexBuilder();
    const digest = (seed: number) => createHash('sha1').update(String(seed)).digest();
    assert.equal(builder.addDigest(digest(1), ANY_SIZE, 0), true, 'an any-size entry');
    assert.equal(builder.addDigest(digest(2), 2, 0), true, 'a size-2 entry');
    assert.equal(builder.addDigest(digest(3).subarray(0, 7), 2, 0), false, 'no algorithm has 7-byte digests');
    const index = builder.build();
    assert.equal(index.hasSize('sha1', 2), true, 'size 2 is there');
    assert.equal(index.hasSize('sha1', 3), false, 'size 3 is not, though the any-size entry could match it');
    assert.equal(index.wants('sha1', 3), true, 'the any-size entry wants every size');
    assert.equal(index.hasSize('sha256', 2), false, 'another algorithm has nothing');
    assert.equal(index.lookup('sha1', digest(2), 2).sized, 0, 'the size-2 entry is found at its size');
  });
});

describe("ClamAV's RSA signature check", () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const big = (b64: string) => BigInt(`0x${Buffer.from(b64, 'base64url').toString('hex')}`);
  const key = { modulus: big(jwk.n!), exponent: big(jwk.e!) };
  const message = Buffer.from('signed message');
  const digest = createHash('sha256').update(message).digest();
  const signature = big(sign('sha256', message, privateKey).toString('base64url'));

  it('accepts a PKCS#1 v1.5 signature of the digest', () => {
    assert.equal(rsaVerify(key, signature, 'sha256', digest, recordingLogger()), true, 'verified');
  });

  it('refuses another digest, another hash type and a damaged signature', () => {
    const other = createHash('sha256').update('other').digest();
    assert.equal(rsaVerify(key, signature, 'sha256', other, recordingLogger()), false, 'another digest');
    const logger = recordingLogger();
    assert.equal(rsaVerify(key, signature, 'sha1', digest, logger), false, 'a SHA-256 DigestInfo for SHA-1');
    assert.deepEqual(logger.lines, ['error: crtmgr_rsa_verify: FIXME ACAB - CRYPTO MISSING?'], "ClamAV's error line");
    const damaged = recordingLogger();
    assert.equal(rsaVerify(key, signature ^ 1n, 'sha256', digest, damaged), false, 'a damaged signature');
    assert.ok(damaged.lines.includes('crtmgr_rsa_verify: RSA_padding_check_PKCS1_type_1() failed'), 'bad padding');
  });
});

function crbEngine(text: string): { builder: EngineBuilder; logger: Logger & { lines: string[] } } {
  const builder = new EngineBuilder();
  const logger = recordingLogger();
  loadCrbDatabase(inMemoryInput(Buffer.from(text)), { path: 't.crb', official: false, options: {}, logger, engine: builder, lineBuffer: 8192 });
  return { builder, logger };
}

describe('.crb loader', () => {
  const subject = 'a'.repeat(40);
  const serial = 'b'.repeat(40);

  it('keeps ClamAV\'s carried-over fields: "any serial" and NotBefore pass to later lines', () => {
    const { builder } = crbEngine(`First;1;${subject};;C0FFEE;010001;1;1;1;1234;x\nSecond;0;${'c'.repeat(40)};${serial};BEEF;010001;1;1;1;;x\n`);
    const [second, first] = builder.authenticode.build().certificates;
    assert.equal(first!.ignoreSerial, true, 'no serial: any serial');
    assert.equal(second!.ignoreSerial, true, 'still any serial on the next line');
    assert.equal(second!.serial, serial, 'its own serial kept');
    assert.equal(second!.notBefore, 1234, 'NotBefore carried over');
    assert.equal(second!.blocked, true, 'trusted 0: a block-list entry');
  });

  it('reads the public key as BN_hex2bn does: the leading hex digits', () => {
    const { builder } = crbEngine(`K;1;${subject};${serial};00ABcdXYZ;010001;1;1;1;0;x\n`);
    assert.equal(builder.authenticode.build().certificates[0]!.modulus, 'abcd', 'the hex prefix');
  });

  it('is skipped with --nocerts', () => {
    const builder = new EngineBuilder();
    builder.authenticode.disabled = true;
    const logger = recordingLogger();
    loadCrbDatabase(inMemoryInput(Buffer.from('garbage\n')), { path: 't.crb', official: false, options: {}, logger, engine: builder, lineBuffer: 8192 });
    assert.deepEqual(logger.lines, ['cli_loadcrt: Ignoring .crb sigs due to engine options'], 'the debug line');
  });
});

const tools = haveTool('openssl') && haveTool('osslsigncode') ? {} : { skip: 'openssl or osslsigncode is not installed' };

describe('Authenticode check fuzz', tools, () => {
  it('500 mutated signatures and 300 mutated catalogs never throw or hang', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clamts-authenticode-fuzz-'));
    try {
      const pki = new TestPki(dir);
      const root = pki.root('Fuzz Root');
      const intermediate = pki.issue('Fuzz Intermediate', root, 'ca');
      const leaf = pki.issue('Fuzz Signer', intermediate, 'code');
      const stamper = pki.issue('Fuzz Stamper', root, 'time');
      const stamped = pki.sign(unsignedPe(3), leaf, [leaf, intermediate, root], { timestamp: stamper });
      const countersigned = countersign(pki.sign(unsignedPe(3), leaf, [leaf, intermediate, root]), stamper, { signingTime: '250601120000Z' });
      const { builder } = crbEngine(`${pki.crbLine('Fuzz.Root', root, true)}\n${pki.crbLine('Fuzz.Block', intermediate, false)}\n`);
      const engine = builder.build();
      const random = prng(0xac7);
      const silent = { ...recordingLogger(), debugEnabled: false };
      for (let i = 0; i < 500; i++) {
        // An RFC 3161 time stamp (osslsigncode's) and a PKCS#9 countersignature, in turn.
        const signed = i % 2 ? stamped : countersigned;
        const table = new DataView(signed.buffer, signed.byteOffset).getUint32(0x80 + 24 + 96 + 32, true);
        const file = Buffer.concat([signed.subarray(0, table), mutate(signed.subarray(table), random)]);
        // Most mutations keep the table where ClamAV looks for it, so the parse gets to run.
        if (i % 4 !== 0) new DataView(file.buffer, file.byteOffset).setUint32(0x80 + 24 + 96 + 36, file.length - table, true);
        const pe = readPeHeaders(file);
        assert.equal(typeof pe, 'object', 'the headers still parse');
        const started = performance.now();
        try {
          checkAuthenticode(file, pe as PeFile, engine.authenticode, engine.allowHashes, { logger: silent, report: () => i % 3 === 0 });
        } catch (error) {
          assert.fail(`iteration ${i} threw ${String(error)}\n${file.toString('base64')}`);
        }
        assert.ok(performance.now() - started < 2000, `iteration ${i} took too long`);
      }
      assert.ok(readFileSync(leaf.pem).length > 0, 'the PKI was made');

      const pe = unsignedPe(4);
      const catalog = buildCatalog(leaf, [leaf, intermediate, root], [{ hash: 'sha256', digest: authenticodeDigest(pe, 'sha256') }]);
      const certificates = builder.authenticode.build().certificates.map(restoreCertificate);
      const fresh = () => new CertificateStore(silent, certificates.filter((c) => !c.blocked));
      const hashes: string[] = [];
      assert.equal(loadCatalog(catalog, fresh(), silent, (hash) => hashes.push(Buffer.from(hash.digest).toString('hex'))), true, 'the intact catalog loads');
      assert.deepEqual(hashes, [authenticodeDigest(pe, 'sha256').toString('hex')], 'its member hash');
      for (let i = 0; i < 300; i++) {
        const damaged = mutate(catalog, random);
        const started = performance.now();
        try {
          loadCatalog(damaged, fresh(), silent, () => {});
        } catch (error) {
          assert.fail(`catalog iteration ${i} threw ${String(error)}\n${Buffer.from(damaged).toString('base64')}`);
        }
        assert.ok(performance.now() - started < 2000, `catalog iteration ${i} took too long`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
