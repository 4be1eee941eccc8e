/**
 * The phishing check's pieces on their own (clamscan comparisons are in
 * test/conformance/phishing.test.ts, the regex dialect's tests in posix-regex.test.ts): URL list
 * patterns, link collection from HTML and plain text, URL hashing, and a fuzz run proving that
 * hostile HTML and URLs never throw or hang.
 */
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMailHandler } from '../src/formats/mail.js';
import { normaliseHtml } from '../src/formats/normalise/html.js';
import { PhishingChecker } from '../src/phishing/phishing-check.js';
import { extractTextUrls } from '../src/formats/documents/text-urls.js';
import { regexSuffixes } from '../src/phishing/regex-suffix.js';
import { hexDigest, urlHashCandidates } from '../src/phishing/url-hash.js';
import { regexListPattern } from '../src/phishing/url-list.js';
import { extractAll, mutate, prng, recordingContext } from './support/archive-samples.js';

const latin1 = (text: string) => Buffer.from(text, 'latin1');

describe('URL list patterns', () => {
  it('cuts the path part of host regexes', () => {
    assert.equal(regexListPattern('.+\\.example\\.com([/?].*)?/'), '.+\\.example\\.com/', 'optional path');
    assert.equal(regexListPattern('.+\\.example\\.com([/?].*)/'), '.+\\.example\\.com/', 'required path');
    assert.equal(regexListPattern('a:b/'), 'a:b/', 'nothing to cut');
  });
});

describe('links collected from HTML', () => {
  it('an anchor, its text, titles, images and forms', () => {
    const { links } = normaliseHtml(
      latin1('<a href="http://r.example/" title="t">shown <b>text</b></a><form action="http://act.example/"><a href="http://in.example/"><img src="http://i.example/x.gif"></a></form>'),
      { links: true },
    );
    assert.deepEqual(
      links,
      [
        { tag: 'href_title', value: 't', contents: 'http://r.example/' },
        { tag: 'href', value: 'http://r.example/', contents: 'shown text' },
        { tag: 'form', value: 'http://in.example/', contents: 'http://act.example/' },
        { tag: 'href', value: 'http://in.example/', contents: '' },
        { tag: 'src', value: 'http://i.example/x.gif', contents: 'http://in.example/' },
        { tag: 'form', value: 'http://i.example/x.gif', contents: 'http://act.example/' },
      ],
      'the links in ClamAV order',
    );
  });

  it('none without the option', () => {
    assert.equal(normaliseHtml(latin1('<a href="x">y</a>')).links, undefined, 'no links');
  });
});

const listRegex = (pattern: string) => ({ pattern, suffixes: (regexSuffixes(pattern) as { suffixes: string[] }).suffixes });

