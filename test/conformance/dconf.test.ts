/**
 * `.cfg` databases (DCONF) against real clamscan: the `--debug` listing of the configuration
 * (defaults, changed words, ClamAV's real daily.cfg) and where it comes among the other debug
 * lines, the errors of malformed lines, "Known viruses", and the detections that change when a
 * parser, an unpacker or a heuristic is switched off (or Swizzor on, see swizzor.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertSameReports, haveTool, runClamAV, runClamTS } from '../support/run-tool.js';
import { sharedSigs } from '../support/shared-sigs.js';

const skip = !haveTool('clamscan') ? 'real clamscan is not installed' : false;
const TESTFILES = '/usr/share/clamav-testfiles';
const DAILY_CFG = sharedSigs('clamav-daily-27371/daily.cfg');

/** The listing and the lines around it that both tools print: loads, errors, and a scan line after it. */
const LISTING_LINE = /Dynamic engine configuration|^LibClamAV debug: -{38}$|Module |Submodule |\.cfg loaded|Problem parsing|Can't load|Matched signature for file type PE/;

function listing(stderr: string): string[] {
  return stderr.split('\n').filter((line) => LISTING_LINE.test(line));
}

describe('DCONF (.cfg databases) against real clamscan', { skip }, () => {
  let dir = '';
  let hashes = '';
  const cfg = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-dconf-'));
    // The test files' payload (clam.exe), by MD5, so that every container's member is found.
    hashes = cfg('clam.hdb', 'aa15bcf478d165efd2065190eb473bcb:544:Clamav.Test.File-6\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const listings = (args: string[]) => {
    const all = ['--debug', '-d', hashes, ...args, join(TESTFILES, 'clam.exe')];
    return { real: listing(runClamAV('clamscan', all).stderr), ours: listing(runClamTS('clamscan', all).stderr) };
  };

  it('lists the default configuration as ClamAV does, just before the scan', () => {
    const { real, ours } = listings([]);
    assert.ok(real.length > 90, `clamscan printed its listing (${real.length} lines)`);
    assert.deepEqual(ours, real, 'the same listing');
  });

  it('lists changed words, modules turned off and the real daily.cfg', () => {
    const changed = cfg('changed.cfg', '# words\nPE:0xfffff\nARCHIVE:0x0\nELF:0x0\nPHISHING:0x1\nSTATS:0x3\nPCRE:0x0:1:\nMAIL:0x0:300\n');
    for (const args of [['-d', changed], ['-d', DAILY_CFG]]) {
      const { real, ours } = listings(args);
      assert.deepEqual(ours, real, `the same listing with ${args[1]}`);
    }
  });

  it('reports malformed lines as ClamAV does', () => {
    for (const [name, text] of [
      ['bad-word.cfg', 'PE:zz\n'],
      ['late.cfg', '# ok\nPE:0x20\n\nARCHIVE:0X2\n'],
      ['blank.cfg', 'DOCUMENT: 0x1\n'],
    ]) {
      const args = ['-d', cfg(name!, text!), join(TESTFILES, 'clam.exe')];
      const real = runClamAV('clamscan', args);
      const ours = runClamTS('clamscan', args);
      assert.equal(ours.stderr, real.stderr, `the same errors for ${name}`);
      assert.equal(ours.status, real.status, `the same exit code for ${name}`);
    }
  });

  it('counts no .cfg line among the known viruses', () => {
    assertSameReports(['-d', hashes, '-d', DAILY_CFG, join(TESTFILES, 'clam.exe')]);
  });

  it('finds nothing a parser, unpacker or heuristic switched off would have found', () => {
    const cases: [string, string[]][] = [
      ['ARCHIVE:0x0', ['clam.zip', 'clam.7z', 'clam.tar.gz', 'clam.cab', 'clam.exe.bz2']],
      ['ARCHIVE:0x3ffffffd', ['clam.zip', 'clam.impl.zip', 'clam.tar.gz']],
      ['ARCHIVE:0x3fffff7f', ['clam.ole.doc', 'clam.ppt']],
      ['ARCHIVE:0x3fff77ff', ['clam-nsis.exe', 'clam_ISmsi_int.exe']],
      ['ARCHIVE:0x3fffdfff', ['clam.ea05.exe', 'clam.ea06.exe']],
      ['PE:0xfffdf', ['clam-upx.exe', 'clam-fsg.exe']],
      ['PE:0xd58df', ['clam-upx.exe', 'clam-aspack.exe', 'clam-mew.exe', 'clam-petite.exe', 'clam-yc.exe', 'clam-wwpack.exe', 'clam-pespin.exe', 'clam-upack.exe', 'clam-fsg.exe']],
      ['DOCUMENT:0x7fb', ['clam.pdf']],
      ['DOCUMENT:0x7fd', ['clam.exe.rtf']],
      ['DOCUMENT:0x7fe', ['clam.exe.html']],
      ['DOCUMENT:0x7ee', ['clam.exe.html']],
      ['MAIL:0x0', ['clam.mail', 'clam.exe.mbox.base64', 'clam.tnef']],
      ['MAIL:0x1', ['clam.tnef', 'clam.mail']],
      ['OTHER:0x7ffe', ['clam.exe.mbox.uu']],
    ];
    for (const [line, files] of cases) {
      const config = cfg(`${line.replace(':', '-')}.cfg`, `${line}\n`);
      assertSameReports(['--no-summary', '-d', hashes, '-d', config, ...files.map((file) => join(TESTFILES, file))]);
    }
  });

  it('compiles PCRE subsignatures as the PCRE word says: off, without options, without global', () => {
    // Each signature needs one PCRE feature: the regex at all, its `i` or `A` option, its `g` flag.
    const hex = (text: string) => Buffer.from(text).toString('hex');
    const ldb = cfg(
      'pcre.ldb',
      [
        `Pcre.Plain;Engine:81-255,Target:0;0&1;${hex('marker')};0/x\\d/`,
        `Pcre.Caseless;Engine:81-255,Target:0;0&1;${hex('marker')};0/MARKER\\s+X\\d/i`,
        `Pcre.Anchored;Engine:81-255,Target:0;0&1;${hex('marker')};0/x[0-9]/rA`,
        `Pcre.Global;Engine:81-255,Target:0;0&1>2;${hex('marker')};0/x\\d/g`,
        // A regex PCRE refuses: ClamAV compiles none with SUPPORT off, so the file then loads.
        `Pcre.Broken;Engine:81-255,Target:0;0&1;${hex('zzz')};0/(unclosed/`,
      ].join('\n') + '\n',
    );
    const valid = cfg('pcre-valid.ldb', readFileSync(ldb, 'latin1').split('\n').filter((line) => !line.startsWith('Pcre.Broken')).join('\n'));
    const sample = cfg('pcre-sample.txt', 'marker x1 x2 x3 x4\n');
    for (const word of ['0x7', '0x0', '0x5', '0x3', '0x1', '0x6']) {
      const config = cfg(`pcre-${word}.cfg`, `PCRE:${word}\n`);
      for (const database of [valid, ldb]) {
        const args = ['--allmatch', '--debug', '-d', config, '-d', database, sample];
        const real = runClamAV('clamscan', args);
        const ours = runClamTS('clamscan', args);
        assert.deepEqual(ours.stdout.split('\n').filter((line) => line.includes('FOUND')).sort(), real.stdout.split('\n').filter((line) => line.includes('FOUND')).sort(), `the same reports with PCRE:${word} and ${database}`);
        assert.equal(ours.status, real.status, `the same exit code with PCRE:${word} and ${database}`);
        const pcreLines = (stderr: string) => stderr.split('\n').filter((line) => /cli_pcre_(build|compile)|Malformed|Problem/.test(line));
        assert.deepEqual(pcreLines(ours.stderr), pcreLines(real.stderr), `the same PCRE build lines with PCRE:${word} and ${database}`);
      }
    }
  });
});
