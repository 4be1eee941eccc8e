/**
 * ClamAV's phishing check of mail links (mbox.c checkURLs → phishcheck.c phishingScan), compared
 * with real clamscan on generated mails: links whose text shows another domain, listed or not in a
 * small .pdb, allowed by .wdb `X:`/`M:` lines, https shown for http (with and without
 * --alert-phishing-ssl), cloaked URLs (--alert-phishing-cloak), the options that turn the check
 * off or change its report, and the real daily.pdb and daily.wdb; the URL hash lookups of `S`
 * lines (hashes computed here from ClamAV's rules), also of the URLs of plain-text parts; the
 * suffix prefilter of `R` regexes (regexes whose tail ClamAV misreads never match); and
 * --heuristic-scan-precedence, which stops the mail at its first phishing alert.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertSameReports, haveTool, runClamAV, runClamTS } from '../support/run-tool.js';
import { haveSharedSigs, sharedSigs } from '../support/shared-sigs.js';

const skip = haveTool('clamscan') ? false : 'real clamscan is not installed';

const DOMAIN_LIST = 'H:paypal.com\nH:ebay.com\nH:bank.co.uk\nR:.+\\.evil-regex\\.net([/?].*)?:.+\\.shown-regex\\.com([/?].*)?\n';
const ALLOW_LIST = 'X:.+\\.paypal-mail\\.com([/?].*)?:.+\\.paypal\\.com([/?].*)?\nM:mail.ebay-partner.com:www.ebay.com\n';

const mail = (body: string, type = 'text/html', encoding?: string) =>
  `From: a@example.org\nTo: b@example.org\nSubject: links\nContent-Type: ${type}\n${encoding ? `Content-Transfer-Encoding: ${encoding}\n` : ''}\n${body}\n`;
const html = (links: string) => mail(`<html><body>${links}</body></html>`);
const anchor = (href: string, text: string) => `<a href="${href}">${text}</a>`;

const SAMPLES: Record<string, string> = {
  'spoofed.eml': html(anchor('http://evil.example.net/login', 'http://www.paypal.com/signin')),
  'spoofed-no-scheme.eml': html(anchor('http://evil.example.net/', 'www.paypal.com')),
  'same-domain.eml': html(anchor('http://signin.paypal.com/x', 'http://www.paypal.com/')),
  'not-listed.eml': html(anchor('http://evil.example.net/', 'http://www.example.com/')),
  'allowed-x.eml': html(anchor('http://links.paypal-mail.com/r?1', 'http://www.paypal.com/')),
  'allowed-m.eml': html(anchor('http://mail.ebay-partner.com/', 'http://www.ebay.com/')),
  'm-other-display.eml': html(anchor('http://mail.ebay-partner.com/', 'http://signin.ebay.com/')),
  'regex-listed.eml': html(anchor('http://a.evil-regex.net/', 'http://b.shown-regex.com/')),
  'ip-real.eml': html(anchor('http://192.168.10.20/paypal/', 'http://www.paypal.com')),
  'user-in-url.eml': html(anchor('http://www.paypal.com@evil.example.net/', 'http://www.paypal.com')),
  'https-shown.eml': html(anchor('http://www.example.net/', 'https://www.example.com/')),
  'https-shown-listed.eml': html(anchor('http://www.paypal.com.evil.net/', 'https://www.paypal.com/')),
  'https-both.eml': html(anchor('https://www.example.net/', 'https://www.example.com/')),
  'cloaked.eml': html(anchor('http://www.example.net%00@evil.example.org/', 'http://www.example.com/')),
  'cloaked-listed.eml': html(anchor('http://www.paypal.com%01%00@evil.example.org/', 'http://www.paypal.com/')),
  'spaces-shown.eml': html(anchor('http://evil.example.net/', 'w w w . p a y p a l . c o m')),
  'text-around.eml': html(anchor('http://evil.example.net/', 'Check out paypal.com')),
  'entities.eml': html(anchor('http://evil.example.net/', 'http://www.pay&#112;al.com')),
  'nested-tags.eml': html(anchor('http://evil.example.net/', '<b>http://www.<i>paypal</i>.com</b>')),
  'uppercase.eml': html(anchor('HTTP://EVIL.EXAMPLE.NET/', 'HTTP://WWW.PAYPAL.COM/')),
  'country-domain.eml': html(anchor('http://www.bank-login.co.uk/', 'http://www.bank.co.uk/')),
  'country-same.eml': html(anchor('http://secure.bank.co.uk/', 'http://www.bank.co.uk/')),
  'image.eml': html(`<a href="http://evil.example.net/"><img src="http://www.paypal.com/logo.gif"></a>`),
  'image-alone.eml': html(`<img src="http://www.paypal.com/logo.gif">`),
  'title.eml': html(`<a href="http://evil.example.net/" title="http://www.paypal.com/">click</a>`),
  'form.eml': html(`<form action="http://evil.example.net/post"><a href="http://www.paypal.com/">x</a></form>`),
  'area.eml': html(`<a href="http://evil.example.net/"><map><area href="http://www.ebay.com/"></map></a>`),
  'unclosed.eml': html(`<a href="http://evil.example.net/">http://www.paypal.com`),
  'two-links.eml': html(anchor('http://evil.example.net/', 'http://www.paypal.com') + anchor('http://evil2.example.net/', 'http://www.ebay.com')),
  'mailto.eml': html(anchor('mailto:someone@evil.example.net', 'someone@paypal.com')),
  'relative.eml': html(anchor('/local/page', 'http://www.paypal.com')),
  'percent-host.eml': html(anchor('http://%65vil.example.net/', 'http://www.paypal.com')),
  'dotnet.eml': html(anchor('http://evil.example.net/', '.net framework paypal.com')),
  'quoted-printable.eml': mail('<a href=3D"http://evil.example.net/">http://www.paypal.com</a>=\n<p>more</p>', 'text/html', 'quoted-printable'),
  'base64.eml': mail(Buffer.from(`<a href="http://evil.example.net/">http://www.ebay.com/</a>`).toString('base64'), 'text/html', 'base64'),
  'plain-text.eml': mail('Visit http://evil.example.net/ or http://www.paypal.com today\n', 'text/plain'),
  'plain-html.eml': mail(`<a href="http://evil.example.net/">http://www.paypal.com</a>`, 'text/plain'),
  'multipart.eml':
    'From: a@example.org\nSubject: multi\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="XX"\n\n' +
    '--XX\nContent-Type: text/plain\n\nhello http://www.paypal.com\n' +
    `--XX\nContent-Type: text/html\n\n<a href="http://evil.example.net/">http://www.paypal.com</a>\n--XX--\n`,
  'multipart-mixed.eml':
    'From: a@example.org\nSubject: mixed\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="YY"\n\n' +
    '--YY\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\n' +
    `${Buffer.from('<a href="http://secure.example.net/">https://www.ebay.com/</a>').toString('base64')}\n--YY--\n`,
};

const OPTION_SETS: readonly (readonly string[])[] = [
  [],
  ['--alert-phishing-ssl'],
  ['--alert-phishing-cloak'],
  ['--alert-phishing-ssl', '--alert-phishing-cloak', '--allmatch'],
  ['--phishing-sigs=no'],
  ['--phishing-scan-urls=no'],
  ['--heuristic-alerts=no'],
  ['--allmatch'],
];

describe('phishing check of mail links against real clamscan', { skip }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-phishing-'));
    writeFileSync(join(dir, 'test.pdb'), DOMAIN_LIST);
    writeFileSync(join(dir, 'test.wdb'), ALLOW_LIST);
    for (const [name, text] of Object.entries(SAMPLES)) writeFileSync(join(dir, name), text);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const options of OPTION_SETS) {
    it(`every sample, one file at a time ${options.join(' ') || '(defaults)'}`, () => {
      for (const name of Object.keys(SAMPLES)) {
        assertSameReports([...options, '--no-summary', '-d', join(dir, 'test.pdb'), '-d', join(dir, 'test.wdb'), join(dir, name)]);
      }
    });
  }

  it('without any URL list (SSL and cloaking checks still apply when asked)', () => {
    writeFileSync(join(dir, 'only.ndb'), 'Nothing.Here:0:*:00112233445566778899\n');
    for (const options of [[], ['--alert-phishing-ssl', '--alert-phishing-cloak', '--allmatch']]) {
      for (const name of Object.keys(SAMPLES)) assertSameReports([...options, '--no-summary', '-d', join(dir, 'only.ndb'), join(dir, name)]);
    }
  });

  it('the real daily.pdb and daily.wdb', { skip: haveSharedSigs ? false : `${sharedSigs()} is missing` }, () => {
    const daily = sharedSigs('clamav-daily-27371');
    for (const [name, text] of Object.entries(HASH_SAMPLES)) writeFileSync(join(dir, name), text);
    for (const options of [[], ['--alert-phishing-ssl', '--alert-phishing-cloak', '--allmatch']]) {
      for (const name of [...Object.keys(SAMPLES), ...Object.keys(HASH_SAMPLES)]) {
        assertSameReports([...options, '--no-summary', '-d', join(daily, 'daily.pdb'), '-d', join(daily, 'daily.wdb'), join(dir, name)]);
      }
    }
  });
});

/** A URL hash as ClamAV's url_hash_match computes it: `host-suffix/` then a path prefix. */
const urlHash = (hostAndPath: string) => createHash('sha256').update(hostAndPath, 'latin1').digest('hex');

