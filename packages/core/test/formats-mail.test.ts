/**
 * E-mail: the real samples (a MIME mail, mailboxes with base64 and uuencoded clam.exe, a BinHex
 * file) and messages generated to reach mbox.c's corners — nested multiparts with odd boundaries,
 * every transfer encoding spelled right and wrong, uuencode/yEnc/BinHex inside text, bounces,
 * message/rfc822 parts, folded headers, mailboxes of several messages. clamscan is the oracle:
 * the files it writes into its top-level mail-tmp directory (--leave-temps) must be exactly the
 * files the handler yields.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { binhexHandler, createMailHandler, mailHandler, uuencodedHandler } from '../src/formats/mail.js';
import {
  CLAM_EXE, clamscan, extractAll, fuzz, HAVE_CLAMSCAN, hashSignature, md5, needsClamscan, needsTestfiles, prng, recordingContext, testfile,
} from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

const SAMPLES = Number(process.env.CLAMTS_ORACLE_SAMPLES) || 40;

/** Digests of the non-empty files ClamAV writes into its outermost mail-tmp directory. */
function clamavMailFiles(message: Uint8Array): string[] {
  const dir = tempDir('clamts-mail-');
  const target = dir.write('message.eml', message);
  const temps = join(dir.root, 'temps');
  mkdirSync(temps);
  spawnSync('clamscan', ['--leave-temps', `--tempdir=${temps}`, '-d', dir.write('none.hdb', `${'0'.repeat(32)}:1:None\n`), target]);
  let top: string | undefined;
  let topDepth = Infinity;
  const walk = (path: string, depth: number): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const full = join(path, entry.name);
      if (entry.name.startsWith('mail-tmp') && depth < topDepth) {
        top = full;
        topDepth = depth;
      }
      walk(full, depth + 1);
    }
  };
  walk(temps, 0);
  if (!top) return [];
  return readdirSync(top)
    .map((name) => join(top!, name))
    .filter((path) => statSync(path).isFile() && statSync(path).size > 0)
    .map((path) => md5(readFileSync(path)))
    .sort();
}

const ours = (message: Uint8Array) => extractAll(mailHandler, message).map((o) => md5(o.data)).sort();

