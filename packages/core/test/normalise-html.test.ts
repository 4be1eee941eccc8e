/**
 * HTML normalisation for target-type-3 signatures, compared byte for byte with ClamAV's own
 * normaliser: `sigtool --html-normalise=FILE` writes nocomment.html, notags.html, javascript and
 * the rfc2397/ data-URI files into the current directory (sigtool crashes on exit after writing
 * them, so its exit status is ignored). The documents are generated from pieces that reach the
 * normaliser's corner cases: entities, comments, scripts (escape/dF/eval packers, JScript.Encode),
 * style URLs, data URIs, broken tags, non-ASCII bytes and documents longer than its buffers.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { normaliseHtml } from '../src/formats/normalise/html.js';
import { haveTool, needsTestfiles, prng, testfile } from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

const needsSigtool = haveTool('sigtool') ? {} : { skip: 'sigtool (the oracle) is not installed' };
const SAMPLES = Number(process.env.CLAMTS_ORACLE_SAMPLES) || 40;

const PIECES = [
  '<a href="http://x.com/A">Link</a>', "<img src='pic.GIF'>", '<IMG SRC=foo.png alt="x y">', '&amp;', '&lt;', '&nbsp;', '&eacute;',
  '&Eacute;', '&#65;', '&#x42;', '&#x263a;', '&#0;', '&#99999999999999999999999;', '&#xFFFF;', '&#x3002;', '&bogus;', '&amp', '& ',
  '&#', '&#x;', '<!-- comment -->', '<!DOCTYPE html>', '<script>var a = "x" + "y"; function f(b){ var c = b; return c.len; } f(a);</script>',
  "<script language='javascript'>document.write(unescape('%3Cb%3E'));</script>", '<script>eval("var q=1;alert(q)")</script>',
  "<script>dF('%264Dvfulsw%265%264H')</script>", "<script>x = 1.5e3 + 0.000001 + 123456789 + 1e21; y = 'q\\'z' </script>",
  '<style>body { background: url(data:image/gif;base64,R0lGODlhAQABAAAAACw=); color: red }</style>', '<STYLE>p{}</STYLE>',
  '<a href="data:text/plain;base64,SGVsbG8=">d</a>', "<a href='data:application/x-foo,%41%42%4%zz&amp;x'>e</a>", '<a href=data:,hi>f</a>',
  '<p class="A B" id=X>', '</P>', '<br/>', '<div\n style="x">', 'Hello', 'WORLD', '  ', '\n', '\r\n', '\t', 'caf\xc3\xa9', '\xe3\x80\x82',
  '\xa1C', '\x80\x81\x82\x83', '<%@ language="jscript.encode" %>', '#@~^DgAAAA==\\ko3K        JtUDJ@#@&KgUAAA==^#~@',
  '<script language="JScript.Encode">#@~^DgAAAA==\\ko3K        JtUDJ@#@&KgUAAA==^#~@</script>', '<a href="x\\"y">q</a>',
  "<b title='it''s'>", '<td nowrap>', '<  b  >', '< /b>', '<!--x', '-->', '<', '>', '"', "'", '=', '\\', '<a href = "u" >',
  '<tag attr=val>', '\x00', 'X'.repeat(100), 'word '.repeat(50),
];

function generated(seed: number): Buffer {
  const random = prng(seed);
  const pick = (n: number) => Math.floor(random() * n);
  let text = '';
  for (let i = 5 + pick(60); i > 0; i--) text += PIECES[pick(PIECES.length)];
  if (pick(4) === 0) text = text.repeat(1 + pick(400)); // crosses the 8 KiB chunk boundaries
  return Buffer.from(text, 'latin1');
}

interface Outputs {
  nocomment?: Buffer;
  notags?: Buffer;
  javascript?: Buffer;
  dataUris: string[];
}

function sigtool(html: Uint8Array): Outputs {
  const dir = tempDir('clamts-html-');
  const input = dir.write('input.html', html);
  spawnSync('sigtool', [`--html-normalise=${input}`], { cwd: dir.root, stdio: 'ignore' });
  const read = (name: string) => (existsSync(join(dir.root, name)) ? readFileSync(join(dir.root, name)) : undefined);
  const uriDir = join(dir.root, 'rfc2397');
  const dataUris = existsSync(uriDir) ? readdirSync(uriDir).map((name) => readFileSync(join(uriDir, name)).toString('latin1')) : [];
  return { nocomment: read('nocomment.html'), notags: read('notags.html'), javascript: read('javascript'), dataUris: dataUris.sort() };
}

function ours(html: Uint8Array): Outputs {
  const result = normaliseHtml(html);
  const buffer = (bytes?: Uint8Array) => (bytes === undefined ? undefined : Buffer.from(bytes));
  return {
    nocomment: buffer(result.nocomment),
    notags: buffer(result.notags),
    javascript: buffer(result.javascript),
    dataUris: result.dataUris.map((uri) => Buffer.from(uri).toString('latin1')).sort(),
  };
}

describe('HTML normalisation against sigtool --html-normalise', () => {
  it('clam.exe.html', { ...needsTestfiles, ...needsSigtool }, () => {
    assert.deepEqual(ours(testfile('clam.exe.html')), sigtool(testfile('clam.exe.html')));
  });

  it(`${SAMPLES} generated documents`, needsSigtool, () => {
    for (let seed = 1; seed <= SAMPLES; seed++) {
      const html = generated(seed);
      assert.deepEqual(ours(html), sigtool(html), `seed ${seed}`);
    }
  });
});

describe('HTML normalisation rules', () => {
  it('lower-cases tags, keeps entities ClamAV keeps and drops comments (outputs checked with sigtool)', () => {
    const result = normaliseHtml(Buffer.from('<P CLASS="X">Caf&eacute; &amp; &#x263a;<!-- hidden --></P>'));
    assert.equal(Buffer.from(result.nocomment).toString('latin1'), '<p class="x">caf\xe9 & &#x263a;</p>');
    assert.equal(Buffer.from(result.notags).toString('latin1'), ' caf ');
  });

  it('collects scripts into the javascript output only when there is one', () => {
    assert.ok(normaliseHtml(Buffer.from('<script>var  Name = "A";</script>')).javascript?.length);
    assert.equal(normaliseHtml(Buffer.from('<p>no script</p>')).javascript, undefined);
  });
});
