/**
 * File type detection compared with ClamAV 1.4.6.
 *
 * Every expected type below was recorded from the installed ClamAV: the `RootFileType` that
 * `clamscan --gen-json --debug --disable-cache --scan-ole2=no -d DB FILE` prints (with OLE2 parsing
 * off, because the OLE2 parser renames Word and PowerPoint roots), where DB is a directory holding
 * daily.ftm (27371) or custom.ftm, or no .ftm at all for the built-in magic, plus a one-line .hdb.
 * The debug lines were recorded from the same runs. filetypes-oracle.test.ts replays all of this
 * against the installed clamscan.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileTypeDetector } from '../src/filetypes/index.js';
import { CUSTOM_SAMPLES, SAMPLES } from './fixtures/filetypes/samples.js';
import { CaptureLogger } from './support/capture-logger.js';
import { dailyDetector } from './fixtures/filetypes/daily-ftm.js';
import { needsSharedSigs } from '../../../test/support/shared-sigs.js';

const CUSTOM_FTM = new URL('./fixtures/filetypes/custom.ftm', import.meta.url);
const CLAMAV_TESTFILES = '/usr/share/clamav-testfiles';

const builtin = FileTypeDetector.builtin();
const custom = FileTypeDetector.fromFtm(readFileSync(CUSTOM_FTM), { path: 'custom.ftm' });

/** [sample, type with daily.ftm, type with the built-in magic when it differs] (CL_TYPE_ left out). */
const SAMPLE_TYPES: Array<[string, string, string?]> = [
  ['7z.7z', '7Z'],
  ['alz.alz', 'ALZ'],
  ['apm.img', 'APM'],
  ['arj.arj', 'ARJ'],
  ['arjsfx-in-binary.bin', 'BINARY_DATA'],
  ['ascii.txt', 'TEXT_ASCII'],
  ['autoit-in-binary.bin', 'AUTOIT'],
  ['binhex.hqx', 'BINHEX'],
  ['bmp.bmp', 'GRAPHICS'],
  ['bzip2.bz2', 'BZ'],
  ['cab.cab', 'MSCAB'],
  ['cabsfx-in-binary.bin', 'BINARY_DATA'],
  ['clam-json.json', 'INTERNAL'],
  ['control-char.txt', 'TEXT_UTF16BE'],
  ['cpio-newc.cpio', 'CPIO_NEWC'],
  ['docx.docx', 'OOXML_WORD'],
  ['egg.egg', 'EGG'],
  ['elf.bin', 'ELF'],
  ['gif.gif', 'GIF'],
  ['gpt.img', 'GPT'],
  ['gzip.gz', 'GZ'],
  ['html-anchor.html', 'TEXT_ASCII'],
  ['html-cut-at-head.html', 'TEXT_ASCII'],
  ['html-in-binary.bin', 'HTML'],
  ['html-late.html', 'HTML'],
  ['html-then-pe.html', 'MSEXE'],
  ['html-then-zipsfx.html', 'TEXT_UTF16BE'],
  ['html-too-late.html', 'TEXT_ASCII'],
  ['html-ucs4be-bom.html', 'HTML'],
  ['html-ucs4be-nobom.html', 'HTML'],
  ['html-ucs4le-bom.html', 'HTML'],
  ['html-upper.html', 'HTML'],
  ['html-utf16be-bom.html', 'HTML'],
  ['html-utf16be-nobom.html', 'TEXT_UTF16BE'],
  ['html-utf16le-bom.html', 'HTML_UTF16'],
  ['html-utf16le-nobom.html', 'HTML_UTF16'],
  ['html.html', 'HTML'],
  ['hwp-ole2.bin', 'HWPOLE2'],
  ['hwpx-late.hwpx', 'OOXML_HWP'],
  ['hwpx.hwpx', 'OOXML_HWP'],
  ['java.class', 'JAVA'],
  ['jpeg.jpg', 'JPEG'],
  ['latin1.txt', 'TEXT_ASCII'],
  ['lha.lzh', 'TEXT_UTF16BE', 'LHA_LZH'],
  ['lnk.lnk', 'LNK'],
  ['macho-universal.bin', 'MACHO_UNIBIN'],
  ['macho.bin', 'MACHO'],
  ['mail-content-type.eml', 'MAIL'],
  ['mail-from.eml', 'MAIL'],
  ['mail-gap-too-long.eml', 'TEXT_ASCII'],
  ['mail-late-headers.eml', 'MHTML'],
  ['mail-mbox.mbox', 'MAIL'],
  ['mail-received.eml', 'MAIL'],
  ['mbr-signature-only.bin', 'MBR'],
  ['mbr.img', 'MBR'],
  ['mhtml.mht', 'MHTML'],
  ['mirc-ini.ini', 'POSIX_TAR'],
  ['mp3-id3.mp3', 'IGNORED'],
  ['mpeg-with-html.mpg', 'HTML'],
  ['mpeg.mpg', 'BINARY_DATA'],
  ['nsis-in-binary.bin', 'NULSFT'],
  ['nul-in-text.txt', 'TEXT_UTF16BE'],
  ['ogg.ogg', 'IGNORED'],
  ['ole2.bin', 'MSOLE2'],
  ['onenote.one', 'ONENOTE'],
  ['ooxml-likely-none.zip', 'ZIP'],
  ['ooxml-likely-word.docx', 'OOXML_WORD'],
  ['pdf-image-ignored.bin', 'IGNORED'],
  ['pdf-late-lower.pdf', 'PDF'],
  ['pdf-late.pdf', 'PDF'],
  ['pdf.pdf', 'PDF'],
  ['pe-gap-too-long.bin', 'BINARY_DATA'],
  ['pe-gap-too-short.bin', 'BINARY_DATA'],
  ['pe-in-binary.bin', 'MSEXE'],
  ['pe-tracked-ok.bin', 'MSEXE'],
  ['pe-tracked-overflow.bin', 'BINARY_DATA'],
  ['png.png', 'PNG'],
  ['postscript.ps', 'PS'],
  ['pptx.pptx', 'OOXML_PPT'],
  ['pyc.pyc', 'BINARY_DATA', 'PYTHON_COMPILED'],
  ['random-small.bin', 'TEXT_ASCII'],
  ['random.bin', 'TEXT_UTF16BE'],
  ['rar.rar', 'RAR'],
  ['rar5.rar', 'RAR'],
  ['realmedia.rm', 'IGNORED'],
  ['riff.wav', 'RIFF'],
  ['rtf.rtf', 'RTF'],
  ['six-letters.txt', 'TEXT_ASCII'],
  ['six-zeros.bin', 'BINARY_DATA'],
  ['sqlite.db', 'IGNORED'],
  ['swf-zlib.swf', 'SWF'],
  ['swf.swf', 'SWF'],
  ['szdd.bin', 'MSSZDD'],
  ['tar-gnu.tar', 'POSIX_TAR'],
  ['tar-posix.tar', 'POSIX_TAR'],
  ['tar-v7-bad-checksum.tar', 'BINARY_DATA'],
  ['tar-v7.tar', 'OLD_TAR'],
  ['tiff-be.tif', 'TIFF'],
  ['tiff-le.tif', 'TIFF'],
  ['tnef.tnef', 'TNEF'],
  ['udf-in-binary.bin', 'UDF'],
  ['utf16be-bom.txt', 'TEXT_UTF16BE'],
  ['utf16be-nobom.txt', 'TEXT_UTF16BE'],
  ['utf16le-bom-controls.txt', 'TEXT_UTF16LE'],
  ['utf16le-bom.txt', 'TEXT_UTF16LE'],
  ['utf16le-nobom.txt', 'TEXT_UTF16BE'],
  ['utf8-bom.txt', 'TEXT_ASCII'],
  ['utf8.txt', 'TEXT_ASCII'],
  ['uuencoded.uu', 'UUENCODED'],
  ['xar.xar', 'XAR'],
  ['xdp.xdp', 'XDP'],
  ['xlsx-first.xlsx', 'OOXML_XL'],
  ['xml-excel2003.xml', 'XML_XL'],
  ['xml-utf16be-nobom.html', 'HTML'],
  ['xml-utf16le-nobom.html', 'HTML_UTF16'],
  ['xml-word2003.xml', 'XML_WORD'],
  ['xz.xz', 'XZ'],
  ['zeros.bin', 'BINARY_DATA'],
  ['zip-late-local.zip', 'ZIP'],
  ['zip-spanned.zip', 'ZIP'],
  ['zip.zip', 'ZIP'],
  ['zipsfx-then-html.html', 'TEXT_UTF16BE'],
];

