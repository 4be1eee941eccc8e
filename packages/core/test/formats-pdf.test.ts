/**
 * PDF: the real clam.pdf sample and documents built here to reach each of ClamAV's paths —
 * every filter and filter chains, wrong and indirect /Length values, /JS strings, indirect
 * /JavaScript, /OpenAction and /Contents references, object streams, escaped names, encrypted
 * trailers, truncated objects. Real clamscan is the oracle: with --allmatch --leave-temps it
 * keeps every "pdf obj N G" file it dumps, which must equal what the handler yields.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { decodeLzw } from '../src/formats/documents/lzw.js';
import { decodeStream, PdfFilter } from '../src/formats/documents/pdf-filters.js';
import { pdfHandler } from '../src/formats/pdf.js';
import {
  CLAM_EXE, clamscan, extractAll, fuzz, hashSignature, md5, needsClamscan, needsTestfiles, needsTool, recordingContext, testfile,
} from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

// ---------------------------------------------------------------------------------------------
// Encoders for building test documents.

/** LZW as PDF writers produce it (9–12 bit codes, early change unless told otherwise). */
function lzwEncode(data: Uint8Array, earlyChange = true): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let pending = 0;
  const put = (code: number, bits: number) => {
    acc = (acc << bits) | code;
    pending += bits;
    while (pending >= 8) {
      out.push((acc >> (pending - 8)) & 0xff);
      pending -= 8;
    }
    acc &= (1 << pending) - 1;
  };
  let table = new Map<string, number>();
  let next = 258;
  let bits = 9;
  put(256, bits);
  let word = '';
  for (const byte of data) {
    const extended = word + String.fromCharCode(byte);
    if (!word || table.has(extended)) {
      word = extended;
      continue;
    }
    put(word.length === 1 ? word.charCodeAt(0) : table.get(word)!, bits);
    if (next < 4094) {
      table.set(extended, next++);
      if (next + (earlyChange ? 1 : 0) > 1 << bits && bits < 12) bits++;
    } else {
      put(256, bits);
      table = new Map();
      next = 258;
      bits = 9;
    }
    word = String.fromCharCode(byte);
  }
  if (word) put(word.length === 1 ? word.charCodeAt(0) : table.get(word)!, bits);
  put(257, bits);
  if (pending) out.push((acc << (8 - pending)) & 0xff);
  return new Uint8Array(out);
}

function ascii85Encode(data: Uint8Array): Buffer {
  let text = '';
  for (let i = 0; i < data.length; i += 4) {
    const chunk = [...data.subarray(i, i + 4)];
    const n = chunk.length;
    while (chunk.length < 4) chunk.push(0);
    let value = ((chunk[0]! << 24) | (chunk[1]! << 16) | (chunk[2]! << 8) | chunk[3]!) >>> 0;
    if (value === 0 && n === 4) {
      text += 'z';
      continue;
    }
    const digits: string[] = [];
    for (let k = 0; k < 5; k++) {
      digits.unshift(String.fromCharCode(33 + (value % 85)));
      value = Math.floor(value / 85);
    }
    text += digits.join('').slice(0, n + 1);
  }
  return Buffer.from(`${text}~>`, 'latin1');
}

function runLengthEncode(data: Uint8Array): Buffer {
  const out: number[] = [];
  for (let i = 0; i < data.length; ) {
    let run = 1;
    while (i + run < data.length && run < 128 && data[i + run] === data[i]) run++;
    if (run > 1) {
      out.push(257 - run, data[i]!);
      i += run;
      continue;
    }
    const start = i++;
    while (i < data.length && i - start < 128 && data[i] !== data[i - 1]) i++;
    out.push(i - start - 1, ...data.subarray(start, i));
  }
  out.push(128);
  return Buffer.from(out);
}

const FILTERS: Record<string, (data: Uint8Array) => Uint8Array> = {
  FlateDecode: (d) => zlib.deflateSync(d),
  ASCIIHexDecode: (d) => Buffer.from(`${Buffer.from(d).toString('hex')}>`),
  ASCII85Decode: ascii85Encode,
  LZWDecode: (d) => lzwEncode(d),
  RunLengthDecode: runLengthEncode,
};

