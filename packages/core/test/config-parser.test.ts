/**
 * The config-file syntax and value semantics of ClamAV 1.4.
 *
 * Each case states what ClamAV 1.4.6 does (recorded from `clamconf -c DIR` runs) and is also
 * replayed against the installed clamconf when there is one, so a wrong expectation shows up.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isClamError } from '../src/errors.js';
import {
  CONFIG_FILE_NAMES,
  parseConfig,
  renderConfigOptions,
  type ConfigTool,
} from '../src/config/index.js';
import {
  clamconfListing,
  diagnostics,
  HAVE_CLAMCONF,
  HAVE_CLAMD,
  needs,
  run,
  withFiles,
} from './fixtures/config/real-clamav.js';

interface Case {
  readonly title: string;
  readonly text: string | Uint8Array;
  readonly tool?: ConfigTool;
  /** ClamAV's error message; `{path}` stands for the file's path. */
  readonly error?: string;
  readonly line?: number;
  /** Lines clamconf lists for the file. */
  readonly listed?: readonly string[];
  readonly warnings?: readonly string[];
}

const LONG_A = 'a'.repeat(1100);

const CASES: readonly Case[] = [
  // Layout of a line
  { title: 'blank and comment lines, blanks around name and value', text: '\n   # c\n\t LogTime\tyes \t\n', listed: ['LogTime = "yes"'] },
  { title: 'a one-character line is skipped', text: 'A\nLogTime yes\n', listed: ['LogTime = "yes"'] },
  { title: 'a two-character line is an option without argument', text: 'AB\n', error: 'Missing argument for option at {path}:1', line: 1 },
  { title: 'an option without argument', text: 'LogTime yes\nLogTime\n', error: 'Missing argument for option at {path}:2', line: 2 },
  { title: 'an option followed by blanks only', text: 'LogTime   \n', error: 'Missing argument for option at {path}:1', line: 1 },
  { title: 'no trailing comments: a bool with one is invalid', text: 'LogTime yes # c\n', error: 'Incorrect argument format for option LogTime', line: 1 },
  { title: 'no trailing comments: a string keeps it', text: 'LogFile /tmp/x # c\n', listed: ['LogFile = "/tmp/x # c"'] },
  { title: 'CRLF: the carriage return stays in the value (bool)', text: 'LogTime yes\r\n', error: 'Incorrect argument format for option LogTime', line: 1 },
  { title: 'CRLF: the carriage return stays in the value (string)', text: 'LogFile /tmp/x\r\n', listed: ['LogFile = "/tmp/x\r"'] },
  { title: 'a quoted value may hold blanks', text: 'LogFile "/tmp/a b"\n', listed: ['LogFile = "/tmp/a b"'] },
  { title: 'text after the closing quote is dropped', text: 'LogFile "/tmp/a" tail\n', listed: ['LogFile = "/tmp/a"'] },
  { title: 'quotes inside a value are kept', text: 'LogFile a"b"\n', listed: ['LogFile = "a"b""'] },
  { title: 'a quoted blank is a value', text: 'LogFile " "\n', listed: ['LogFile = " "'] },
  { title: 'quoted bool', text: 'LogTime "yes"\n', listed: ['LogTime = "yes"'] },
  { title: 'unclosed quote', text: 'LogFile "/tmp/a\n', error: 'Missing closing parenthesis in option LogFile at {path}:1', line: 1 },
  { title: 'empty quotes', text: 'LogFile ""\n', error: 'Empty argument for option LogFile at {path}:1', line: 1 },
  { title: 'a NUL byte ends the line', text: Buffer.from('LogFile /a\0b\n', 'latin1'), listed: ['LogFile = "/a"'] },
  { title: 'lines over 1023 bytes are split (the rest is a line of its own)', text: `LogFile /${LONG_A}\n`, error: 'Missing argument for option at {path}:2', line: 2 },
  { title: 'a split-off rest of two bytes is skipped', text: `LogFile /${'b'.repeat(1013)}xy\n`, listed: [`LogFile = "/${'b'.repeat(1013)}x"`] },
  // The Example line
  { title: 'Example', text: 'LogTime yes\nExample\n', error: 'Please edit the example config file {path}', line: 2 },
  { title: 'indented Example', text: ' Example\n', error: 'Please edit the example config file {path}', line: 1 },
  { title: 'any line starting with Example', text: 'ExampleX yes\n', error: 'Please edit the example config file {path}', line: 1 },
  { title: 'commented-out Example', text: '#Example\nLogTime yes\n', listed: ['LogTime = "yes"'] },
  { title: 'errors before the Example line come first', text: 'Foo bar\nExample\n', error: 'Parse error at {path}:1: Unknown option Foo', line: 1 },
  // Names
  { title: 'unknown option, with its line number', text: 'LogTime yes\n\n# c\nFoo bar\n', error: 'Parse error at {path}:4: Unknown option Foo', line: 4 },
  { title: 'names are case-sensitive', text: 'logtime yes\n', error: 'Parse error at {path}:1: Unknown option logtime', line: 1 },
  { title: 'the long command-line spelling is accepted', text: 'log-rotate yes\n', listed: ['LogRotate = "yes"'] },
  { title: 'a bad value under the long spelling is reported with that spelling', text: 'log-rotate maybe\n', error: 'Incorrect argument format for option log-rotate', line: 1 },
  { title: "command-line-only options of the tool are accepted", text: 'debug yes\nLogTime yes\n', listed: ['Debug disabled', 'LogTime = "yes"'] },
  { title: "another tool's options are unknown", text: 'DatabaseMirror x\n', error: 'Parse error at {path}:1: Unknown option DatabaseMirror', line: 1 },
  // Repetition
  { title: 'repeatable options keep every value', text: 'TCPAddr a\nTCPAddr b\n', listed: ['TCPAddr = "a", "b"'] },
  { title: 'other options keep the first value (yes, no)', text: 'LogTime yes\nLogTime no\n', listed: ['LogTime = "yes"'] },
  { title: 'other options keep the first value (no, yes)', text: 'LogTime no\nLogTime yes\n', listed: ['LogTime disabled'] },
  { title: 'a repeatable number whose first value is 0 is disabled', text: 'OnAccessExcludeUID 0\nOnAccessExcludeUID 5\n', listed: ['OnAccessExcludeUID disabled'] },
  { title: 'a repeatable number whose first value is not 0', text: 'OnAccessExcludeUID 5\nOnAccessExcludeUID 0\n', listed: ['OnAccessExcludeUID = "5", "0"'] },
  // Bools
  { title: 'bool spellings in any case', text: 'LogTime YES\nLogClean True\nLogVerbose 1\nLogSyslog FALSE\nLogRotate no\nFixStaleSocket 0\n', listed: ['LogTime = "yes"', 'LogClean = "yes"', 'LogSyslog disabled', 'LogVerbose = "yes"', 'LogRotate disabled', 'FixStaleSocket disabled'] },
  { title: 'on is not a bool', text: 'LogTime on\n', error: 'Incorrect argument format for option LogTime', line: 1 },
  // Numbers
  { title: 'number', text: 'TCPSocket 3310\n', listed: ['TCPSocket = "3310"'] },
  { title: 'a leading zero is still decimal', text: 'TCPSocket 010\n', listed: ['TCPSocket = "10"'] },
  { title: 'numbers are C ints: 2^32+1 wraps to 1', text: 'TCPSocket 4294967297\n', listed: ['TCPSocket = "1"'] },
  { title: 'numbers are C ints: 2^31 wraps negative', text: 'TCPSocket 2147483648\n', listed: ['TCPSocket = "-2147483648"'] },
  { title: 'numbers are C ints: 2^32 wraps to 0 (disabled)', text: 'TCPSocket 4294967296\n', listed: ['TCPSocket disabled'] },
  { title: 'numbers beyond long clamp, then wrap to -1 (disabled)', text: 'TCPSocket 99999999999999999999999\n', listed: ['TCPSocket disabled'] },
  { title: 'zero is a value but not enabled', text: 'TCPSocket 0\n', listed: ['TCPSocket disabled'] },
  { title: 'negative numbers are refused', text: 'TCPSocket -1\n', error: 'Incorrect argument format for option TCPSocket', line: 1 },
  { title: 'a plus sign is refused', text: 'TCPSocket +5\n', error: 'Incorrect argument format for option TCPSocket', line: 1 },
  { title: 'numbers take no suffix', text: 'TCPSocket 1K\n', error: 'Incorrect argument format for option TCPSocket', line: 1 },
  // Sizes
  { title: 'size suffixes in either case', text: 'StreamMaxLength 1k\nMaxScanSize 2m\nMaxFileSize 1G\nMaxEmbeddedPE 3K\nMaxHTMLNormalize 4M\nMaxHTMLNoTags 1g\n', listed: ['StreamMaxLength = "1024"', 'MaxScanSize = "2097152"', 'MaxFileSize = "1073741824"', 'MaxEmbeddedPE = "3072"', 'MaxHTMLNormalize = "4194304"', 'MaxHTMLNoTags = "1073741824"'] },
  { title: 'size 0 means no limit, stored as 2^63-1', text: 'StreamMaxLength 0\nMaxScanSize 00\n', listed: ['StreamMaxLength = "9223372036854775807"', 'MaxScanSize = "9223372036854775807"'] },
  { title: 'a leading zero makes a size octal', text: 'StreamMaxLength 010\nMaxScanSize 010K\n', listed: ['StreamMaxLength = "8"', 'MaxScanSize = "8192"'] },
  { title: 'an octal size with 8 or 9 in it', text: 'StreamMaxLength 08\n', error: "Can't parse numerical argument for option StreamMaxLength", line: 1 },
  { title: 'sizes beyond 2^53 stay exact', text: 'StreamMaxLength 9007199254740993\nMaxScanSize 8589934591G\n', listed: ['StreamMaxLength = "9007199254740993"', 'MaxScanSize = "9223372035781033984"'] },
  { title: 'a size above 2^63-1 is reset with a warning', text: 'StreamMaxLength 9223372036854775808\n', listed: ['StreamMaxLength = "9223372036854775807"'], warnings: ['Numerical value for option StreamMaxLength too high, resetting to 9223372036854775807'] },
  { title: 'a size whose suffix overflows is reset with a warning', text: 'StreamMaxLength 8589934592G\n', listed: ['StreamMaxLength = "9223372036854775807"'], warnings: ['Numerical value for option StreamMaxLength too high, resetting to 9223372036854775807'] },
  { title: 'only one-letter K, M, G suffixes', text: 'StreamMaxLength 1KB\n', error: 'Incorrect argument format for option StreamMaxLength', line: 1 },
  { title: 'no T suffix', text: 'StreamMaxLength 1T\n', error: 'Incorrect argument format for option StreamMaxLength', line: 1 },
  { title: 'no hexadecimal', text: 'StreamMaxLength 0x10\n', error: 'Incorrect argument format for option StreamMaxLength', line: 1 },
  // Strings with a fixed vocabulary
  { title: 'choices match in any case and keep the spelling', text: 'BytecodeSecurity paranoid\nBytecodeMode forcejit\n', listed: ['BytecodeSecurity = "paranoid"', 'BytecodeMode = "forcejit"'] },
  { title: 'a word outside the choices', text: 'BytecodeSecurity Foo\n', error: 'Incorrect argument format for option BytecodeSecurity', line: 1 },
  // Deprecated and hidden options (clamconf lists set deprecated options)
  { title: 'deprecated options are not validated', text: 'MailMaxRecursion bogus\nScanOnAccess yes\n', listed: ['*** MailMaxRecursion is DEPRECATED ***', '*** ScanOnAccess is DEPRECATED ***'] },
  { title: 'legacy names that are still options', text: 'AlgorithmicDetection no\nBlockMax yes\n', listed: ['AlgorithmicDetection disabled', 'BlockMax = "yes"'] },
  { title: 'hidden developer options', text: 'DevACOnly yes\nDevACDepth 3\n', listed: ['DevACOnly = "yes"', 'DevACDepth = "3"'] },
  // Other tools
  { title: 'freshclam: repeatable mirrors', tool: 'freshclam', text: 'DatabaseMirror a\nDatabaseMirror b\n', listed: ['DatabaseMirror = "a", "b"'] },
  { title: 'freshclam: "log" is UpdateLogFile', tool: 'freshclam', text: 'log /tmp/fc.log\n', listed: ['UpdateLogFile = "/tmp/fc.log"'] },
  { title: 'freshclam: deprecated SafeBrowsing', tool: 'freshclam', text: 'SafeBrowsing yes\n', listed: ['*** SafeBrowsing is DEPRECATED ***'] },
  { title: 'milter: LogClean is a string', tool: 'milter', text: 'LogClean Basic\nReadTimeout 300\n', listed: ['ReadTimeout = "300"', 'LogClean = "Basic"'] },
  { title: 'milter: clamd options it no longer uses', tool: 'milter', text: 'ScanPE yes\nTCPSocket 3310\n', listed: ['*** ScanPE is DEPRECATED ***', '*** TCPSocket is DEPRECATED ***'] },
  { title: 'milter: the first of two TemporaryDirectory entries wins, the deprecated one never', tool: 'milter', text: 'TemporaryDirectory /tmp\n', listed: ['TemporaryDirectory = "/tmp"'] },
  { title: 'milter: bad action', tool: 'milter', text: 'OnFail Blackhole\n', error: 'Incorrect argument format for option OnFail', line: 1 },
];

