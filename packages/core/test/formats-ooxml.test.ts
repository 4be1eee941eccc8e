/**
 * OOXML: documents zipped here with Info-ZIP zip like Office writes them ([Content_Types].xml,
 * word/document.xml, an embedded OLE object). ClamAV types them CL_TYPE_OOXML_WORD/XL/PPT and
 * scans them with its zip scanner; the handler must yield exactly the zip handler's members, and
 * the embedded OLE2 object must lead to clam.exe as it does for clamscan.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { ole2Handler } from '../src/formats/ole2.js';
import { ooxmlHandler } from '../src/formats/ooxml.js';
import { zipHandler } from '../src/formats/zip.js';
import {
  CLAM_EXE, clamscan, extractAll, fuzz, hashSignature, md5, needsClamscan, needsTestfiles, needsTool, testfile,
} from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

const CONTENT_TYPES =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="xml" ContentType="application/xml"/><Default Extension="bin" ContentType="application/vnd.openxmlformats-officedocument.oleObject"/>' +
  '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>';

/** A .docx made with zip(1): content types first, as Office writes them. */
function docx(embedded: Uint8Array): Buffer {
  const dir = tempDir('clamts-ooxml-');
  const files: Record<string, Uint8Array | string> = {
    '[Content_Types].xml': CONTENT_TYPES,
    '_rels/.rels': '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>',
    'word/document.xml': '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>',
    'word/embeddings/oleObject1.bin': embedded,
  };
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir.root, 'doc', name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  const result = spawnSync('zip', ['-q', '-X', '-r', join(dir.root, 'out.docx'), '[Content_Types].xml', '_rels', 'word'], { cwd: join(dir.root, 'doc') });
  assert.equal(result.status, 0, String(result.stderr));
  return readFileSync(join(dir.root, 'out.docx'));
}

describe('OOXML', () => {
  const needs = { ...needsTestfiles, ...needsTool('zip', '-v') };

  it('yields the same parts as the zip handler', needs, () => {
    const document = docx(testfile('clam.ole.doc'));
    // The parts, after the metadata of every zip header (see formats-zip.test.ts).
    const parts = extractAll(ooxmlHandler, document).filter((p) => p.noMetadata);
    assert.deepEqual(
      parts.map((p) => p.name),
      ['[Content_Types].xml', '_rels/.rels', 'word/document.xml', 'word/embeddings/oleObject1.bin'],
    );
    assert.deepEqual(
      parts.map((p) => md5(p.data)),
      extractAll(zipHandler, document).filter((p) => p.noMetadata).map((p) => md5(p.data)),
    );
  });

  it('leads to clam.exe through the embedded OLE object, as clamscan does', { ...needs, ...needsClamscan }, () => {
    const document = docx(testfile('clam.ole.doc'));
    const embedded = extractAll(ooxmlHandler, document).find((p) => p.name === 'word/embeddings/oleObject1.bin' && p.noMetadata)!;
    assert.ok(extractAll(ole2Handler, embedded.data).some((o) => md5(o.data) === md5(CLAM_EXE)));
    assert.deepEqual(clamscan(document, { hdb: [hashSignature('Clam.Exe', CLAM_EXE)] }), ['Clam.Exe']);
  });

  it('is turned off with the archive switch, as in ClamAV', () => {
    assert.equal(ooxmlHandler.scanSwitch, 'archive');
    assert.deepEqual([...ooxmlHandler.fileTypes].sort(), ['CL_TYPE_OOXML_HWP', 'CL_TYPE_OOXML_PPT', 'CL_TYPE_OOXML_WORD', 'CL_TYPE_OOXML_XL']);
  });

  it('survives seeded mutations (fuzz)', needs, () => {
    fuzz(ooxmlHandler, [docx(Buffer.from('not really an OLE object'))], { seed: 0x00c });
  });
});