/** A stream object whose data goes through `filters` (outermost first, as in /Filter). */
function streamObject(id: number, payload: Uint8Array, filters: string[], extra = ''): Buffer {
  let data: Uint8Array = payload;
  for (const filter of [...filters].reverse()) data = FILTERS[filter]?.(data) ?? data;
  const filter = filters.length ? `/Filter [${filters.map((f) => `/${f}`).join(' ')}] ` : '';
  return Buffer.concat([
    Buffer.from(`${id} 0 obj\n<< ${filter}/Length ${data.length} ${extra}>>\nstream\n`),
    data,
    Buffer.from('\nendstream\nendobj\n'),
  ]);
}

function pdf(...objects: (Buffer | string)[]): Buffer {
  return Buffer.concat([
    Buffer.from('%PDF-1.5\n%\xe2\xe3\xcf\xd3\n', 'latin1'),
    ...objects.map((o) => (typeof o === 'string' ? Buffer.from(o, 'latin1') : o)),
    Buffer.from('xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 9 >>\nstartxref\n9\n%%EOF\n'),
  ]);
}

// ---------------------------------------------------------------------------------------------

function ours(data: Uint8Array, ctx = recordingContext()): string[] {
  return extractAll(pdfHandler, data, ctx).map((o) => `${o.name}=${md5(o.data)}`);
}

/** The objects ClamAV dumps (clamscan --allmatch --leave-temps), as "name=md5", in dump order. */
function clamav(data: Uint8Array): string[] {
  const dir = tempDir('clamts-pdf-');
  const target = dir.write('sample.pdf', data);
  const temps = join(dir.root, 'temps');
  mkdirSync(temps);
  const result = spawnSync(
    'clamscan',
    ['--debug', '--allmatch', '--leave-temps', `--tempdir=${temps}`, '-d', dir.write('none.hdb', `${'0'.repeat(32)}:1:None\n`), target],
    { encoding: 'latin1' },
  );
  const files = new Map<string, string>();
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.startsWith('pdf obj')) {
        const bytes = readFileSync(full);
        if (bytes.length) files.set(entry.name, md5(bytes));
      }
    }
  };
  walk(temps);
  const order: string[] = [];
  for (const line of result.stderr.split('\n')) {
    const dumped = /pdf_extract_obj: dumping (obj \d+ \d+)$/.exec(line);
    const contents = /pdf_extract_obj: dumping contents from (obj \d+ \d+)$/.exec(line);
    const name = dumped ? `pdf ${dumped[1]}` : contents ? `pdf ${contents[1]} contents` : undefined;
    if (name && files.has(name)) order.push(`${name}=${files.get(name)}`);
  }
  return order;
}

describe('PDF sample', () => {
  it('dumps the objects of clam.pdf as ClamAV does, clam.exe among them', needsTestfiles, () => {
    const objects = extractAll(pdfHandler, testfile('clam.pdf'));
    assert.ok(objects.some((o) => md5(o.data) === md5(CLAM_EXE)));
    // The names and digests of ClamAV's pdf-tmp files (clamscan --allmatch --leave-temps).
    assert.deepEqual(
      objects.map((o) => `${o.name}=${md5(o.data)}`),
      [
        'pdf obj 4 0=afeb29d29db00e7b0a56c1095a45152c',
        'pdf obj 11 0=00caa7c99f05f5c47d95c516d38c6f1e',
        'pdf obj 14 0=d6ceddd633b1dcc23e459f9579bde3b5',
        'pdf obj 14 0 contents=33af3356d8761430f7c7c76d93613f9a',
        'pdf obj 15 0=aa15bcf478d165efd2065190eb473bcb',
        'pdf obj 17 0=bca1a1a1c46d8bcc840e0936e4db6df5',
      ],
    );
  });

  it('matches clamscan on clam.pdf', { ...needsTestfiles, ...needsClamscan }, () => {
    assert.deepEqual(ours(testfile('clam.pdf')), clamav(testfile('clam.pdf')));
    assert.deepEqual(clamscan(testfile('clam.pdf'), { hdb: [hashSignature('Clam.Exe', CLAM_EXE)] }), ['Clam.Exe']);
  });
});

const TEXT = Buffer.from('BT /F1 12 Tf 72 712 Td (Hello) Tj ET\n[(Scan) -20 (THIS text)] TJ\nsome more content '.repeat(20));