const HASH_SAMPLES: Record<string, string> = {
  'hash-path.eml': html(anchor('http://www.Evil.example.com/path/x.html?a=b#top', 'click here')),
  'hash-port.eml': html(anchor('http://user@Shop.Example.ORG:8080/', 'shop')),
  'hash-dots.eml': html(anchor('http://a.b.c.d.e.f.hosted.example.net/./x/../y/%7a.html', 'view')),
  'hash-escaped.eml': html(anchor('http://%65scaped.example.com/a%2520b/ c', 'view')),
  'hash-flags.eml': html(anchor('http://one.example.com/', 'a') + anchor('http://two.example.com/', 'b') + anchor('http://any.example.com/', 'c')),
  'hash-allowed.eml': html(anchor('http://ok.example.com/deep/page.html', 'x')),
  'hash-no-scheme.eml': html(anchor('evil.example.net/login', 'http://www.paypal.com')),
  'hash-spoofed-too.eml': html(anchor('http://evil.example.net/', 'http://www.paypal.com/')),
  'hash-plain.eml': mail('Visit http://www.Evil.example.com/path/x.html?a=b now,\r\nor ftp://files.example.com/pub/', 'text/plain'),
  'hash-plain-base64.eml':
    'From: a@example.org\nSubject: mixed\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="ZZ"\n\n' +
    '--ZZ\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n' +
    `${Buffer.from('go to HTTPS://one.example.com/ or http://two.example.com/ please\n').toString('base64')}\n--ZZ--\n`,
  'hash-plain-qp.eml': mail('see http://one.example.com/=\n and more\n', 'text/plain', 'quoted-printable'),
  'hash-plain-inline.eml':
    'From: a@example.org\nSubject: mixed\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="ZZ"\n\n' +
    '--ZZ\nContent-Type: text/plain\n\ngo to http://two.example.com/ please\n--ZZ--\n',
};

