// The connection state machine, driven with the byte sequences whose replies were recorded from
// real ClamAV 1.4.6 clamd (see test/conformance/clamd-protocol.test.ts for the live comparison).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ClamdConnection,
  type ClamdRequest,
  type ConnectionHost,
  type ConnectionSettings,
  type ConnectionTransport,
} from '../src/clamd/connection.js';
import { statusReply } from '../src/clamd/replies.js';

/** A connection wired to recording fakes; `replies` collects what clamd would send. */
function harness(settings: Partial<ConnectionSettings> = {}) {
  const log = {
    output: '',
    closed: false,
    readingStopped: false,
    closedFds: [] as number[],
    timeouts: [] as Array<number | undefined>,
    requests: [] as ClamdRequest[],
    shutdowns: 0,
    reloads: 0,
  };
  const transport: ConnectionTransport = {
    write: (text) => {
      assert.equal(log.closed, false, `write after close: ${JSON.stringify(text)}`);
      log.output += text;
    },
    close: () => {
      log.closed = true;
    },
    stopReading: () => {
      log.readingStopped = true;
    },
    closeDescriptor: (fd) => log.closedFds.push(fd),
    setReadTimeout: (seconds) => log.timeouts.push(seconds),
  };
  const host: ConnectionHost = {
    dispatch: (_connection, request) => log.requests.push(request),
    versionString: () => 'ClamTS 0.1.0',
    shutdown: () => log.shutdowns++,
    reload: () => log.reloads++,
  };
  const connection = new ClamdConnection(host, transport, {
    streamMaxLength: 10,
    commandReadTimeout: 30,
    readTimeout: 120,
    descriptorPassing: true,
    ...settings,
  });
  const send = (text: string, fd?: number) => connection.receive(Buffer.from(text, 'latin1'), fd);
  /** Answers a path/stream request the way a scan job would, then finishes it. */
  const answer = (index: number, status: string) => {
    const job = (log.requests[index] as ClamdRequest).job;
    const subject = log.requests[index]?.kind === 'path' ? (log.requests[index] as { path: string }).path : 'stream';
    job.reply(statusReply(job.target, subject, status));
    job.finish();
  };
  return { connection, log, send, answer };
}