describe('PDF filters and objects against clamscan', () => {
  const cases: Record<string, Buffer> = {
    'every filter alone': pdf(
      ...Object.keys(FILTERS).map((filter, i) => streamObject(i + 1, TEXT, [filter])),
      streamObject(9, TEXT, []),
    ),
    'filter chains and unsupported codecs': pdf(
      streamObject(1, TEXT, ['ASCII85Decode', 'FlateDecode']),
      streamObject(2, TEXT, ['ASCIIHexDecode', 'LZWDecode', 'RunLengthDecode']),
      streamObject(3, TEXT, ['FlateDecode', 'DCTDecode']),
      streamObject(4, TEXT, ['JBIG2Decode']),
      streamObject(5, TEXT, ['Crypt']),
      streamObject(6, TEXT, ['BogusDecode']),
    ),
    'LZW without early change': (() => {
      // LZW alone is not dumped (not in ClamAV's dump mask): chain it after ASCIIHex.
      const encoded = FILTERS.ASCIIHexDecode!(lzwEncode(TEXT, false));
      return pdf(
        Buffer.concat([
          Buffer.from(`1 0 obj\n<< /Filter [/ASCIIHexDecode /LZWDecode] /DecodeParms [null << /EarlyChange 0 >>] /Length ${encoded.length} >>\nstream\n`),
          encoded,
          Buffer.from('\nendstream\nendobj\n'),
        ]),
      );
    })(),
    'wrong and indirect lengths, CR starts and corrupt data': pdf(
      `1 0 obj\n<< /Filter /FlateDecode /Length 5 0 R >>\nstream\n${zlib.deflateSync(TEXT).toString('latin1')}\nendstream\nendobj\n5 0 obj\n${zlib.deflateSync(TEXT).length}\nendobj\n`,
      `2 0 obj\n<< /Filter /FlateDecode /Length 3 >>\nstream\r${zlib.deflateSync(TEXT).toString('latin1')}\nendstream\nendobj\n`,
      `3 0 obj\n<< /Filter /FlateDecode /Length 30 >>\nstream\ngarbage line\n${zlib.deflateSync(TEXT).toString('latin1')}\nendstream\nendobj\n`,
      `4 0 obj\n<< /Filter /FlateDecode /Length 40 >>\nstream\n${zlib.deflateSync(TEXT).subarray(0, 40).toString('latin1')}\nendstream\nendobj\n`,
      `6 0 obj\n<< /Filter /ASCIIHexDecode >>\nstream\n41 42 4\n3zz44>\nendstream\nendobj\n`,
    ),
    'JavaScript, actions and page contents': pdf(
      '1 0 obj\n<< /Type /Catalog /OpenAction 2 0 R /Pages 3 0 R >>\nendobj\n',
      '2 0 obj\n<< /S /JavaScript /JS (app.alert\\(1\\);\\n\\101\\102) >>\nendobj\n',
      '4 0 obj\n<< /JavaScript << /JS <6170702e616c657274283229> >> >>\nendobj\n',
      '5 0 obj\n<< /S /JavaScript /JS 6 0 R >>\nendobj\n',
      streamObject(6, Buffer.from('app.alert("indirect");'), []),
      '7 0 obj\n<< /Type /Page /Contents 8 0 R >>\nendobj\n',
      streamObject(8, TEXT, ['FlateDecode']),
      '9 0 obj\n<< /S /Launch /Launch << /F (cmd.exe) >> >>\nendobj\n',
      '10 0 obj\n<< /Type /EmbeddedFile /Length 12 >>\nstream\nembedded!!\n\nendstream\nendobj\n',
    ),
    'object streams': pdf(
      (() => {
        const header = '20 0 21 52 22 95 ';
        const body = '<< /Type /Action /S /JavaScript /JS (objstm) >>\n<< /OpenAction 22 0 R /Pages 1 0 R >>\n(a string object)\n';
        const data = zlib.deflateSync(Buffer.from(header + body));
        return Buffer.concat([
          Buffer.from(`1 0 obj\n<< /Type /ObjStm /N 3 /First ${header.length} /Length ${data.length} /Filter /FlateDecode >>\nstream\n`),
          data,
          Buffer.from('\nendstream\nendobj\n'),
        ]);
      })(),
      '2 0 obj\n<< /Type /ObjStm /N 5 /First 4 /Length 10 >>\nstream\n30 0 (x)\nendstream\nendobj\n',
    ),
    'images and a revision after %%EOF': pdf(
      streamObject(1, TEXT, ['FlateDecode'], '/Subtype /Image '),
      streamObject(2, TEXT, [], '/Subtype /Image /Filter /DCTDecode '),
      '%%EOF\n3 0 obj\n<< /S /JavaScript /JS (after the first revision) >>\nendobj\n',
    ),
    'truncated last object': Buffer.concat([pdf('1 0 obj\n<< /JS (x) /S /JavaScript >>\nendobj\n'), Buffer.from('2 0 obj\n<< /Filter /FlateDecode >>\nstream\nxx')]),
  };
  for (const [name, document] of Object.entries(cases)) {
    it(name, needsClamscan, () => {
      const expected = clamav(document);
      assert.ok(expected.length > 0, "ClamAV dumped objects");
      assert.deepEqual(ours(document), expected);
    });
  }
});

