/**
 * Type names, codes and signature targets.
 *
 * Codes and targets come from ClamAV 1.4's headers (libclamav/filetypes.h cli_file_t, matcher.h
 * cli_mtargets), the target names as `clamscan --debug` lists its matchers ("Matcher[8]: NOT USED");
 * which names databases may use was checked with clamscan on .ftm lines (see
 * filetypes-ftm.test.ts: CL_TYPE_ERROR, CL_TYPE_OTHER and lower-case names are refused).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DATABASE_TYPE_NAMES,
  MAX_TARGET_TYPE,
  TARGET_TYPES,
  databaseTypeCode,
  rawScanTarget,
  targetTypeOf,
  typeCode,
  typeName,
} from '../src/filetypes/index.js';

describe('type codes', () => {
  it('follow the enum of libclamav', () => {
    assert.equal(typeCode('CL_TYPE_ANY'), 0);
    assert.equal(typeCode('CL_TYPE_TEXT_ASCII'), 500);
    assert.equal(typeCode('CL_TYPE_BINARY_DATA'), 504);
    assert.equal(typeCode('CL_TYPE_ERROR'), 505);
    assert.equal(typeCode('CL_TYPE_MSEXE'), 506);
    assert.equal(typeCode('CL_TYPE_LHA_LZH'), 556);
    assert.equal(typeCode('CL_TYPE_PART_ANY'), 557);
    assert.equal(typeCode('CL_TYPE_HTML'), 560);
    assert.equal(typeCode('CL_TYPE_MAIL'), 561);
    assert.equal(typeCode('CL_TYPE_SFX'), 562);
    assert.equal(typeCode('CL_TYPE_IGNORED'), 586);
  });

  it('map back to names', () => {
    for (let code = 500; code <= 586; code++) assert.equal(typeCode(typeName(code)), code);
    assert.equal(typeName(0), 'CL_TYPE_ANY');
    assert.throws(() => typeName(587), RangeError);
    assert.throws(() => typeCode('CL_TYPE_NONE'), RangeError);
  });
});

describe('type names in databases', () => {
  it('are every type except CL_TYPE_ERROR and CL_TYPE_OTHER', () => {
    assert.equal(DATABASE_TYPE_NAMES.length, 86);
    assert.equal(DATABASE_TYPE_NAMES[0], 'CL_TYPE_ANY');
    assert.ok(!DATABASE_TYPE_NAMES.includes('CL_TYPE_ERROR'));
    assert.ok(!DATABASE_TYPE_NAMES.includes('CL_TYPE_OTHER'));
    assert.equal(databaseTypeCode('CL_TYPE_ERROR'), undefined);
    assert.equal(databaseTypeCode('CL_TYPE_OTHER'), undefined);
    assert.equal(databaseTypeCode('cl_type_zip'), undefined);
    assert.equal(databaseTypeCode('CL_TYPE_ZIP'), typeCode('CL_TYPE_ZIP'));
    assert.equal(databaseTypeCode('CL_TYPE_IGNORED'), 586);
  });
});

describe('signature targets', () => {
  it('map file types to the target of their scan', () => {
    const expected: Array<[string, number]> = [
      ['CL_TYPE_MSEXE', 1],
      ['CL_TYPE_MSOLE2', 2],
      ['CL_TYPE_HTML', 3],
      ['CL_TYPE_MAIL', 4],
      ['CL_TYPE_GRAPHICS', 5],
      ['CL_TYPE_GIF', 5],
      ['CL_TYPE_PNG', 5],
      ['CL_TYPE_JPEG', 5],
      ['CL_TYPE_TIFF', 5],
      ['CL_TYPE_ELF', 6],
      ['CL_TYPE_TEXT_ASCII', 7],
      ['CL_TYPE_MACHO', 9],
      ['CL_TYPE_MACHO_UNIBIN', 9],
      ['CL_TYPE_PDF', 10],
      ['CL_TYPE_SWF', 11],
      ['CL_TYPE_JAVA', 12],
      ['CL_TYPE_INTERNAL', 13],
      ['CL_TYPE_OTHER', 14],
      ['CL_TYPE_ZIP', 0],
      ['CL_TYPE_HTML_UTF16', 0],
      ['CL_TYPE_TEXT_UTF8', 0],
      ['CL_TYPE_BINARY_DATA', 0],
      ['CL_TYPE_ANY', 0],
    ];
    for (const [type, target] of expected) assert.equal(targetTypeOf(type), target, type);
  });

  it('scan raw ASCII text as generic data', () => {
    assert.equal(rawScanTarget('CL_TYPE_TEXT_ASCII'), 0);
    assert.equal(rawScanTarget('CL_TYPE_MSEXE'), 1);
  });

  it('have ClamAV names and ids 0 to 14', () => {
    assert.equal(MAX_TARGET_TYPE, 14);
    assert.deepEqual(
      TARGET_TYPES.map((target) => target.name),
      ['GENERIC', 'PE', 'OLE2', 'HTML', 'MAIL', 'GRAPHICS', 'ELF', 'ASCII', 'NOT USED', 'MACH-O', 'PDF', 'FLASH', 'JAVA', 'INTERNAL', 'OTHER'],
    );
    TARGET_TYPES.forEach((target, index) => assert.equal(target.id, index));
  });
});
