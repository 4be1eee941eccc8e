/**
 * The HTML handlers: which views are yielded and how they are scanned (the normaliser itself is
 * compared with sigtool in normalise-html.test.ts), UTF-16 HTML, data URIs and style images as
 * files, Script Encoder files, limits, and hostile input. clamscan is the oracle for detection
 * through each chain and for the files it leaves with --leave-temps.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DocumentObject } from '../src/formats/documents/objects.js';
import { createHtmlHandlers, foldUtf16Html, htmlHandler, htmlUtf16Handler, scriptEncodedHandler } from '../src/formats/html.js';
import { mailHandler } from '../src/formats/mail.js';
import {
  CLAM_EXE, clamscan, extractAll, fuzz, hashSignature, md5, needsClamscan, needsTestfiles, recordingContext, testfile,
} from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

const objects = (handler = htmlHandler, data: Uint8Array) => extractAll(handler, data) as DocumentObject[];

/** The files clamscan --leave-temps leaves, by name (last one wins). */
function clamavTemps(data: Uint8Array, name: string): Map<string, Buffer> {
  const dir = tempDir('clamts-htmlh-');
  const target = dir.write(name, data);
  const temps = join(dir.root, 'temps');
  mkdirSync(temps);
  spawnSync('clamscan', ['--leave-temps', `--tempdir=${temps}`, '-d', dir.write('none.hdb', `${'0'.repeat(32)}:1:None\n`), target]);
  const found = new Map<string, Buffer>();
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else found.set(entry.name, readFileSync(full));
    }
  };
  walk(temps);
  return found;
}

const clamDataUri = () => `<html><body><a href="data:application/octet-stream;base64,${Buffer.from(CLAM_EXE).toString('base64')}">x</a></body></html>`;

describe('HTML handler', () => {
  it('yields the normalised views with their scan types, and data URIs as mail', needsTestfiles, () => {
    const found = objects(htmlHandler, testfile('clam.exe.html'));
    const nocomment = found.find((o) => o.name === 'nocomment.html');
    assert.deepEqual(nocomment?.scanAs, ['CL_TYPE_HTML']);
    assert.deepEqual(found.find((o) => o.name === 'notags.html')?.scanAs, ['CL_TYPE_HTML']);
    const uri = found.find((o) => o.name === 'rfc2397');
    assert.ok(uri, 'the data URI');
    assert.ok(extractAll(mailHandler, uri.data).some((o) => md5(o.data) === md5(CLAM_EXE)));
  });

  it('yields the normalised script twice-scanned, as HTML then as text', () => {
    const found = objects(htmlHandler, Buffer.from('<script>var x = "a";</script>'));
    assert.deepEqual(found.find((o) => o.name === 'javascript')?.scanAs, ['CL_TYPE_HTML', 'CL_TYPE_TEXT_ASCII']);
  });

  it('matches the views ClamAV writes and detects through the data URI', { ...needsTestfiles, ...needsClamscan }, () => {
    const html = testfile('clam.exe.html');
    const temps = clamavTemps(html, 'sample.html');
    const found = objects(htmlHandler, html);
    for (const name of ['nocomment.html', 'notags.html']) {
      assert.equal(md5(found.find((o) => o.name === name)!.data), md5(temps.get(name)!), name);
    }
    assert.deepEqual(clamscan(html, { hdb: [hashSignature('Clam.Exe', CLAM_EXE)] }), ['Clam.Exe']);
  });

  it('folds UTF-16 HTML the way ClamAV does and finds the same data URI', { ...needsTestfiles, ...needsClamscan }, () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(clamDataUri(), 'utf16le')]);
    const folded = foldUtf16Html(Buffer.from('A\0<\0\x01\x02', 'latin1'));
    assert.deepEqual([...folded], [0x41, 0x3c, (0x02 << 4) + 0x01]);
    const uri = objects(htmlUtf16Handler, utf16).find((o) => o.name === 'rfc2397');
    assert.ok(uri && extractAll(mailHandler, uri.data).some((o) => md5(o.data) === md5(CLAM_EXE)));
    assert.deepEqual(clamscan(utf16, { hdb: [hashSignature('Clam.Exe', CLAM_EXE)] }), ['Clam.Exe']);
  });

  it('skips documents over MaxHTMLNormalize and the notags view over MaxHTMLNoTags', () => {
    const html = Buffer.from('<p>hello</p>'.repeat(10));
    assert.deepEqual(extractAll(createHtmlHandlers({ maxHtmlNormalize: 50, maxHtmlNoTags: 10 }).html, html), []);
    const names = extractAll(createHtmlHandlers({ maxHtmlNormalize: 1000, maxHtmlNoTags: 10 }).html, html).map((o) => o.name);
    assert.deepEqual(names, ['nocomment.html']);
  });
});

describe('Script Encoder files', () => {
  it('decodes the first block into the screnc.html ClamAV writes', needsClamscan, () => {
    const encoded = Buffer.from('#@~^DgAAAA==\\ko3K        JtUDJ@#@&KgUAAA==^#~@\n', 'latin1');
    const [decoded] = extractAll(scriptEncodedHandler, encoded);
    assert.ok(decoded);
    assert.equal(md5(decoded.data), md5(clamavTemps(encoded, 'sample.jse').get('screnc.html')!));
  });
});

describe('hostile HTML', () => {
  it('handles unterminated constructs and huge runs in bounded time', () => {
    for (const html of ['<script>'.repeat(20000), '<!--'.repeat(50000), `<a href="${'x'.repeat(300000)}`, '&#'.repeat(100000), '<'.repeat(200000)]) {
      const started = performance.now();
      extractAll(htmlHandler, Buffer.from(html), recordingContext());
      assert.ok(performance.now() - started < 5000, html.slice(0, 20));
    }
  });

  it('survives seeded mutations (fuzz)', needsTestfiles, () => {
    fuzz(htmlHandler, [testfile('clam.exe.html'), Buffer.from('<script>eval("a"+"b")</script><style>x{background:url(data:image/gif;base64,R0lGOD)}</style>&amp;')], {
      seed: 0x47e1,
    });
    fuzz(scriptEncodedHandler, [Buffer.from('#@~^DgAAAA==\\ko3K        JtUDJ@#@&KgUAAA==^#~@', 'latin1')], { seed: 0x5c });
  });
});