/** Parses as clamconf does (deprecated options kept), collecting warnings. */
function parseLikeClamconf(c: Case, path: string) {
  const warnings: string[] = [];
  const config = parseConfig(c.text, c.tool ?? 'clamd', path, {
    keepDeprecated: true,
    onWarning: (message) => warnings.push(message),
  });
  return { listing: renderConfigOptions(config), warnings };
}

function expectError(c: Case, path: string): void {
  assert.throws(
    () => parseConfig(c.text, c.tool ?? 'clamd', path),
    (error: unknown) => {
      assert.ok(isClamError(error));
      assert.equal(error.code, 'ECONFIG');
      assert.equal(error.message, c.error?.replace('{path}', path));
      assert.equal(error.line, c.line);
      assert.equal(error.path, path);
      return true;
    },
  );
}

describe('parseConfig follows ClamAV 1.4.6', () => {
  for (const c of CASES) {
    test(c.title, () => {
      if (c.error !== undefined) {
        expectError(c, 'test.conf');
        return;
      }
      const { listing, warnings } = parseLikeClamconf(c, 'test.conf');
      const lines = listing.split('\n');
      for (const expected of c.listed ?? []) assert.ok(lines.includes(expected), `missing ${expected}`);
      assert.deepEqual(warnings, c.warnings ?? []);
    });
  }
});