describe('PDF heuristics', () => {
  it('reports escaped common names as Heuristics.PDF.ObfuscatedNameObject, like clamscan', needsClamscan, () => {
    const document = pdf(streamObject(1, TEXT, []).toString('latin1').replace('/Length', '/Fil#74er /Fl#61teDecode /Length'));
    const ctx = recordingContext();
    extractAll(pdfHandler, document, ctx);
    assert.deepEqual(ctx.heuristics, [{ kind: 'heuristic', name: 'Heuristics.PDF.ObfuscatedNameObject' }]);
    assert.deepEqual(clamscan(document, { hdb: [hashSignature('None', new Uint8Array([1]))] }), ['Heuristics.PDF.ObfuscatedNameObject']);
  });

  it('reports an encrypted document it cannot decrypt as Heuristics.Encrypted.PDF', needsClamscan, () => {
    const document = Buffer.concat([
      pdf('1 0 obj\n<< /Filter /Standard /V 1 /R 2 /O <00> /U <00> /P -4 >>\nendobj\n'),
      Buffer.from('trailer\n<< /Encrypt 1 0 R /ID [<0102>] >>\nstartxref\n9\n%%EOF\n'),
    ]);
    const ctx = recordingContext();
    extractAll(pdfHandler, document, ctx);
    assert.ok(ctx.heuristics.some((h) => h.kind === 'encrypted-doc' && h.name === 'Heuristics.Encrypted.PDF'));
    assert.deepEqual(clamscan(document, { hdb: [hashSignature('None', new Uint8Array([1]))] }, ['--alert-encrypted-doc=yes']), [
      'Heuristics.Encrypted.PDF',
    ]);
  });
});

/** A well-formed document (catalog, page, contents, JavaScript, embedded file) for qpdf. */
function wellFormedPdf(): Buffer {
  const content = zlib.deflateSync(TEXT);
  const embedded = zlib.deflateSync(Buffer.from('embedded file payload '.repeat(40)));
  const objects: (string | Buffer)[] = [
    '<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R /Names << /EmbeddedFiles << /Names [(a.txt) 7 0 R] >> >> >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>',
    Buffer.concat([Buffer.from(`<< /Length ${content.length} /Filter /FlateDecode >>\nstream\n`), content, Buffer.from('\nendstream')]),
    '<< /Type /Action /S /JavaScript /JS (app.alert\\("encrypted js"\\);) >>',
    Buffer.concat([Buffer.from(`<< /Type /EmbeddedFile /Length ${embedded.length} /Filter /FlateDecode >>\nstream\n`), embedded, Buffer.from('\nendstream')]),
    '<< /Type /Filespec /F (a.txt) /EF << /F 6 0 R >> >>',
  ];
  const parts = [Buffer.from('%PDF-1.7\n')];
  const offsets: number[] = [];
  let at = parts[0]!.length;
  objects.forEach((object, i) => {
    const bytes = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), Buffer.from(object), Buffer.from('\nendobj\n')]);
    offsets.push(at);
    at += bytes.length;
    parts.push(bytes);
  });
  const xref = offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  parts.push(Buffer.from(`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${at}\n%%EOF\n`));
  return Buffer.concat(parts);
}

describe('encrypted PDFs (qpdf) against clamscan', () => {
  const variants: Record<string, string[]> = {
    'RC4 40-bit': ['--allow-weak-crypto', '--encrypt', '', 'owner', '40', '--'],
    'RC4 128-bit': ['--allow-weak-crypto', '--encrypt', '', 'owner', '128', '--use-aes=n', '--'],
    'AES-128': ['--encrypt', '', 'owner', '128', '--use-aes=y', '--'],
    'AES-256 (R6) with object streams': ['--object-streams=generate', '--encrypt', '', 'owner', '256', '--'],
    'AES-256 (R5)': ['--allow-weak-crypto', '--encrypt', '', 'owner', '256', '--force-R5', '--'],
    'a user password': ['--allow-weak-crypto', '--encrypt', 'secret', 'owner', '128', '--'],
  };
  for (const [name, args] of Object.entries(variants)) {
    it(name, { ...needsClamscan, ...needsTool('qpdf') }, () => {
      const dir = tempDir('clamts-qpdf-');
      const plain = dir.write('plain.pdf', wellFormedPdf());
      const encrypted = join(dir.root, 'encrypted.pdf');
      const result = spawnSync('qpdf', [...args, plain, encrypted]);
      assert.equal(result.status, 0, String(result.stderr));
      const document = readFileSync(encrypted);
      const expected = clamav(document);
      assert.deepEqual(ours(document), expected);
      const ctx = recordingContext();
      extractAll(pdfHandler, document, ctx);
      const locked = name === 'a user password';
      assert.equal(ctx.heuristics.some((h) => h.name === 'Heuristics.Encrypted.PDF'), locked);
      if (!locked) assert.ok(expected.length >= 2, 'ClamAV decrypted and dumped objects');
    });
  }
});

