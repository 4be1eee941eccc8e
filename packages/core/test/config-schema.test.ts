/**
 * The option schema against ClamAV 1.4.6: `clamconf -g <file>` lists every option of a config
 * file with its default and sample values, so the generated samples must match it line for line
 * except for the descriptions, which are ClamTS's own words.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CONFIG_FILE_NAMES,
  CONFIG_SCHEMA,
  configToolForFileName,
  findOption,
  generateSampleConfig,
  optionsFor,
  type ConfigTool,
} from '../src/config/index.js';
import { HAVE_CLAMCONF, needs, run } from './fixtures/config/real-clamav.js';

const TOOLS: readonly ConfigTool[] = ['clamd', 'freshclam', 'milter'];

/** Option names in the order a sample file lists them. */
function sampleOptionNames(sample: string): string[] {
  const names: string[] = [];
  const lines = sample.split('\n');
  lines.forEach((line, i) => {
    if (lines[i - 1]?.startsWith('# Default: ')) names.push(/^#(\w+)/.exec(line)?.[1] ?? '');
  });
  return names;
}

/** The sample with every run of description lines replaced by one placeholder. */
function skeleton(sample: string): string {
  const out: string[] = [];
  for (const line of sample.split('\n')) {
    const description = line.startsWith('# ') && !line.startsWith('# Default: ');
    if (!description) out.push(line);
    else if (out.at(-1) !== '# …') out.push('# …');
  }
  return out.join('\n');
}

describe('generated sample files match clamconf -g', { skip: needs(HAVE_CLAMCONF, 'clamconf') }, () => {
  for (const tool of TOOLS) {
    const fileName = CONFIG_FILE_NAMES[tool];
    const real = run('clamconf', ['-g', fileName]).stdout;
    const mine = generateSampleConfig(tool, '1.4.6');

    test(`${fileName}: the same options in the same order`, () => {
      assert.deepEqual(sampleOptionNames(mine), sampleOptionNames(real));
    });

    test(`${fileName}: the same header, defaults and sample values`, () => {
      assert.equal(skeleton(mine), skeleton(real));
    });
  }
});

describe('schema facts recorded from ClamAV 1.4.6', () => {
  test('number of options in each sample file (clamconf -g)', () => {
    const counts = TOOLS.map((tool) => sampleOptionNames(generateSampleConfig(tool, '1.4.6')).length);
    assert.deepEqual(counts, [131, 36, 35]);
  });

  test('clamd defaults', () => {
    const defaults = Object.fromEntries(
      ['MaxThreads', 'MaxQueue', 'StreamMaxLength', 'TCPAddr', 'LocalSocket', 'ReadTimeout',
        'CommandReadTimeout', 'MaxConnectionQueueLength', 'IdleTimeout', 'SelfCheck', 'MaxScanSize',
        'MaxFileSize', 'MaxRecursion', 'MaxFiles', 'PCRERecMatchLimit', 'LogFacility', 'Foreground',
        'ScanPE', 'OnAccessExcludeRootUID'].map((name) => [name, findOption('clamd', name)?.default]),
    );
    assert.deepEqual(defaults, {
      MaxThreads: 10,
      MaxQueue: 100,
      StreamMaxLength: 104857600,
      TCPAddr: null,
      LocalSocket: null,
      ReadTimeout: 120,
      CommandReadTimeout: 30,
      MaxConnectionQueueLength: 200,
      IdleTimeout: 30,
      SelfCheck: 600,
      MaxScanSize: 419430400,
      MaxFileSize: 104857600,
      MaxRecursion: 17,
      MaxFiles: 10000,
      PCRERecMatchLimit: 2000,
      LogFacility: 'LOG_LOCAL6',
      Foreground: false,
      ScanPE: true,
      OnAccessExcludeRootUID: null,
    });
  });

  test('a name can mean different options to different tools', () => {
    assert.equal(findOption('clamd', 'ReadTimeout')?.examples[0], '120');
    assert.equal(findOption('milter', 'ReadTimeout')?.examples[0], '300');
    assert.equal(findOption('clamd', 'LogClean')?.type, 'bool');
    assert.equal(findOption('milter', 'LogClean')?.type, 'string');
    assert.equal(findOption('freshclam', 'log')?.name, 'UpdateLogFile');
    assert.equal(findOption('clamd', 'log')?.name, 'LogFile');
  });

  test('repeatable options', () => {
    const repeatable = (tool: ConfigTool) =>
      optionsFor(tool).filter((s) => s.name && s.repeatable && !s.deprecated).map((s) => s.name);
    assert.deepEqual(repeatable('clamd'), ['TCPAddr', 'ExcludePath', 'ExcludePUA', 'IncludePUA',
      'OnAccessMountPath', 'OnAccessIncludePath', 'OnAccessExcludePath', 'OnAccessExcludeUID',
      'OnAccessExcludeUname']);
    assert.deepEqual(repeatable('freshclam'), ['DatabaseMirror', 'PrivateMirror', 'ExtraDatabase',
      'ExcludeDatabase', 'DatabaseCustomURL']);
    assert.deepEqual(repeatable('milter'), ['ClamdSocket', 'LocalNet']);
  });

  test('deprecated config options of each tool', () => {
    const deprecated = (tool: ConfigTool) =>
      optionsFor(tool).filter((s) => s.name && s.deprecated).map((s) => s.name);
    assert.deepEqual(deprecated('clamd'), ['DetectBrokenExecutables', 'MailMaxRecursion',
      'ArchiveMaxScanSize', 'ArchiveMaxRecursion', 'ArchiveMaxFiles', 'ArchiveMaxCompressionRatio',
      'ArchiveBlockMax', 'ArchiveLimitMemoryUsage', 'MailFollowURLs', 'AllowSupplementaryGroups',
      'ScanOnAccess']);
    assert.deepEqual(deprecated('freshclam'), ['SafeBrowsing', 'AllowSupplementaryGroups']);
    assert.equal(deprecated('milter').length, 21);
  });

  test('every option a sample lists has a description and sample values', () => {
    for (const tool of TOOLS) {
      for (const spec of optionsFor(tool)) {
        if (!spec.name || spec.deprecated || spec.hidden) continue;
        assert.notEqual(spec.description, '', `${spec.name} has no description`);
        assert.ok(spec.examples.length > 0, `${spec.name} has no sample value`);
      }
    }
  });

  test('choices only on string options, and defaults of the right type', () => {
    for (const spec of CONFIG_SCHEMA) {
      if (spec.choices) assert.equal(spec.type, 'string');
      if (spec.default === null) continue;
      const expected = { bool: 'boolean', number: 'number', size: 'number', string: 'string' };
      assert.equal(typeof spec.default, expected[spec.type], spec.name ?? spec.longopt);
    }
  });

  test('sample layout', () => {
    const sample = generateSampleConfig('clamd', '1.4.6');
    assert.ok(sample.startsWith(
      '##\n## clamd.conf - automatically generated by clamconf 1.4.6\n##\n\n' +
        '# Comment out or remove the line below.\nExample\n\n',
    ));
    assert.match(sample, /\n# Default: 419430400\n#MaxScanSize 400M\n/);
    assert.match(sample, /\n# Default: disabled\n#ExcludePath \^\/proc\/\n#ExcludePath \^\/sys\/\n/);
    assert.ok(sample.endsWith('# Default: no\n#ArchiveBlockEncrypted no\n'));
    assert.doesNotMatch(sample, /#(DevACOnly|MailMaxRecursion|ScanOnAccess) /);
  });

  test('config file names', () => {
    assert.equal(configToolForFileName('clamav-milter.conf'), 'milter');
    assert.equal(configToolForFileName('clamd.conf'), 'clamd');
    assert.equal(configToolForFileName('clamscan.conf'), undefined);
  });
});