/** `S` lines of each kind: `S:` (malware), `S1:` (blocked), `S2:` (phishing), `W` (allowed). */
const HASH_LIST = [
  `S1:F:${urlHash('evil.example.com/path/')}`,
  `S:F:${urlHash('example.org/8080/')}`,
  `S2:F:${urlHash('hosted.example.net/y/z.html')}`,
  `S:F:${urlHash('escaped.example.com/a%20b/%20c')}`,
  `S1:F:${urlHash('one.example.com/')}`,
  `S2:F:${urlHash('two.example.com/')}`,
  `Sx:F:${urlHash('any.example.com/')}`,
  `S:W:${urlHash('ok.example.com/deep/')}`,
  `S:F:${urlHash('ok.example.com/deep/')}`,
  `S2:F:${urlHash('ok.example.com/deep/page.html')}`,
  `S:P:${urlHash('example.net/').slice(0, 8)}`,
  `S:F:${urlHash('files.example.com/pub/')}`,
].join('\n');

/** The samples that raise different alerts. */
const SEVERAL_ALERTS = new Set(['hash-flags.eml', 'hash-plain.eml']);

/** The lines of a --debug run that tell the URL hash lookups. */
const hashLines = (stderr: string) =>
  stderr.split('\n').filter((line) => /Looking up hash|This hash matched|Hash matched for|Hash is allowed|Not analyzing|Skipping hash/.test(line));

describe('URL hash lookups against real clamscan', { skip }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-phishing-hash-'));
    writeFileSync(join(dir, 'hashes.gdb'), `${HASH_LIST}\n`);
    writeFileSync(join(dir, 'test.pdb'), DOMAIN_LIST);
    for (const [name, text] of Object.entries(HASH_SAMPLES)) writeFileSync(join(dir, name), text);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const options of [[], ['--allmatch'], ['--phishing-scan-urls=no']]) {
    it(`reports blocked URLs ${options.join(' ') || '(defaults)'}`, () => {
      // Which of several different alerts clamscan prints without --allmatch varies (docs/differences.md).
      for (const name of Object.keys(HASH_SAMPLES).filter((name) => options.length > 0 || !SEVERAL_ALERTS.has(name))) {
        assertSameReports([...options, '--no-summary', '-d', join(dir, 'hashes.gdb'), '-d', join(dir, 'test.pdb'), join(dir, name)]);
      }
    });
  }

  it('looks up the same hashes in the same order', () => {
    for (const name of Object.keys(HASH_SAMPLES)) {
      const args = ['--debug', '--allmatch', '-d', join(dir, 'hashes.gdb'), join(dir, name)];
      assert.deepEqual(hashLines(runClamTS('clamscan', args).stderr), hashLines(runClamAV('clamscan', args).stderr), `${name}: the same lookups`);
    }
  });

  it('lets an allowed hash win over a later blocked one, and not the other way round', () => {
    const hash = urlHash('one.example.com/');
    for (const [list, name] of [[`S:W:${hash}\nS1:F:${hash}\n`, 'allowed-first.gdb'], [`S1:F:${hash}\nS:W:${hash}\n`, 'allowed-last.gdb']]) {
      writeFileSync(join(dir, name!), list!);
      const args = ['--debug', '--no-summary', '-d', join(dir, name!), join(dir, 'hash-flags.eml')];
      const real = runClamAV('clamscan', args);
      const ours = runClamTS('clamscan', args);
      assert.deepEqual(hashLines(ours.stderr), hashLines(real.stderr), `${name}: the same lookups`);
      assert.equal(ours.stdout, real.stdout, `${name}: the same report`);
    }
  });
});