describe('PDF decoders', () => {
  it('decodes LZW with and without early change', () => {
    const text = Buffer.from('TOBEORNOTTOBEORTOBEORNOT#'.repeat(400));
    for (const early of [true, false]) {
      const result = decodeLzw(lzwEncode(text, early), early, 1 << 20);
      assert.equal(result.end, 'stream-end');
      assert.equal(Buffer.from(result.data).toString(), text.toString());
    }
    assert.equal(decodeLzw(new Uint8Array([0x80, 0x7f, 0xff]), true, 100).end, 'error');
  });

  it('decodes ASCII85 (Adobe vectors), RunLength and ASCIIHex', () => {
    const options = { limit: 1 << 20, earlyChange: true };
    assert.equal(Buffer.from(decodeStream(Buffer.from('87cURD_*#TDfTZ)+T~>'), [PdfFilter.Ascii85], options).data).toString(), 'Hello, world!');
    assert.deepEqual([...decodeStream(Buffer.from('z@:E^~>'), [PdfFilter.Ascii85], options).data], [0, 0, 0, 0, 0x61, 0x62, 0x63]);
    assert.deepEqual([...decodeStream(new Uint8Array([2, 1, 2, 3, 254, 9, 128]), [PdfFilter.RunLength], options).data], [1, 2, 3, 9, 9, 9]);
    assert.equal(Buffer.from(decodeStream(Buffer.from('48 65 6c6c 6f>'), [PdfFilter.AsciiHex], options).data).toString(), 'Hello');
    // A decoding error keeps what earlier filters produced; none decoded means the raw stream.
    const raw = Buffer.from('not ascii85 {');
    assert.equal(decodeStream(raw, [PdfFilter.Ascii85], options).data, raw);
  });

  it('stops inflating at the size limit and falls back to the raw stream', () => {
    const bomb = zlib.deflateSync(Buffer.alloc(10 * 1024 * 1024));
    const started = performance.now();
    const result = decodeStream(bomb, [PdfFilter.Flate], { limit: 1024 * 1024, earlyChange: true });
    assert.equal(result.data, bomb);
    assert.ok(performance.now() - started < 2000);
  });
});

describe('hostile PDFs', () => {
  it('survives truncations of the sample at every 53rd byte', needsTestfiles, () => {
    const sample = testfile('clam.pdf');
    for (let cut = 0; cut < sample.length; cut += 53) extractAll(pdfHandler, sample.subarray(0, cut));
  });

  it('handles deeply nested dictionaries and huge lengths in bounded time', () => {
    const nested = pdf(`1 0 obj\n${'<<'.repeat(50000)}/JS (x)${'>>'.repeat(50000)}\nendobj\n`);
    const huge = pdf('1 0 obj\n<< /Filter /FlateDecode /Length 99999999999999999999 >>\nstream\nxyz\nendstream\nendobj\n');
    const many = pdf(...Array.from({ length: 3000 }, (_, i) => `${i} 0 obj\n<< /JS (${i}) /S /JavaScript >>\nendobj\n`));
    for (const document of [nested, huge, many]) {
      const started = performance.now();
      extractAll(pdfHandler, document);
      assert.ok(performance.now() - started < 3000);
    }
  });

  it('survives seeded mutations (fuzz)', needsTestfiles, () => {
    fuzz(
      pdfHandler,
      [
        testfile('clam.pdf'),
        pdf(streamObject(1, TEXT, ['ASCII85Decode', 'FlateDecode']), streamObject(2, TEXT, ['LZWDecode']), '3 0 obj\n<< /JS (x) /S /JavaScript >>\nendobj\n'),
      ],
      { seed: 0x9df, maxMs: 3000 },
    );
  });
});