/** ClamAV's own test files (the clamav-testfiles package); the same with and without daily.ftm. */
const TESTFILE_TYPES: Array<[string, string]> = [
  ['clam-aspack.exe', 'MSEXE'],
  ['clam-fsg.exe', 'MSEXE'],
  ['clam-mew.exe', 'MSEXE'],
  ['clam-nsis.exe', 'MSEXE'],
  ['clam-pespin.exe', 'MSEXE'],
  ['clam-petite.exe', 'MSEXE'],
  ['clam-upack.exe', 'MSEXE'],
  ['clam-upx.exe', 'MSEXE'],
  ['clam-wwpack.exe', 'MSEXE'],
  ['clam-yc.exe', 'MSEXE'],
  ['clam.7z', '7Z'],
  ['clam.arj', 'ARJ'],
  ['clam.bin-be.cpio', 'CPIO_OLD'],
  ['clam.bin-le.cpio', 'CPIO_OLD'],
  ['clam.bz2.zip', 'ZIP'],
  ['clam.cab', 'MSCAB'],
  ['clam.chm', 'MSCHM'],
  ['clam.d64.zip', 'ZIP'],
  ['clam.ea05.exe', 'MSEXE'],
  ['clam.ea06.exe', 'MSEXE'],
  ['clam.exe', 'MSEXE'],
  ['clam.exe.binhex', 'BINHEX'],
  ['clam.exe.bz2', 'BZ'],
  ['clam.exe.html', 'HTML'],
  ['clam.exe.mbox.base64', 'MAIL'],
  ['clam.exe.mbox.uu', 'MAIL'],
  ['clam.exe.rtf', 'RTF'],
  ['clam.exe.szdd', 'MSSZDD'],
  ['clam.impl.zip', 'ZIP'],
  ['clam.mail', 'MAIL'],
  ['clam.newc.cpio', 'CPIO_NEWC'],
  ['clam.odc.cpio', 'CPIO_ODC'],
  ['clam.ole.doc', 'MSOLE2'],
  ['clam.pdf', 'PDF'],
  ['clam.ppt', 'MSOLE2'],
  ['clam.sis', 'SIS'],
  ['clam.tar.gz', 'GZ'],
  ['clam.tnef', 'TNEF'],
  ['clam.zip', 'ZIP'],
  ['clam_IScab_ext.exe', 'MSEXE'],
  ['clam_IScab_int.exe', 'MSEXE'],
  ['clam_ISmsi_ext.exe', 'MSEXE'],
  ['clam_ISmsi_int.exe', 'MSEXE'],
  ['clam_cache_emax.tgz', 'GZ'],
];