describe('clamd connection: quick commands', () => {
  const cases: Array<[string, string]> = [
    ['zPING\0', 'PONG\0'],
    ['nPING\n', 'PONG\n'],
    ['PING', 'PONG\n'],
    ['PING\n', 'PONG\n'],
    ['PING\r\n', 'PONG\n'],
    ['zVERSION\0', 'ClamTS 0.1.0\0'],
    [
      'nVERSIONCOMMANDS\n',
      'ClamTS 0.1.0| COMMANDS: SCAN QUIT RELOAD PING CONTSCAN VERSIONCOMMANDS VERSION END SHUTDOWN MULTISCAN FILDES ' +
        'STATS IDSESSION INSTREAM DETSTATSCLEAR DETSTATS ALLMATCHSCAN RAWSCAN STREAM\n',
    ],
    ['VERSIONCOMMANDS', 'UNKNOWN COMMAND\n'],
    ['STATS', 'UNKNOWN COMMAND\n'],
    ['zFOO\0', 'UNKNOWN COMMAND\0'],
    ['FOO', 'UNKNOWN COMMAND\n'],
    ['zPINGX\0', 'UNKNOWN COMMAND\0'],
    ['zSCAN\0', 'UNKNOWN COMMAND\0'],
    ['zEND\0', 'UNKNOWN COMMAND\0'],
    ['END', 'UNKNOWN COMMAND\n'],
    ['zDETSTATS\0', ''],
    ['DETSTATSCLEAR', ''],
    ['zPING\0zPING\0', 'PONG\0'],
    ['nPING\nnVERSION\n', 'PONG\n'],
    ['zFILDES\0\0', 'No file descriptor received. ERROR\0'],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)} and close`, () => {
      const { log, send } = harness();
      send(input);
      assert.equal(log.output, expected);
      assert.equal(log.closed, true);
      assert.equal(log.requests.length, 0);
    });
  }

  it('RELOAD replies RELOADING and asks for a reload; SHUTDOWN and QUIT close silently', () => {
    const reload = harness();
    reload.send('zRELOAD\0');
    assert.equal(reload.log.output, 'RELOADING\0');
    assert.equal(reload.log.reloads, 1);
    for (const command of ['zSHUTDOWN\0', 'QUIT']) {
      const { log, send } = harness();
      send(command);
      assert.deepEqual([log.output, log.shutdowns, log.closed], ['', 1, true]);
    }
  });

  it('waits for the rest of a prefixed command split over reads', () => {
    const { log, send } = harness();
    send('zPI');
    assert.equal(log.output, '');
    send('NG\0');
    assert.equal(log.output, 'PONG\0');
  });

  it('takes one read as one unprefixed command', () => {
    const { log, send } = harness();
    send('PI');
    assert.deepEqual([log.output, log.closed], ['UNKNOWN COMMAND\n', true]);
  });
});

describe('clamd connection: path commands', () => {
  it('dispatches SCAN with the argument after one separator character, then waits for the reply', () => {
    for (const [input, path, term] of [
      ['zSCAN /tmp/a\0', '/tmp/a', '\0'],
      ['zSCAN\t/tmp/a\0', '/tmp/a', '\0'],
      ['zSCAN  /tmp/a\0', ' /tmp/a', '\0'],
      ['SCAN /tmp/a', '/tmp/a', '\n'],
      ['nCONTSCAN /tmp/a \n', '/tmp/a ', '\n'],
      ['zSCAN /tmp/a\n\0', '/tmp/a\n', '\0'],
    ] as const) {
      const { log, send, answer } = harness();
      send(input);
      assert.equal(log.requests.length, 1, input);
      const request = log.requests[0] as Extract<ClamdRequest, { kind: 'path' }>;
      assert.equal(request.path, path);
      assert.deepEqual(request.job.target, { id: 0, term });
      assert.deepEqual([log.closed, log.readingStopped], [false, true]);
      answer(0, 'OK');
      assert.equal(log.output, `${path}: OK${term}`);
      assert.equal(log.closed, true);
    }
  });

  it('says "Error processing command." for data after the last command, and still replies', () => {
    const { log, send, answer } = harness();
    send('zSCAN /tmp/a\0zPING\0');
    assert.equal(log.output, 'Error processing command. ERROR\0');
    assert.equal(log.closed, false);
    answer(0, 'OK');
    assert.equal(log.output, 'Error processing command. ERROR\0/tmp/a: OK\0');
    assert.equal(log.closed, true);
  });

  it('leaves the CR of an n-command ending in CRLF behind as garbage, as clamd does', () => {
    const { log, send, answer } = harness();
    send('nSCAN /tmp/a\r\n');
    answer(0, 'OK');
    assert.equal(log.output, 'Error processing command. ERROR\n/tmp/a: OK\n');
  });
});

describe('clamd connection: INSTREAM', () => {
  const chunk = (data: string) => `${String.fromCharCode(0, 0, 0, data.length)}${data}`;
  const end = '\0\0\0\0';

  it('collects chunks up to the zero-length one and dispatches the data', () => {
    const { log, send, answer } = harness();
    send(`zINSTREAM\0${chunk('hello')}${chunk('world')}${end}`);
    const request = log.requests[0] as Extract<ClamdRequest, { kind: 'instream' }>;
    assert.equal(Buffer.from(request.data).toString(), 'helloworld');
    answer(0, 'OK');
    assert.deepEqual([log.output, log.closed], ['stream: OK\0', true]);
  });

  it('accepts chunks split anywhere, headers included', () => {
    const { log, send } = harness();
    const bytes = `nINSTREAM\n${chunk('hello')}${chunk('abc')}${end}`;
    for (const character of bytes) send(character);
    const request = log.requests[0] as Extract<ClamdRequest, { kind: 'instream' }>;
    assert.equal(Buffer.from(request.data).toString(), 'helloabc');
    assert.deepEqual(request.job.target, { id: 0, term: '\n' });
  });

  it('refuses a stream over StreamMaxLength as soon as a chunk header announces it', () => {
    for (const body of [`${chunk('hello')}${chunk('world!')}${end}`, `${chunk('helloworld!')}${end}`]) {
      const { log, send } = harness();
      send(`zINSTREAM\0${body}`);
      assert.deepEqual([log.output, log.closed, log.requests.length], ['INSTREAM size limit exceeded. ERROR\0', true, 0]);
    }
    const { log, send } = harness();
    send(`zINSTREAM\0${chunk('helloworld')}${end}`);
    assert.equal(log.requests.length, 1);
  });

  it('is not an old-style command', () => {
    const { log, send } = harness();
    send(`INSTREAM\n${chunk('hello')}${end}`);
    assert.equal(log.output, 'UNKNOWN COMMAND\n');
  });
});

describe('clamd connection: IDSESSION', () => {
  it('numbers replies and closes after END once every job has replied', () => {
    const { log, send, answer } = harness();
    send('zIDSESSION\0zPING\0zSCAN /tmp/a\0zSCAN /tmp/b\0zEND\0');
    assert.equal(log.output, '1: PONG\0');
    assert.deepEqual(
      log.requests.map((request) => request.job.target),
      [
        { id: 2, term: '\0' },
        { id: 3, term: '\0' },
      ],
    );
    answer(1, 'Eicar FOUND');
    assert.equal(log.closed, false);
    answer(0, 'OK');
    assert.equal(log.output, '1: PONG\x003: /tmp/b: Eicar FOUND\x002: /tmp/a: OK\0');
    assert.equal(log.closed, true);
  });

  it('keeps the connection open between commands', () => {
    const { log, send } = harness();
    send('nIDSESSION\nnPING\n');
    send('nVERSION\n');
    assert.equal(log.output, '1: PONG\n2: ClamTS 0.1.0\n');
    assert.equal(log.closed, false);
    send('nEND\n');
    assert.equal(log.closed, true);
  });

  it('refuses commands that are not allowed in a session', () => {
    for (const command of ['zCONTSCAN /tmp\0', 'zIDSESSION\0', 'zFOO\0', 'zSHUTDOWN\0']) {
      const { log, send } = harness();
      send(`zIDSESSION\0${command}`);
      assert.deepEqual([log.output, log.closed], ['1: Command invalid inside IDSESSION. ERROR\0', true]);
    }
  });

  it('refuses unprefixed commands in a session, with both of clamd’s messages', () => {
    const { log, send } = harness();
    send('zIDSESSION\0zPING\0');
    send('PING\n');
    assert.equal(
      log.output,
      '1: PONG\x002: Only nCMDS\\n and zCMDS\\0 are accepted inside IDSESSION. ERROR\x002: Error processing command. ERROR\0',
    );
  });

  it('leaves an unprefixed command after a prefixed one in the same read for the next read', () => {
    const { log, send } = harness();
    send('zIDSESSION\0zPING\0PING\n');
    assert.deepEqual([log.output, log.closed], ['1: PONG\0', false]);
  });

  it('answers STATS and INSTREAM asynchronously under their own numbers', () => {
    const { log, send, answer } = harness();
    send('zIDSESSION\0zINSTREAM\0\0\0\0\x05hello\0\0\0\0zPING\0zEND\0');
    assert.equal(log.output, '2: PONG\0');
    answer(0, 'OK');
    assert.equal(log.output, '2: PONG\x001: stream: OK\0');
    assert.equal(log.closed, true);
  });

  it('stops the session’s jobs when the client goes away', () => {
    const { connection, log, send } = harness();
    send('zIDSESSION\0zSCAN /tmp/a\0');
    const job = (log.requests[0] as ClamdRequest).job;
    assert.equal(job.cancelled, false);
    connection.readError();
    assert.equal(job.cancelled, true);
    assert.equal(log.closed, false);
    job.finish();
    assert.equal(log.closed, true);
  });
});

describe('clamd connection: FILDES', () => {
  it('takes the descriptor from the packet after the command', () => {
    const { log, send, answer } = harness();
    send('zFILDES\0');
    assert.equal(log.requests.length, 0);
    send('\0', 12);
    const request = log.requests[0] as Extract<ClamdRequest, { kind: 'fildes' }>;
    assert.equal(request.fd, 12);
    answer(0, 'OK');
    assert.equal(log.closed, true);
  });

  it('takes it from the same packet too', () => {
    const { log, send } = harness();
    send('zFILDES\0\0', 9);
    assert.equal((log.requests[0] as Extract<ClamdRequest, { kind: 'fildes' }>).fd, 9);
    assert.deepEqual(log.closedFds, []);
  });

  it('closes a descriptor sent without FILDES and reports the protocol error', () => {
    const { log, send } = harness();
    send('zIDSESSION\0');
    send('zPING\0', 7);
    assert.equal(log.output, '1: PONG\x002: PROTOCOL ERROR: ancillary data sent without FILDES. ERROR\0');
    assert.deepEqual(log.closedFds, [7]);
    assert.equal(log.closed, true);
  });

  it('closes a descriptor that came with a command that ends the connection', () => {
    const { log, send } = harness();
    send('zPING\0', 5);
    assert.deepEqual([log.output, log.closedFds, log.closed], ['PONG\0', [5], true]);
  });

  it('says FILDES is unsupported where descriptors cannot be passed', () => {
    const { log, send } = harness({ descriptorPassing: false });
    send('zFILDES\0\0');
    assert.equal(log.output, 'FILDES support not compiled in. ERROR\0');
  });
});

describe('clamd connection: limits and timeouts', () => {
  it('drops a client whose command does not fit in the buffer, without a reply', () => {
    const { log, send } = harness();
    send(`z${'A'.repeat(5000)}`);
    assert.deepEqual([log.output, log.closed], ['', true]);
  });

  it('accepts a command that fills most of the buffer', () => {
    const { log, send } = harness();
    send(`zSCAN /${'a'.repeat(4090)}\0`);
    assert.equal(log.requests.length, 1);
  });

  it('says COMMAND READ TIMED OUT (always with a newline) and closes', () => {
    const { connection, log, send } = harness();
    send('zPI');
    connection.timedOut();
    assert.deepEqual([log.output, log.closed], ['COMMAND READ TIMED OUT\n', true]);
  });

  it('arms CommandReadTimeout first, ReadTimeout after a command, nothing while waiting for a reply', () => {
    const { log, send } = harness();
    assert.deepEqual(log.timeouts, [30]);
    send('zIDSESSION\0');
    assert.deepEqual(log.timeouts, [30, 120]);
    send('zSCAN /a\0zEND\0');
    assert.equal(log.timeouts.at(-1), undefined);
  });
});