/** A random, often broken, message (or mailbox) built from MIME pieces. */
function generatedMail(seed: number): Buffer {
  const random = prng(seed);
  const n = (k: number) => Math.floor(random() * k);
  const pick = <T>(list: readonly T[]): T => list[n(list.length)]!;
  const bytes = (k: number) => Buffer.from(Array.from({ length: k }, () => n(256)));
  const base64Lines = (data: Buffer, width: number) => data.toString('base64').match(new RegExp(`.{1,${width}}`, 'g')) ?? [];
  const uuencode = (data: Buffer, name: string) => {
    const lines = [`begin 644 ${name}`];
    for (let i = 0; i < data.length; i += 45) {
      const chunk = data.subarray(i, i + 45);
      let line = String.fromCharCode(32 + chunk.length);
      for (let j = 0; j < chunk.length; j += 3) {
        const [a = 0, b = 0, c = 0] = [chunk[j], chunk[j + 1], chunk[j + 2]];
        for (const v of [a >> 2, ((a & 3) << 4) | (b >> 4), ((b & 15) << 2) | (c >> 6), c & 63]) line += String.fromCharCode(v ? v + 32 : 96);
      }
      lines.push(line);
    }
    return [...lines, '`', 'end'];
  };
  const yenc = (data: Buffer, name: string) => {
    let text = '';
    for (const c of data) {
      const v = (c + 42) & 255;
      text += v === 0 || v === 10 || v === 13 || v === 61 ? `=${String.fromCharCode((v + 64) & 255)}` : String.fromCharCode(v);
    }
    return [`=ybegin line=128 size=${data.length} name=${name}`, ...(text.match(/.{1,128}/gs) ?? []), `=yend size=${data.length}`];
  };
  const names = ['file.exe', 'doc"1".pdf', 'a b.txt', 'x', 'r\xe9sum\xe9.doc', '../../etc', 'clam.exe'];
  const types = ['application/octet-stream', 'Application/Octet-Stream', 'text/plain', 'text/html', 'image/gif', 'x-unknown/unknown', 'aplication/octet-stream', 'text', 'text/', '/', 'message/rfc822', 'message/partial', 'message/delivery-status'];
  const encodings = ['base64', 'Base64', 'quoted-printable', '7bit', '8bit', 'binary', 'x-uuencode', 'bas64', 'base64 binary', 'x-yencode', 'weird', ''];
  const headers = (type: string, encoding: string, name?: string, boundary?: string) => {
    let contentType = `Content-Type: ${type}`;
    if (name && n(2)) contentType += `; name="${name}"`;
    if (boundary) contentType += n(2) ? `; boundary="${boundary}"` : `;\n\tboundary=${boundary}`;
    const lines = contentType.split('\n');
    if (encoding) lines.push(`Content-Transfer-Encoding: ${encoding}`);
    if (n(2)) lines.push(...pick([`Content-Disposition: attachment; filename=${name ?? 'att.bin'}`, 'Content-Disposition: inline', `Content-Disposition: attachment;\n filename="${name ?? 'q'}"`]).split('\n'));
    return lines;
  };
  const body = (encoding: string): string[] => {
    const data = bytes(1 + n(300));
    if (encoding.toLowerCase().startsWith('bas')) return n(6) ? base64Lines(data, pick([76, 60, 19])) : ['TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA', '  Zm9v YmFy', 'garbage!!', 'QUJD='];
    if (encoding === 'quoted-printable') return Array.from({ length: 1 + n(6) }, () => pick(['Hello =3D world', 'soft break=', 'caf=C3=A9 =', 'bad =ZZ hex', '=41=42', 'plain']));
    if (encoding === 'x-uuencode') return uuencode(data, pick(names));
    if (encoding === 'x-yencode') return yenc(data, pick(names));
    return Array.from({ length: 1 + n(5) }, () => pick(['text line', 'From nobody Sat Jan  3 01:05:34 1996', 'Received: from host', '', ' ', '(This file must be converted with BinHex 4.0)', 'Content-Transfer-Encoding: base64', 'line = sign', '--not-a-boundary', ...uuencode(data.subarray(0, 20), 'inline.bin')]));
  };
  const part = (depth: number): string[] => {
    if (depth < 3 && n(3) === 0) {
      const boundary = pick(['BOUND', '----=_NextPart_000_01C3', 'b1', 'x y', `nest${depth}`]);
      const lines = [...headers(`multipart/${pick(['mixed', 'alternative', 'related', 'signed', 'report', 'digest', 'x-foo', ''])}`, '', undefined, boundary), ''];
      if (n(2)) lines.push('This is a multi-part message in MIME format.');
      for (let i = 1 + n(4); i > 0; i--) lines.push(`${n(10) ? '--' : '-'}${boundary}`, ...part(depth + 1));
      if (n(5)) lines.push(`--${boundary}--`);
      return lines;
    }
    const type = pick(types);
    const encoding = pick(encodings);
    const lines = n(12) ? headers(type, encoding, n(3) ? pick(names) : undefined) : [];
    lines.push('');
    if (type.startsWith('message/') && n(2)) lines.push('From: a@b', 'Subject: inner', ...part(depth + 1));
    else lines.push(...body(encoding));
    return lines;
  };
  const top: string[] = [];
  if (n(3) === 0) top.push('From sender@example.com  Thu Jul 31 13:49:50 2008');
  top.push(...pick([['From: a@b', 'To: c@d', 'Subject: test'], ['Received: from x', 'Message-ID: <1@2>'], ['Subject: =?utf-8?B?SGVsbG8=?=']]));
  if (n(2)) top.push('MIME-Version: 1.0');
  top.push(...part(0));
  let text = top.join(pick(['\n', '\r\n']));
  if (n(5) === 0) text += `\n\nFrom second@example.com  Thu Jul 31 13:51:21 2008\n${part(1).join('\n')}`;
  return Buffer.from(text, 'latin1');
}