describe('regex suffixes as ClamAV reads them', () => {
  const suffixes = (pattern: string) => regexSuffixes(pattern);
  it('the literal tail, each alternative and small class expanded', () => {
    assert.deepEqual(suffixes('.+\\.example\\.com/'), { ok: true, suffixes: ['.example.com/'] }, 'a tail');
    assert.deepEqual(suffixes('(a|bc)d/'), { ok: true, suffixes: ['ad/', 'bcd/'] }, 'alternatives');
    assert.deepEqual(suffixes('x[ab]/'), { ok: true, suffixes: ['xa/', 'xb/'] }, 'a small class');
    assert.deepEqual(suffixes('ab[^c]x/'), { ok: true, suffixes: ['x/'] }, 'a large class ends it');
  });

  it('misreads counts, anchors and ranges as ClamAV does', () => {
    assert.deepEqual(suffixes('x{2}/'), { ok: true, suffixes: ['x{2}/'] }, 'a count is text');
    assert.deepEqual(suffixes('^ab/'), { ok: true, suffixes: ['^ab/'] }, 'a caret is text');
    assert.deepEqual(suffixes('[a-c]x/'), { ok: true, suffixes: ['ax/', 'bx/'] }, 'a range loses its end');
    assert.deepEqual(suffixes('[aa]x/'), { ok: true, suffixes: [] }, 'a character twice cancels out');
  });

  it('refuses what ClamAV refuses', () => {
    assert.deepEqual(suffixes('()/'), { ok: false, error: 'malformed', suffixes: [] }, 'an empty group');
    assert.deepEqual(suffixes('$a/'), { ok: false, error: 'malformed', suffixes: [] }, 'a leading $');
    assert.deepEqual(suffixes('a|/'), { ok: false, error: 'too-short', suffixes: [] }, 'a one-character alternative');
    assert.deepEqual(suffixes('bc|a?/'), { ok: false, error: 'too-short', suffixes: ['bc'] }, 'after adding one');
    assert.deepEqual(suffixes('ab?/'), { ok: false, error: 'too-short', suffixes: [] }, 'an optional before the /');
  });

  it('stays within bounds where ClamAV would run out of memory, and off the call stack', () => {
    assert.equal((regexSuffixes(`${'('.repeat(25)}a${'+)'.repeat(25)}b/`) as { error?: string }).error, 'malformed', 'nested + copies');
    assert.equal((regexSuffixes(`${'[ab]'.repeat(2000)}x/`) as { error?: string }).error, 'too-large', 'multiplied classes');
    assert.deepEqual(regexSuffixes(`${'ab'.repeat(4000)}+x/`), { ok: true, suffixes: [`${'ab'.repeat(4000)}x/`] }, 'a long tail (+ repeats it all)');
    assert.deepEqual(regexSuffixes(`${'('.repeat(4000)}ab${')'.repeat(4000)}/`), { ok: true, suffixes: ['ab/'] }, 'deep groups');
  });

  it('never throws on hostile patterns', () => {
    const pieces = ['a', '.', '*', '+', '?', '|', '(', ')', '[', ']', '^', '-', '$', '\\', '{', '}', '[.', ':', '/'];
    const random = prng(9);
    for (let i = 0; i < 5000; i++) {
      const pattern = Array.from({ length: Math.floor(random() * 16) }, () => pieces[Math.floor(random() * pieces.length)]).join('') + '/';
      assert.doesNotThrow(() => regexSuffixes(pattern), `pattern ${JSON.stringify(pattern)}`);
    }
  });
});

const sha256 = (text: string) => createHash('sha256').update(text, 'latin1').digest('hex').toUpperCase();