describe('the same cases against the installed clamconf', { skip: needs(HAVE_CLAMCONF, 'clamconf') }, () => {
  for (const c of CASES) {
    test(c.title, () => {
      const fileName = CONFIG_FILE_NAMES[c.tool ?? 'clamd'];
      withFiles({ [fileName]: c.text }, (dir) => {
        const real = run('clamconf', ['-c', dir]);
        const { errors, warnings } = diagnostics(real.stderr);
        const path = join(dir, fileName);
        if (c.error !== undefined) {
          assert.deepEqual(errors, [c.error.replace('{path}', path)]);
          expectError(c, path);
        } else {
          assert.deepEqual(errors, []);
          const mine = parseLikeClamconf(c, path);
          assert.equal(mine.listing, clamconfListing(real.stdout, fileName));
          assert.deepEqual(mine.warnings, warnings);
        }
      });
    });
  }
});

describe('typed access', () => {
  const config = parseConfig(
    [
      'TCPAddr 127.0.0.1',
      'TCPAddr ::1',
      'StreamMaxLength 0',
      'MaxThreads 4',
      'LogTime yes',
      'LogFile "/var/log/clam ts.log"',
      'OnAccessExcludeUID 1000',
      'OnAccessExcludeUID 1001',
      'log-rotate yes',
      '',
    ].join('\n'),
    'clamd',
    'typed.conf',
  );

  test('values set in the file', () => {
    assert.deepEqual(config.getStrings('TCPAddr'), ['127.0.0.1', '::1']);
    assert.equal(config.getNumber('MaxThreads'), 4);
    assert.equal(config.getBool('LogTime'), true);
    assert.equal(config.getString('LogFile'), '/var/log/clam ts.log');
    assert.deepEqual(config.getNumbers('OnAccessExcludeUID'), [1000, 1001]);
    assert.equal(config.get('LogRotate'), true);
    assert.equal(config.isSet('LogRotate'), true);
  });

  test('a long spelling names the same option', () => {
    assert.equal(config.getBool('log-rotate'), true);
    assert.equal(config.getNumber('max-dir-recursion'), config.getNumber('MaxDirectoryRecursion'));
  });

  test('size 0 reads as the largest number', () => {
    assert.equal(config.getNumber('StreamMaxLength'), Number(2n ** 63n - 1n));
  });

  test("defaults of options the file does not set (values from clamconf -g clamd.conf)", () => {
    assert.equal(config.getNumber('MaxQueue'), 100);
    assert.equal(config.getNumber('ReadTimeout'), 120);
    assert.equal(config.getNumber('CommandReadTimeout'), 30);
    assert.equal(config.getNumber('MaxConnectionQueueLength'), 200);
    assert.equal(config.getNumber('MaxScanSize'), 419430400);
    assert.equal(config.getString('DatabaseDirectory'), '/var/lib/clamav');
    assert.equal(config.isSet('MaxQueue'), false);
    assert.equal(config.isEnabled('MaxQueue'), true);
  });

  test('options without a default have no value', () => {
    assert.equal(config.get('TCPSocket'), undefined);
    assert.equal(config.getNumber('TCPSocket'), -1);
    assert.equal(config.isEnabled('TCPSocket'), false);
    assert.equal(config.getString('LocalSocket'), undefined);
    assert.deepEqual(config.getStrings('ExcludePath'), []);
    assert.equal(config.get('OnAccessExcludeRootUID'), undefined);
    assert.equal(config.getBool('OnAccessExcludeRootUID'), false);
  });

  test('asking for an unknown option or the wrong type is a programming error', () => {
    assert.equal(config.has('DatabaseMirror'), false);
    assert.throws(() => config.get('DatabaseMirror'), /no option called DatabaseMirror/);
    assert.throws(() => config.getBool('MaxThreads'), TypeError);
    assert.throws(() => config.getString('MaxThreads'), TypeError);
  });
});

