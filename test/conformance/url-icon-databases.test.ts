/**
 * Icon signatures (.idb) and the phishing URL lists (.pdb, .gdb, .wdb), against real clamscan:
 * every line is checked as ClamAV checks it, and `Known viruses` counts them as ClamAV does
 * (icons and domain-list entries count, the allow list does not), and the regexes of `R:`/`X:`
 * lines are refused as ClamAV refuses them. These tests are about loading (icons.test.ts checks
 * icon matching, phishing.test.ts URLs).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { comparable, haveTool, runClamAV, runClamTS } from '../support/run-tool.js';
import { haveSharedSigs, sharedSigs } from '../support/shared-sigs.js';

const skip = haveTool('clamscan') ? false : 'real clamscan is not installed';

/** An icon hash: the size, then color, gray, bright, dark, edge and no-edge samples, then the spread. */
function iconHash(parts: { size?: string; color?: string; gray?: string; bright?: string; dark?: string; edge?: string; noedge?: string; spread?: string } = {}): string {
  const wide = '1000a0b'.repeat(3);
  const narrow = '100a0b'.repeat(3);
  const { size = '20', color = wide, gray = wide, bright = narrow, dark = narrow, edge = narrow, noedge = narrow, spread = '10101020' } = parts;
  return size + color + gray + bright + dark + edge + noedge + spread;
}
const icon = (name: string, hash = iconHash(), groups = 'GROUP:OTHER') => `${name}:${groups}:${hash}\n`;

const DATABASES: Record<string, string> = {
  'good.idb': `# a comment\n${icon('Icon.A')}${icon('Icon.B', iconHash({ size: '10', color: '1000a0a'.repeat(3), gray: 'fe80e0e'.repeat(3) }))}`,
  'sizes.idb': icon('Icon.Small', iconHash({ size: '18', color: '0001515'.repeat(3), gray: '0001515'.repeat(3), bright: '001515'.repeat(3), dark: '001515'.repeat(3), edge: '001515'.repeat(3), noedge: '001515'.repeat(3) })),
  'tokens.idb': `${icon('Icon.A')}Icon.B:GROUP:${iconHash()}\n`,
  'extra-token.idb': `Icon.A:G:H:${iconHash()}:more\n`,
  'length.idb': `Icon.A:G:H:${iconHash()}0\n`,
  'chars.idb': `Icon.A:G:H:${iconHash().slice(0, -1)}g\n`,
  'size.idb': icon('Icon.A', iconHash({ size: '11' })),
  'color-average.idb': icon('Icon.A', iconHash({ color: `fe90a0b${'1000a0b'.repeat(2)}` })),
  'gray-position.idb': icon('Icon.A', iconHash({ gray: `1000a1d${'1000a0b'.repeat(2)}` })),
  'gray-edge-position.idb': icon('Icon.A', iconHash({ gray: `1000a1c${'1000a0b'.repeat(2)}` })),
  'bright.idb': icon('Icon.A', iconHash({ bright: `101d0b${'100a0b'.repeat(2)}` })),
  'dark.idb': icon('Icon.A', iconHash({ dark: `100a0b100a0b100aff` })),
  'edge.idb': icon('Icon.A', iconHash({ edge: `ff1d00${'100a0b'.repeat(2)}` })),
  'noedge.idb': icon('Icon.A', iconHash({ noedge: `100aff${'100a0b'.repeat(2)}` })),
  'spread.idb': icon('Icon.A', iconHash({ spread: '30303010' })),
  'spread-edge.idb': icon('Icon.A', iconHash({ spread: '30303007' })),
  'count.idb': icon('Icon.A', iconHash({ spread: '10101065' })),
  'groups.idb': Array.from({ length: 257 }, (_, i) => icon(`Icon.${i}`, iconHash(), `G${i}:H`)).join(''),
  'comments.idb': '# only a comment\n',
  'empty.idb': '',
  'hosts.pdb': 'H:example.com\nR:.+\\.example\\.net([/?].*)?\n\n# comment\nS:W:0123456789abcdef\nS:F:00ff\nS:P:0a0b0c0d\n',
  'levels.pdb': 'H:in.example:10-\nH:out.example:300-400\nH:old.example:1-20\nH:both.example:-\nH:dash-name.example\nH:x:ab-12\n',
  'hosts.gdb': 'H:example.org\nS:P:00112233\n',
  'colon.pdb': 'H:a.example\nnocolon\n',
  'kind.pdb': 'H:a.example\nQ:b.example\n',
  'hash-kind.pdb': 'S:X:00ff\n',
  'hash-empty.pdb': 'S:F:\n',
  'hash-odd.pdb': 'S:F:0ff\n',
  'hash-chars.pdb': 'S:F:zz\n',
  'overlong.pdb': `H:${'a'.repeat(8187)}\n`,
  'fits.pdb': `H:${'a'.repeat(8180)}\n`,
  'allow.wdb': 'X:.+\\.example\\.com([/?].*)?:.+\\.example\\.net([/?].*)?\nY:.+\\.example\\.org\nM:a.example:b.example\nS:W:00ff\n',
  'allow-host.wdb': 'H:example.com\n',
  'allow-hash.wdb': 'S:F:00ff\n',
  ...regexDatabases(),
};