describe('mail samples', () => {
  for (const name of ['clam.mail', 'clam.exe.mbox.base64', 'clam.exe.mbox.uu']) {
    it(`extracts clam.exe from ${name}`, needsTestfiles, () => {
      assert.ok(extractAll(mailHandler, testfile(name)).some((o) => md5(o.data) === md5(CLAM_EXE)));
    });
  }

  it('decodes clam.exe.binhex (data fork)', needsTestfiles, () => {
    const [data] = extractAll(binhexHandler, testfile('clam.exe.binhex'));
    assert.equal(md5(data!.data), md5(CLAM_EXE));
  });

  it('decodes a bare uuencoded file', needsTestfiles, () => {
    const lines = testfile('clam.exe.mbox.uu').toString();
    const begin = lines.indexOf('begin ');
    const [file] = extractAll(uuencodedHandler, Buffer.from(lines.slice(begin)));
    assert.equal(md5(file!.data), md5(CLAM_EXE));
  });

  it('writes the same files as ClamAV for the samples', { ...needsTestfiles, ...needsClamscan }, () => {
    for (const name of ['clam.mail', 'clam.exe.mbox.base64', 'clam.exe.mbox.uu']) {
      assert.deepEqual(ours(testfile(name)), clamavMailFiles(testfile(name)), name);
      assert.deepEqual(clamscan(testfile(name), { hdb: [hashSignature('Clam.Exe', CLAM_EXE)] }), ['Clam.Exe']);
    }
  });
});

describe('generated mail against clamscan', () => {
  it(`${SAMPLES} messages write the same files`, needsClamscan, () => {
    for (let seed = 1; seed <= SAMPLES; seed++) {
      const message = generatedMail(seed);
      assert.deepEqual(ours(message), clamavMailFiles(message), `seed ${seed}`);
    }
  });
});

describe('mail limits and hostile input', () => {
  const nested = (depth: number) => {
    let message = 'Content-Type: text/plain\n\ninnermost\n';
    for (let i = 0; i < depth; i++) message = `Content-Type: multipart/mixed; boundary="b${i}"\n\n--b${i}\n${message}--b${i}--\n`;
    return Buffer.from(`From: a@b\n${message}`);
  };

  it('stops at the recursion limit with Heuristics.Limits.Exceeded.MaxRecursion, like clamscan', () => {
    const ctx = recordingContext();
    extractAll(mailHandler, nested(25), ctx);
    assert.ok(ctx.heuristics.some((h) => h.kind === 'exceeds-max' && h.name === 'Heuristics.Limits.Exceeded.MaxRecursion'));
    const shallow = recordingContext();
    extractAll(createMailHandler({ maxRecursion: 30, maxFiles: 100, phishingScanUrls: true }), nested(25), shallow);
    assert.deepEqual(shallow.heuristics, []);
    if (HAVE_CLAMSCAN) {
      const found = clamscan(nested(25), { hdb: [hashSignature('None', new Uint8Array([1]))] }, ['--alert-exceeds-max=yes']);
      assert.deepEqual(found, ['Heuristics.Limits.Exceeded.MaxRecursion']);
    }
  });

  it('parses deep nesting, huge headers and many parts in bounded time', () => {
    const manyParts = Buffer.from(`Content-Type: multipart/mixed; boundary=B\n\n${'--B\nContent-Type: text/plain\n\nx\n'.repeat(20000)}--B--\n`);
    const hugeHeader = Buffer.from(`Subject: ${'x'.repeat(2_000_000)}\n\nbody\n`);
    const folded = Buffer.from(`Content-Type: multipart/mixed;${'\n x=y;'.repeat(50000)}\n\nbody\n`);
    for (const message of [nested(200), manyParts, hugeHeader, folded]) {
      const started = performance.now();
      extractAll(mailHandler, message, recordingContext());
      assert.ok(performance.now() - started < 10000);
    }
  });

  it('survives seeded mutations (fuzz)', needsTestfiles, () => {
    fuzz(mailHandler, [testfile('clam.mail'), testfile('clam.exe.mbox.base64'), testfile('clam.exe.mbox.uu'), generatedMail(7)], { seed: 0x3a11, maxMs: 4000 });
    fuzz(binhexHandler, [testfile('clam.exe.binhex')], { seed: 0xb1 });
  });
});