describe('warnings for deprecated options (clamd and freshclam print them, clamconf does not)', () => {
  const warningsOf = (text: string, tool: ConfigTool, path: string) => {
    const warnings: string[] = [];
    const config = parseConfig(text, tool, path, { onWarning: (m) => warnings.push(m) });
    return { config, warnings };
  };

  test('clamd', () => {
    const { config, warnings } = warningsOf('MailMaxRecursion bogus\nLogTime yes\n', 'clamd', 'c.conf');
    assert.deepEqual(warnings, ['Ignoring deprecated option MailMaxRecursion at c.conf:1']);
    assert.equal(config.isSet('MailMaxRecursion'), false);
    assert.equal(renderConfigOptions(config).includes('DEPRECATED'), false);
  });

  test('a deprecated command-line-only option has no config name: ClamAV prints (null)', () => {
    const { warnings } = warningsOf('log-verbose yes\nSafeBrowsing yes\n', 'freshclam', 'f.conf');
    assert.deepEqual(warnings, [
      'Ignoring deprecated option (null) at f.conf:1',
      'Ignoring deprecated option SafeBrowsing at f.conf:2',
    ]);
  });

  test('against the installed clamd', { skip: needs(HAVE_CLAMD, 'clamd') }, () => {
    const text = 'MailMaxRecursion bogus\nScanOnAccess yes\nLogTime yes\n';
    withFiles({ 'clamd.conf': text }, (dir) => {
      const path = join(dir, 'clamd.conf');
      // -V prints the version after reading the config, so clamd does not start.
      const real = run('clamd', ['-c', path, '-V']);
      assert.equal(real.status, 0);
      assert.deepEqual(warningsOf(text, 'clamd', path).warnings, diagnostics(real.stderr).warnings);
    });
  });

  test('errors as the installed clamd reports them', { skip: needs(HAVE_CLAMD, 'clamd') }, () => {
    for (const text of ['Foo bar\n', 'LogTime maybe\n', 'Example\n', 'LogFile "x\n']) {
      withFiles({ 'clamd.conf': text }, (dir) => {
        const path = join(dir, 'clamd.conf');
        const real = run('clamd', ['-c', path, '-V']);
        assert.equal(real.status, 1);
        const { errors } = diagnostics(real.stderr);
        // clamd adds its own line after the parser's message.
        assert.equal(errors[1], `Can't open/parse the config file ${path}`);
        assert.throws(() => parseConfig(text, 'clamd', path), { message: errors[0] });
      });
    }
  });
});