describe('--heuristic-scan-precedence against real clamscan', { skip }, () => {
  let dir = '';
  const attached = (htmlPart: string) =>
    'From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n\n' +
    `--B\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\n${Buffer.from(htmlPart).toString('base64')}\n` +
    `--B\nContent-Type: application/octet-stream; name="x.bin"\nContent-Transfer-Encoding: base64\n\n${Buffer.from('TESTATTACH payload').toString('base64')}\n--B--\n`;
  const samples: Record<string, string> = {
    'two-alerts-and-attachment.eml': attached(anchor('http://evil.example.net/', 'http://www.paypal.com') + anchor('https://evil2.example.net/', 'https://www.ebay.com')),
    'blocked-and-attachment.eml': attached(anchor('http://one.example.com/', 'a') + anchor('http://two.example.com/', 'b')),
    'two-links.eml': SAMPLES['two-links.eml']!,
    'hash-flags.eml': HASH_SAMPLES['hash-flags.eml']!,
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-phishing-precedence-'));
    writeFileSync(join(dir, 'test.pdb'), DOMAIN_LIST);
    writeFileSync(join(dir, 'hashes.gdb'), `${HASH_LIST}\n`);
    writeFileSync(join(dir, 'attach.ndb'), `Test.Attach:0:*:${Buffer.from('TESTATTACH').toString('hex')}\n`);
    for (const [name, text] of Object.entries(samples)) writeFileSync(join(dir, name), text);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const options of [['--heuristic-scan-precedence'], ['--heuristic-scan-precedence', '--allmatch'], ['--heuristic-scan-precedence', '--alert-phishing-ssl']]) {
    it(`reports the first alert and stops ${options.join(' ')}`, () => {
      for (const name of Object.keys(samples)) {
        assertSameReports([...options, '--no-summary', '-d', join(dir, 'test.pdb'), '-d', join(dir, 'hashes.gdb'), '-d', join(dir, 'attach.ndb'), join(dir, name)]);
      }
    });
  }
});

describe('the suffix prefilter of R regexes against real clamscan', { skip }, () => {
  let dir = '';
  const LIST = [
    'R:.+\\.evil\\.com([/?].*)?:.+\\.sho{2}wn\\.com([/?].*)?',
    'R:.+\\.evil\\.com([/?].*)?:.+\\.[a-c]shown\\.com([/?].*)?',
    'R:.+\\.evil\\.com([/?].*)?:.+\\.x?yshown\\.com([/?].*)?',
    'R:^http://a\\.evil\\.org',
    'R:.+\\.evil\\.net([/?].*)?:www\\.(bank|pay)\\.example',
  ].join('\n');
  const samples: Record<string, [string, string]> = {
    'count.eml': ['http://a.evil.com/', 'http://www.shoown.com/'],
    'count-literal.eml': ['http://a.evil.com/', 'http://www.sho{2}wn.com/'],
    'range-start.eml': ['http://a.evil.com/', 'http://www.ashown.com/'],
    'range-end.eml': ['http://a.evil.com/', 'http://www.cshown.com/'],
    'optional-taken.eml': ['http://a.evil.com/', 'http://www.xyshown.com/'],
    'optional-left.eml': ['http://a.evil.com/', 'http://www.yshown.com/'],
    'anchor.eml': ['http://a.evil.org/', 'http://www.paypal.com/'],
    'alternative.eml': ['http://a.evil.net/', 'http://www.pay.example/'],
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-phishing-suffix-'));
    writeFileSync(join(dir, 'suffix.pdb'), `${LIST}\n`);
    for (const [name, [real, shown]] of Object.entries(samples)) writeFileSync(join(dir, name), html(anchor(real, shown)));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('tries a regex only where ClamAV does', () => {
    for (const name of Object.keys(samples)) assertSameReports(['--no-summary', '-d', join(dir, 'suffix.pdb'), join(dir, name)]);
  });
});
