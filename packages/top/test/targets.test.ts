import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '@clamts/core';
import { addressFromConfig, parseTarget } from '../src/targets.js';

const nothingExists = () => false;

describe('parseTarget', () => {
  it('takes absolute paths, and names of existing files, as unix sockets shown as local', () => {
    assert.deepEqual(parseTarget('/run/clamav/clamd.ctl', nothingExists), {
      address: '/run/clamav/clamd.ctl',
      label: 'local',
      endpoint: { path: '/run/clamav/clamd.ctl' },
    });
    assert.deepEqual(parseTarget('clamd.sock', (path) => path === 'clamd.sock').endpoint, { path: 'clamd.sock' });
  });

  it('reads host, host:port, [v6]:port and bare IPv6 addresses, with clamd\'s port 3310 by default', () => {
    assert.deepEqual(parseTarget('127.0.0.1:33101', nothingExists), {
      address: '127.0.0.1:33101',
      label: '127.0.0.1:33101',
      endpoint: { host: '127.0.0.1', port: 33101 },
      service: '33101',
    });
    assert.deepEqual(parseTarget('scanner', nothingExists).endpoint, { host: 'scanner', port: 3310 });
    assert.equal(parseTarget('scanner', nothingExists).label, 'scanner:3310');
    assert.deepEqual(parseTarget('[::1]:3311', nothingExists).endpoint, { host: '::1', port: 3311 });
    assert.equal(parseTarget('[::1]:3311', nothingExists).label, '[::1]:3311');
    // Two colons or more without brackets: all of it is the address.
    assert.deepEqual(parseTarget('fe80::1', nothingExists).endpoint, { host: 'fe80::1', port: 3310 });
    assert.equal(parseTarget('fe80::1', nothingExists).label, '[fe80::1]:3310');
  });

  it('keeps a port that is no number, for connecting to fail on', () => {
    const target = parseTarget('host:http', nothingExists);
    assert.equal(target.service, 'http');
    assert.ok(Number.isNaN((target.endpoint as { port: number }).port));
  });
});

describe('addressFromConfig', () => {
  const address = (text: string) => addressFromConfig(parseConfig(text, 'clamd', 'clamd.conf'));

  it('prefers LocalSocket, then TCPSocket on the first TCPAddr or localhost', () => {
    assert.equal(address('LocalSocket /run/c.sock\nTCPSocket 3310\n'), '/run/c.sock');
    assert.equal(address('TCPSocket 3311\nTCPAddr 10.0.0.1\nTCPAddr 10.0.0.2\n'), '10.0.0.1:3311');
    assert.equal(address('TCPSocket 3311\n'), 'localhost:3311');
    assert.equal(address('TCPSocket 3311\nTCPAddr ::1\n'), '[::1]:3311');
  });

  it('gives nothing when clamd listens nowhere', () => {
    assert.equal(address('LogTime yes\n'), undefined);
  });
});