/** CUSTOM_SAMPLES with custom.ftm as the only type database. */
const CUSTOM_TYPES: Array<[string, string]> = [
  ['abcd-at-4.bin', 'RAR'],
  ['abcd-cut.bin', 'TEXT_ASCII'],
  ['choice-34.txt', 'ELF'],
  ['choice-56.txt', 'ELF'],
  ['choice-miss.txt', 'TEXT_ASCII'],
  ['gzip-deflate.gz', 'BZ'],
  ['gzip-other.gz', 'GZ'],
  ['html-then-ignore.txt', 'IGNORED'],
  ['html-then-mail.txt', 'MAIL'],
  ['html-then-pe.bin', 'MSEXE'],
  ['ignore-binary.bin', 'BINARY_DATA'],
  ['ignore-text.txt', 'IGNORED'],
  ['macro.txt', 'TEXT_ASCII'],
  ['mail-then-html.txt', 'MAIL'],
  ['near-end-past-shift.txt', 'TEXT_ASCII'],
  ['near-end-shifted.txt', 'TEXT_ASCII'],
  ['near-end.txt', 'TEXT_ASCII'],
  ['negated-miss.txt', 'TEXT_ASCII'],
  ['negated.txt', 'TIFF'],
  ['open-gap-short.txt', 'TEXT_ASCII'],
  ['open-gap.txt', 'XAR'],
  ['pe-then-html.bin', 'HTML'],
  ['qrst-at-10.txt', 'PDF'],
  ['qrst-at-15.txt', 'PDF'],
  ['qrst-at-16.txt', 'TEXT_ASCII'],
  ['qrst-at-9.txt', 'TEXT_ASCII'],
  ['small-gap-short.txt', 'TEXT_ASCII'],
  ['small-gap.txt', 'JAVA'],
  ['too-new.txt', 'TEXT_ASCII'],
  ['virus-like.txt', 'TEXT_ASCII'],
  ['wild-prefix-at-start.txt', 'TEXT_ASCII'],
  ['wild-prefix-at-two.txt', '7Z'],
  ['wild-prefix.txt', '7Z'],
  ['xyzz-binary.bin', 'BINARY_DATA'],
  ['xyzz-text.txt', 'RTF'],
  ['zipsfx-then-mail.txt', 'TEXT_UTF16BE'],
  ['zz-magic-html.bin', 'HTML'],
  ['zzzz-binary.bin', 'SWF'],
  ['zzzz-text.txt', 'TEXT_ASCII'],
];

