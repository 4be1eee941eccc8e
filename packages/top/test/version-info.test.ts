import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseVersion } from '../src/version-info.js';
import { CLAMTS_VERSION_REPLY, REAL_VERSION } from './fixtures.js';

describe('parseVersion', () => {
  it('splits real clamd\'s reply into engine, database version and hour (real clamdtop shows 1.4.6, 6, 2021-06-23T01)', () => {
    assert.deepEqual(parseVersion(REAL_VERSION), {
      description: REAL_VERSION,
      engine: '1.4.6',
      database: '6',
      databaseTime: '2021-06-23T01',
    });
  });

  it('shows ???? and N/A for a daemon without a CVD database (real clamdtop does for ClamAV 1.4.6 alone)', () => {
    assert.deepEqual(parseVersion('ClamAV 1.4.6'), { description: 'ClamAV 1.4.6', engine: '1.4.6', database: '????', databaseTime: 'N/A' });
    assert.equal(parseVersion(CLAMTS_VERSION_REPLY).engine, '0.1.0');
  });

  it('cuts the engine version at a dash and pads single-digit days', () => {
    const info = parseVersion('ClamAV 1.5.0-devel-20240101/27000/Mon Jan  1 09:05:00 2024');
    assert.equal(info.engine, '1.5.0');
    assert.equal(info.database, '27000');
    assert.equal(info.databaseTime, '2024-01-01T09');
  });

  it('gives no engine for a reply without digits and N/A for a date it cannot read', () => {
    assert.equal(parseVersion('UNKNOWN COMMAND').engine, '');
    assert.equal(parseVersion('ClamAV 1.4.6/27371/yesterday').databaseTime, 'N/A');
  });
});
