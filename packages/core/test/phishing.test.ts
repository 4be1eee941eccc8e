/**
 * The phishing check's pieces on their own (clamscan comparisons are in
 * test/conformance/phishing.test.ts, the regex dialect's tests in posix-regex.test.ts): URL list
 * patterns, link collection from HTML, and a fuzz run proving that hostile HTML and URLs never
 * throw or hang.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMailHandler } from '../src/formats/mail.js';
import { normaliseHtml } from '../src/formats/normalise/html.js';
import { PhishingChecker } from '../src/phishing/phishing-check.js';
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

describe('phishing check against hostile input', () => {
  const checker = new PhishingChecker({
    domain: { regexes: ['.+\\.evil\\.net:.+\\.shown\\.com/', '(a+)+b/'], hosts: ['paypal.com/', 'co.uk/', '/'] },
    allow: { regexes: ['.+\\.paypal-mail\\.com:.+\\.paypal\\.com/'], hosts: ['a.example:b.example/'] },
  });
  const report = { alert() {}, info() {}, debug() {} };
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