/** The typing debug lines ClamAV prints before scanning starts (daily.ftm, so names are unofficial). */
const DEBUG_LINES: Record<string, string[]> = {
  'html.html': ['Recognized ASCII text', 'Matched signature for file type HTML data.UNOFFICIAL at 0'],
  'docx.docx': ['Recognized ZIP file', 'Recognized OOXML WORD file'],
  'pptx.pptx': ['Recognized ZIP file', 'Likely OOXML, checking additional zip headers', 'Recognized OOXML PPT file'],
  'tar-v7.tar': ['Recognized binary data', 'Recognized old fashioned tar file'],
  'mbr.img': ['Recognized binary data', 'Matched signature for file type Disk Image - Master Boot Record.UNOFFICIAL at 510'],
  'gpt.img': ['Recognized Disk Image - GUID Partition Table file'],
  'html-utf16le-bom.html': ['Recognized UTF-16LE character data', 'Matched signature for file type HTML data.UNOFFICIAL at 1'],
  'html-utf16be-bom.html': [
    'Recognized UTF-16BE character data',
    'Matched signature for file type HTML data.UNOFFICIAL at 1',
    'cli_determine_fmap_type: detected HTML signature in Unicode file',
  ],
  'zipsfx-then-html.html': ['Recognized UTF-16BE character data', 'Matched signature for file type ZIP-SFX.UNOFFICIAL at 10'],
  'pe-in-binary.bin': ['Recognized binary data', 'Matched signature for file type PE.UNOFFICIAL'],
  'mp3-id3.mp3': ['Recognized MP3 file'],
};

