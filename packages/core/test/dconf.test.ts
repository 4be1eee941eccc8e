/**
 * DCONF: ClamAV's defaults and listing, `.cfg` lines as cli_dconf_load reads them (word syntax,
 * functionality-level ranges, unknown modules, errors with their line numbers), the named
 * queries, and the gates the scan takes from them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_DCONF, dconfListing, dconfOf, defaultDconfWords, type DconfWords } from '../src/engine/dconf.js';
import { FUNCTIONALITY_LEVEL } from '../src/engine/version.js';
import { ClamError } from '../src/errors.js';
import { dconfParses } from '../src/formats/dconf-gates.js';
import { DatabaseLoader } from '../src/signatures/loader.js';
import { mutate, prng } from './support/archive-samples.js';
import { CaptureLogger } from './support/capture-logger.js';

function load(text: string, logger = new CaptureLogger()): { words: DconfWords; count: number } {
  const loader = new DatabaseLoader({ logger });
  loader.loadBytes('test.cfg', new TextEncoder().encode(text), false);
  return { words: loader.builder.dconfWords, count: loader.builder.signatureCount };
}

function loadError(text: string): { error: unknown; logger: CaptureLogger } {
  const logger = new CaptureLogger();
  try {
    load(text, logger);
  } catch (error) {
    return { error, logger };
  }
  assert.fail(`loading ${JSON.stringify(text)} should fail`);
}

const DEFAULT_PE = defaultDconfWords().pe;

describe('DCONF defaults', () => {
  it('are ClamAV’s cli_dconf_init words', () => {
    assert.deepEqual(
      defaultDconfWords(),
      { pe: 0xfff7f, elf: 1, macho: 1, archive: 0x3fffffff, document: 0x7ff, mail: 3, other: 0x7fff, phishing: 3, bytecode: 7, stats: 0, pcre: 7 },
      'default words',
    );
  });

  it('answer named queries', () => {
    assert.equal(DEFAULT_DCONF.pe.swizzor, false, 'Swizzor is off by default');
    assert.equal(DEFAULT_DCONF.pe.certs, true, 'Authenticode certificates are on by default');
    assert.equal(DEFAULT_DCONF.archive.zip, true, 'ZIP is on by default');
    assert.equal(DEFAULT_DCONF.bytecode.jitArm, false, 'JIT ARM is off by default');
    assert.equal(dconfOf({ ...defaultDconfWords(), archive: 0 }).archive.zip, false, 'ZIP off with ARCHIVE:0x0');
  });

  it('list like cli_dconf_print, quirks included', () => {
    const lines = dconfListing({ ...defaultDconfWords(), elf: 0, archive: 0 });
    assert.deepEqual(lines.slice(0, 3), ['Dynamic engine configuration settings:', '--------------------------------------', 'Module PE: On'], 'heading');
    assert.ok(lines.includes('   * Submodule    SWIZZOR:\t** Off **'), 'an option that is off');
    assert.ok(lines.includes('   * Submodule IMAGE FUZZY HASH:\tOn'), 'a label longer than the field');
    assert.ok(lines.includes('Module MACHO: Off'), 'MACHO shows the ELF word, as ClamAV prints it');
    assert.ok(lines.includes('Module ARCHIVE: Off') && !lines.includes('   * Submodule        ZIP:\tOn'), 'no options under a module that is off');
    assert.ok(lines.includes('Module PHISHING On') && lines.includes('Module STATS Off'), 'later headings have no colon');
  });
});

describe('.cfg lines', () => {
  it('replace the module word and count as no signature', () => {
    const { words, count } = load('# comment\nARCHIVE:0x2\nPE:0xfffff\n');
    assert.equal(words.archive, 0x2, 'ARCHIVE word');
    assert.equal(words.pe, 0xfffff, 'PE word');
    assert.equal(count, 0, 'no signatures counted');
  });

  it('scan the word as sscanf("0x%x") does', () => {
    const cases: [string, number][] = [
      ['PE:0x20 junk', 0x20],
      ['PE:0x 20', 0x20],
      ['PE:0x0x20', 0x20],
      ['PE:0x+21', 0x21],
      ['PE:0x-1', 0xffffffff],
      ['PE:0x-0x1', 0xffffffff],
      ['PE:0x100000020', 0x20],
      ['PE:0x1ffffffff', 0xffffffff],
      ['PE:0x10000000000000000', 0xffffffff],
    ];
    for (const [line, word] of cases) assert.equal(load(`${line}\n`).words.pe, word, line);
  });

  it('apply only within the functionality-level range', () => {
    const level = FUNCTIONALITY_LEVEL;
    const cases: [string, boolean][] = [
      ['PE:0x10::', true],
      ['PE:0x10:1:', true],
      [`PE:0x10:${level}:${level}`, true],
      [`PE:0x10:0${level}`, true],
      [`PE:0x10:${level}x`, true],
      [`PE:0x10:${level + 1}`, false],
      [`PE:0x10:1:${level - 1}`, false],
      ['PE:0x10:1:1a', false],
      ['PE:0x10:abc', false],
      ['PE:0x10: 1', false],
      ['PE:0x10:1:a', false],
      ['PE:0x10:4294967513', false],
      ['PE:0x10:-1', false],
    ];
    for (const [line, applied] of cases) assert.equal(load(`${line}\n`).words.pe, applied ? 0x10 : DEFAULT_PE, line);
  });

  it('pass over unknown modules and lower-case names', () => {
    assert.deepEqual(load('FOO:0x1\npe:0x20\nPEX:zz\n').words, defaultDconfWords(), 'nothing changed');
  });

  it('stop at a malformed word with its line number', () => {
    for (const [text, line] of [
      ['PE:zz\n', 1],
      ['\n\nPE:0x20\nARCHIVE:zz\n', 4],
      ['PE: 0x20\n', 1],
      ['PE:0X20\n', 1],
      ['PE:0x\n', 1],
    ] as const) {
      const { error, logger } = loadError(text);
      assert.ok(error instanceof ClamError && error.code === 'EMALFDB', `${JSON.stringify(text)}: Malformed database`);
      assert.equal(logger.errors[0], `Problem parsing configuration file at line ${line}`, `${JSON.stringify(text)}: message`);
    }
  });

  it('load from inside containers too (daily.cfg)', () => {
    const loader = new DatabaseLoader();
    loader.loadBytes('daily.cfg', new TextEncoder().encode('PE:0xfffff\n'), true);
    assert.equal(loader.builder.build().dconf.pe.swizzor, true, 'the engine has Swizzor on');
  });

  it('turn off the phishing lists that load after them', () => {
    const loader = new DatabaseLoader();
    loader.loadBytes('a.cfg', new TextEncoder().encode('PHISHING:0x0\n'), false);
    loader.loadBytes('a.pdb', new TextEncoder().encode('H:example.com\nthis is malformed\n'), false);
    assert.equal(loader.builder.signatureCount, 0, 'the .pdb is passed over unread');
  });

  it('decide how PCRE subsignatures are compiled, whenever the .cfg loads', () => {
    const build = (word: string, logger = new CaptureLogger(true)) => {
      const loader = new DatabaseLoader({ logger });
      loader.loadBytes('a.ldb', new TextEncoder().encode('Bad;Engine:81-255,Target:0;0&1;414243;0/(x/g\n'), false);
      loader.loadBytes('a.cfg', new TextEncoder().encode(`PCRE:${word}\n`), false);
      loader.builder.build(logger);
      return logger;
    };
    assert.throws(() => build('0x7'), ClamError, 'a regex PCRE refuses fails the build');
    assert.doesNotThrow(() => build('0x0'), 'with SUPPORT off no regex is compiled');
    const logger = new CaptureLogger(true);
    assert.throws(() => build('0x3', logger), ClamError, 'GLOBAL off still compiles');
    assert.ok(logger.debugs.includes('cli_pcre_build: disabling global option for regex /(x/'), 'GLOBAL off: ClamAV’s debug line');
  });

  it('never throw anything but a load error on mutated input', () => {
    const random = prng(7);
    const sample = new TextEncoder().encode('PE:0xfffff:1:300\nARCHIVE:0x2\n# x\nPCRE:0x1::\nMAIL:0x0:216:216\n');
    for (let i = 0; i < 300; i++) {
      try {
        load(new TextDecoder('latin1').decode(mutate(sample, random)));
      } catch (error) {
        assert.ok(error instanceof ClamError, `only ClamError is thrown (iteration ${i})`);
      }
    }
  });
});

describe('DCONF gates', () => {
  it('map file types to their options', () => {
    const off = dconfOf({ ...defaultDconfWords(), archive: 0x3fffffff & ~0x2, document: 0x7ff & ~0x4, mail: 0x2 });
    assert.equal(dconfParses(off, 'CL_TYPE_ZIP'), false, 'ZIP off');
    assert.equal(dconfParses(off, 'CL_TYPE_ZIPSFX'), false, 'ZIP SFX follows ZIP');
    assert.equal(dconfParses(off, 'CL_TYPE_PDF'), false, 'PDF off');
    assert.equal(dconfParses(off, 'CL_TYPE_MAIL'), false, 'mail off');
    assert.equal(dconfParses(off, 'CL_TYPE_TNEF'), true, 'TNEF still on');
    assert.equal(dconfParses(off, 'CL_TYPE_GZ'), true, 'GZIP still on');
    assert.equal(dconfParses(off, 'CL_TYPE_MSEXE'), true, 'types without a gate are parsed');
  });
});