/**
 * R (.pdb) and X (.wdb) lines whose regexes ClamAV's cli_regcomp refuses, each with its message,
 * and some it accepts in its own dialect (`\d` is `d`, `{` before a non-digit is ordinary); then
 * regexes cli_regcomp accepts but ClamAV's suffix builder refuses (a suffix under 2 characters, a
 * tree it cannot build), after a host line and alone (ClamAV then also warns), and empty hosts.
 */
function regexDatabases(): Record<string, string> {
  const patterns = [
    '(abc', 'a{2,1}', '*a', 'a**', '[z-a]', 'a\\', '|a', 'a{1', '[[:foo:]]', 'a{256}', 'a{,2}', '[a', 'x+?', '(?:a)',
    'a{1}{2}', '^*', '[]a]', '{1}a', 'a{1,2,3}', '[[.a.]]', '[[.foo.]]', '(|a)', '[[:alpha:]-z]', '(?i)[A-Z', '[[=a', 'a{1,}',
    '\\d+\\.example', '.+\\.ex([/?].*)?:(.+\\.)?y\\.com([/?].*)?',
  ];
  const suffixRefused = ['()', '$a', 'a|', 'a|b', 'a*', 'ab?', 'ab(c)?', 'a.', '.+\\.evil[a-z]+', 'a|()b', '[aa]x', 'x{2}', '[a-q]x', '[[:alpha:]]x'];
  const databases: Record<string, string> = {};
  [...patterns, ...suffixRefused].forEach((pattern, i) => {
    databases[`regex-${i}.pdb`] = `H:a.example\nR:${pattern}\n`;
    databases[`regex-${i}.wdb`] = `M:a.example:b.example\nX:${pattern}\n`;
  });
  suffixRefused.forEach((pattern, i) => {
    databases[`suffix-alone-${i}.pdb`] = `R:${pattern}\nH:a.example\n`;
    databases[`suffix-alone-${i}.wdb`] = `Y:${pattern}\n`;
  });
  databases['empty-host.pdb'] = 'H:\n';
  databases['empty-host-after.pdb'] = 'H:a.example\nH:\n';
  databases['empty-host.wdb'] = 'M:\n';
  return databases;
}

describe('.idb, .pdb, .gdb and .wdb loaded and counted as clamscan does', { skip }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-url-icon-'));
    writeFileSync(join(dir, 'clean.txt'), 'nothing here\n');
    for (const [name, text] of Object.entries(DATABASES)) writeFileSync(join(dir, name), text);
    if (haveSharedSigs) for (const name of ['daily.idb', 'daily.pdb', 'daily.wdb']) copyFileSync(sharedSigs(`clamav-daily-27371/${name}`), join(dir, `real-${name}`));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const names = [...Object.keys(DATABASES), ...(haveSharedSigs ? ['real-daily.idb', 'real-daily.pdb', 'real-daily.wdb'] : [])];
  for (const name of names) {
    for (const options of [[], ['--phishing-scan-urls=no']]) {
      it(`${name}${options.length ? ` ${options.join(' ')}` : ''}`, () => {
        const args = [...options, '-d', join(dir, name), join(dir, 'clean.txt')];
        const real = runClamAV('clamscan', args);
        const ours = runClamTS('clamscan', args);
        assert.deepEqual(
          { stdout: comparable(ours.stdout), stderr: ours.stderr, status: ours.status },
          { stdout: comparable(real.stdout), stderr: real.stderr, status: real.status },
        );
      });
    }
  }
});