describe('file types with daily.ftm', needsSharedSigs, () => {
  for (const [name, type] of SAMPLE_TYPES) {
    it(`${name} is CL_TYPE_${type}`, () => assert.equal(dailyDetector().detect(SAMPLES[name]), `CL_TYPE_${type}`));
  }
  it('covers every sample', () => assert.deepEqual(SAMPLE_TYPES.map(([name]) => name).sort(), Object.keys(SAMPLES).sort()));
});

describe('file types with the built-in magic', () => {
  for (const [name, type, builtinType = type] of SAMPLE_TYPES) {
    it(`${name} is CL_TYPE_${builtinType}`, () => assert.equal(builtin.detect(SAMPLES[name]), `CL_TYPE_${builtinType}`));
  }
});

describe('file types with custom.ftm', () => {
  for (const [name, type] of CUSTOM_TYPES) {
    it(`${name} is CL_TYPE_${type}`, () => assert.equal(custom.detect(CUSTOM_SAMPLES[name]), `CL_TYPE_${type}`));
  }
  it('covers every sample', () => assert.deepEqual(CUSTOM_TYPES.map(([name]) => name).sort(), Object.keys(CUSTOM_SAMPLES).sort()));
});

describe("ClamAV's test files", existsSync(CLAMAV_TESTFILES) ? needsSharedSigs : { skip: 'clamav-testfiles is not installed' }, () => {
  for (const [name, type] of TESTFILE_TYPES) {
    it(`${name} is CL_TYPE_${type}`, () => {
      const data = readFileSync(join(CLAMAV_TESTFILES, name));
      assert.equal(dailyDetector().detect(data), `CL_TYPE_${type}`);
      assert.equal(builtin.detect(data), `CL_TYPE_${type}`);
    });
  }
});

describe('debug output while typing', needsSharedSigs, () => {
  for (const [name, lines] of Object.entries(DEBUG_LINES)) {
    it(name, () => {
      const logger = new CaptureLogger(true);
      dailyDetector().detect(SAMPLES[name], logger);
      assert.deepEqual(logger.debugs, lines);
    });
  }

  it('stays silent when debug is off', () => {
    const logger = new CaptureLogger(false);
    dailyDetector().detect(SAMPLES['html.html'], logger);
    assert.deepEqual(logger.debugs, []);
  });
});

describe('objects ClamAV never types', needsSharedSigs, () => {
  it('an empty object cannot be typed', () => assert.equal(dailyDetector().detect(new Uint8Array(0)), 'CL_TYPE_ERROR'));

  it('only the first 1024 bytes decide', () => {
    const html = Buffer.from('<html>');
    const text = Buffer.alloc(1024, 0x61);
    assert.equal(dailyDetector().detect(Buffer.concat([text.subarray(0, 1018), html])), 'CL_TYPE_HTML');
    assert.equal(dailyDetector().detect(Buffer.concat([text.subarray(0, 1019), html])), 'CL_TYPE_TEXT_ASCII');
  });
});

describe('partitions (magic type 4, 1028 bytes)', needsSharedSigs, () => {
  const hfsPlus = (at: number) => {
    const data = Buffer.alloc(2048);
    data.write('H+\x00\x04', at, 'latin1');
    return data;
  };

  it('recognises an HFS+ volume header at 1024', () => {
    const logger = new CaptureLogger(true);
    assert.equal(dailyDetector().detectPartition(hfsPlus(1024), logger), 'CL_TYPE_PART_HFSPLUS');
    assert.deepEqual(logger.debugs, ['Recognized HFS+ partition partition']);
  });

  it('falls back to CL_TYPE_PART_ANY', () => {
    const logger = new CaptureLogger(true);
    assert.equal(dailyDetector().detectPartition(hfsPlus(1030), logger), 'CL_TYPE_PART_ANY');
    assert.deepEqual(logger.debugs, ['Partition type is potentially unsupported']);
  });

  it('does not use partition magic for files', () => assert.equal(dailyDetector().detect(hfsPlus(1024)), 'CL_TYPE_BINARY_DATA'));
});
