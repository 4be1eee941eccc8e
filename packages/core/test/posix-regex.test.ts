/**
 * ClamAV's regex dialect (cli_regcomp, Henry Spencer's regcomp with the `(?i)` prefix), used for
 * the file names of .cdb signatures and the phishing URL lists: what it refuses, with regerror's
 * messages, and what it matches.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePosixRegex } from '../src/matching/posix-regex.js';

const matches = (pattern: string, subject: string): boolean => {
  const compiled = compilePosixRegex(pattern);
  assert.ok(compiled.ok, `${pattern} compiles`);
  return compiled.regex.test(subject);
};

describe('POSIX regular expressions in ClamAV\'s dialect', () => {
  it('follows POSIX ERE rules', () => {
    assert.ok(matches('^[^/\\\\]+\\.(doc|pdf)\\.js$', 'invoice.pdf.js'), 'a name');
    assert.ok(!matches('^[^/\\\\]+\\.(doc|pdf)\\.js$', 'dir/invoice.pdf.js'), 'not in a directory');
    assert.ok(matches('a{2,3}b', 'xaaab'), 'a count');
    assert.ok(matches('[[:digit:]]+\\.scr$', 'x123.scr'), 'a class');
    // Inside brackets a backslash is an ordinary character.
    assert.ok(matches('[\\]', 'a\\b'), 'a bracketed backslash');
    // (?i) is ClamAV's addition; case folding is ASCII only.
    assert.ok(matches('(?i)SHIPMENT', 'shipment.exe'), 'folded');
    assert.ok(matches('(?i)[S-T]HIP[[:upper:]]', 'shipm'), 'folded sets');
    assert.ok(!matches('[[:upper:]]', 'shipm'), 'unfolded sets');
    assert.ok(!matches('(?i)\xe9', '\xc9'), 'no folding of latin1 letters');
    // A ) without ( is an ordinary character; () and x{,3} are accepted too.
    assert.ok(matches('a)', 'xa)'), 'a lone )');
    assert.ok(matches('()', ''), 'an empty group');
    assert.ok(matches('x{,3}', 'x{,3}'), 'a brace without a count');
  });

  it('refuses what regcomp refuses', () => {
    for (const bad of ['a**', '*a', 'a||b', 'a|*b', '(a', '[a', 'a{2', 'a{1}{2}', '[z-a]', '[[:nope:]]', 'a{3,2}', '']) {
      assert.equal(compilePosixRegex(bad).ok, false, bad);
    }
  });

  it('refuses what cli_regcomp refuses, with its messages', () => {
    const refused = (pattern: string) => {
      const compiled = compilePosixRegex(pattern);
      return compiled.ok ? 'accepted' : compiled.message;
    };
    assert.equal(refused('(abc'), 'parentheses not balanced', 'open group');
    assert.equal(refused('a{2,1}'), 'invalid repetition count(s)', 'reversed count');
    assert.equal(refused('a**'), 'repetition-operator operand invalid', 'double repetition');
    assert.equal(refused('[z-a]'), 'invalid character range', 'reversed range');
    assert.equal(refused('(|a)'), 'empty (sub)expression', 'empty branch');
    assert.equal(refused('a{,2}'), 'accepted', '{ before a non-digit is ordinary');
  });

  it('matches as Spencer regexec does', () => {
    assert.ok(matches('\\d', 'd'), '\\d is an ordinary d');
    assert.ok(!matches('\\d', '1'), '\\d is not a digit class');
    assert.ok(matches('a{,2}', 'a{,2}'), 'literal brace');
    assert.ok(matches('(?i)PAYPAL', 'paypal'), '(?i) ignores case');
    assert.ok(matches('[[:alpha:]]+\\.com/', 'x.paypal.com/'), 'character classes');
    assert.ok(matches('.', '\n'), 'a dot matches a newline');
  });
});