describe('URL hashing', () => {
  it('hashes host suffixes with path prefixes in ClamAV order', () => {
    const candidates = urlHashCandidates('http://User@WWW.Evil.Example.com:80/a/b/c.html?q=1')!;
    const texts = candidates.map((candidate) => candidate.hostText.slice(0, candidate.hostLength) + '80/a/b/c.html?q=1'.slice(0, candidate.pathLength));
    const hosts = ['example.com/', 'evil.example.com/', 'www.evil.example.com/'];
    const paths = ['80/a/b/', '80/a/', '80/', '', '80/a/b/c.html', '80/a/b/c.html?q=1'];
    assert.deepEqual(texts, paths.flatMap((path) => hosts.map((host) => host + path)), 'hosts and paths');
    for (const candidate of candidates) {
      const text = candidate.hostText.slice(0, candidate.hostLength) + '80/a/b/c.html?q=1'.slice(0, candidate.pathLength);
      assert.equal(hexDigest(candidate.digest), sha256(text), `the digest of ${text}`);
    }
  });

  it('keeps the full host and its last four suffixes', () => {
    const hosts = urlHashCandidates('http://a.b.c.d.e.f.example.org')!.map((candidate) => candidate.hostText);
    assert.deepEqual(hosts, ['example.org/', 'f.example.org/', 'e.f.example.org/', 'd.e.f.example.org/', 'a.b.c.d.e.f.example.org/'], 'hosts');
  });

  it('decodes escapes, removes dot segments and escapes what is unsafe', () => {
    const paths = urlHashCandidates('http://%65x.example.com/./a/../b%2520c d/%23x#y')!.map((candidate) => candidate.pathText);
    assert.equal(paths[0], 'b%20c%20d/%23x%23y', 'the canonical path, its anchor escaped');
  });

  it('calls a URL without a colon no URL, and does no lookups where ClamAV would abort', () => {
    assert.equal(urlHashCandidates('www.example.com/a'), undefined, 'no colon');
    assert.deepEqual(urlHashCandidates('http://h.example.com/./a/../b/./c/'), [], 'a prefix past the path');
  });

  it('never throws on hostile URLs', () => {
    const pieces = ['http://', 'ftp:', ':', '/', '//', '.', '..', '/./', '/../', '%', '%2e', '%2f', '%25', '%00', '@', '?', '#', ' ', '\x80', '\xff', 'a', 'com'];
    const random = prng(5);
    for (let i = 0; i < 5000; i++) {
      const url = Array.from({ length: Math.floor(random() * 40) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      assert.doesNotThrow(() => urlHashCandidates(url), `url ${JSON.stringify(url)}`);
    }
    assert.doesNotThrow(() => urlHashCandidates(`http://h/${'%2525'.repeat(400)}${'/./'.repeat(300)}`), 'a long URL');
  });
});

describe('URLs of plain text', () => {
  const urls = (text: string) => extractTextUrls(latin1(text)).map((link) => link.value);

  it('takes http:, ftp: and (oddly spelt) https URLs up to a space, newline or tab', () => {
    assert.deepEqual(urls('see http://a.example/x?y and\tHTTP://B.example/\r\nftp://c.example/f\tend of text'), ['http://a.example/x?y', 'HTTP://B.example/\r', 'ftp://c.example/f'], 'the URLs');
    assert.deepEqual(urls('go to https://secure.example/ now, really'), [], 'https: as ClamAV tests for it never matches');
    assert.deepEqual(urls('go to httpx-s://odd.example/ now, really'), [], 'nor other schemes');
  });

  it('needs ten bytes after a URL start and cuts URLs at 1023 bytes', () => {
    assert.deepEqual(urls('http://a.b'), [], 'too near the end');
    assert.equal(urls(`http://${'x'.repeat(2000)} tail`)[0]!.length, 1023, 'cut');
  });
});

describe('phishing check against hostile input', () => {
  const checker = new PhishingChecker({
    domain: { regexes: ['.+\\.evil\\.net:.+\\.shown\\.com/', '(a+)+b/'].map(listRegex), hosts: ['paypal.com/', 'co.uk/', '/'] },
    allow: { regexes: ['.+\\.paypal-mail\\.com:.+\\.paypal\\.com/'].map(listRegex), hosts: ['a.example:b.example/'] },
    urlHashes: { [sha256('paypal.com/')]: '1', [sha256('co.uk/x')]: 'W' },
  });
  const report = { alert: () => true, info() {}, debug() {} };
  const options = { alertSsl: true, alertCloak: true };

  it('odd URL pairs never throw', () => {
    const pieces = ['http://', 'https://', 'mailto:', '%', '%00', '%25', '%2', '@', '.', '..', ' ', '/', '\\', ':', '?', '&lt', '&gt', 'paypal.com', 'co.uk', 'x', '\x80', '\xff', '\x01', '.net', 'com'];
    const random = prng(7);
    const url = () => Array.from({ length: Math.floor(random() * 12) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
    for (let i = 0; i < 5000; i++) {
      const link = { tag: ['href', 'src', 'form', 'href_title', 'area'][i % 5]!, value: url(), contents: url() };
      assert.doesNotThrow(() => checker.scan([link], options, report), `pair ${JSON.stringify(link)}`);
    }
  });

  it('mutated mails with links never throw or hang', () => {
    const handler = createMailHandler();
    const samples = [
      latin1('From: a@b\nContent-Type: text/html\n\n<a href="http://evil.example.net/">http://www.paypal.com</a><img src=x><form action=y><a href=z title=t>w</a>\n'),
      latin1(`From: a@b\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n<a href=3D"http://e.net/">p=\naypal.com</a>\n--B--\n`),
      latin1('From: a@b\nContent-Type: text/plain\n\nsee http://www.paypal.com/x/../y and ftp://co.uk/x here\n'),
    ];
    const random = prng(11);
    for (let i = 0; i < 300; i++) {
      const input = mutate(samples[i % samples.length]!, random);
      const ctx = { ...recordingContext(), checkLinks: (links: Parameters<PhishingChecker['scan']>[0]) => checker.scan(links, options, report) };
      const started = performance.now();
      assert.doesNotThrow(() => extractAll(handler, input, ctx), `iteration ${i}`);
      assert.ok(performance.now() - started < 2000, `iteration ${i} took too long`);
    }
  });
});
