/**
 * Pattern compilation errors, numbered and worded as PCRE2 10.42 reports them, because ClamAV
 * prints PCRE2's text: "cli_pcre_compile: PCRE2 compilation failed at offset N: <text>".
 */
const MESSAGES: Record<number, string> = {
  1: '\\ at end of pattern',
  2: '\\c at end of pattern',
  3: 'unrecognized character follows \\',
  4: 'numbers out of order in {} quantifier',
  5: 'number too big in {} quantifier',
  6: 'missing terminating ] for character class',
  7: 'escape sequence is invalid in character class',
  8: 'range out of order in character class',
  9: 'quantifier does not follow a repeatable item',
  11: 'unrecognized character after (? or (?-',
  12: 'POSIX named classes are supported only within a class',
  13: 'POSIX collating elements are not supported',
  14: 'missing closing parenthesis',
  15: 'reference to non-existent subpattern',
  18: 'missing ) after (?# comment',
  19: 'parentheses are too deeply nested',
  20: 'regular expression is too large',
  22: 'unmatched closing parenthesis',
  24: 'missing closing parenthesis for condition',
  25: 'lookbehind assertion is not fixed length',
  26: 'a relative value of zero is not allowed',
  27: 'conditional subpattern contains more than two branches',
  28: 'assertion expected after (?( or (?(?C)',
  29: 'digit expected after (?+ or (?-',
  30: 'unknown POSIX class name',
  34: 'character code point value in \\x{} or \\o{} is too large',
  35: 'lookbehind is too complicated',
  37: 'PCRE2 does not support \\F, \\L, \\l, \\N{name}, \\U, or \\u',
  38: 'number after (?C is greater than 255',
  39: 'closing parenthesis for (?C expected',
  41: 'unrecognized character after (?P',
  42: 'syntax error in subpattern name (missing terminator?)',
  43: 'two named subpatterns have the same name (PCRE2_DUPNAMES not set)',
  44: 'subpattern name must start with a non-digit',
  48: 'subpattern name is too long (maximum 32 code units)',
  49: 'too many named subpatterns (maximum 10000)',
  50: 'invalid range in character class',
  51: 'octal value is greater than \\377 in 8-bit non-UTF-8 mode',
  54: 'DEFINE subpattern contains more than one branch',
  55: 'missing opening brace after \\o',
  57: '\\g is not followed by a braced, angle-bracketed, or quoted name/number or by a plain number',
  58: '(?R (recursive pattern call) must be followed by a closing parenthesis',
  60: '(*VERB) not recognized or malformed',
  61: 'subpattern number is too big',
  62: 'subpattern name expected',
  64: 'non-octal character in \\o{} (closing brace missing?)',
  65: 'different names for subpatterns of the same number are not allowed',
  66: '(*MARK) must have an argument',
  67: 'non-hex character in \\x{} (closing brace missing?)',
  68: '\\c must be followed by a printable ASCII character',
  69: '\\k is not followed by a braced, angle-bracketed, or quoted name',
  71: '\\N is not supported in a class',
  76: 'name is too long in (*MARK), (*PRUNE), (*SKIP), or (*THEN)',
  78: 'digits missing in \\x{} or \\o{} or \\N{U+}',
  79: 'syntax error or number too big in (?(VERSION condition',
  81: 'missing terminating delimiter for callout with string argument',
  82: 'unrecognized string delimiter follows (?C',
  87: 'lookbehind assertion is too long',
  93: '\\N{U+dddd} is supported only in Unicode (UTF) mode',
  94: 'invalid hyphen in option setting',
  95: '(*alpha_assertion) not recognized',
  97: 'too many capturing groups (maximum 65535)',
  98: 'atomic assertion expected after (?( or (?(?C)',
  99: '\\K is not allowed in lookarounds (but see PCRE2_EXTRA_ALLOW_LOOKAROUND_BSK)',
};

/**
 * A pattern PCRE2 would refuse (`code` is PCRE2's error number, `offset` where it stopped), or
 * one that uses a PCRE2 feature ClamTS does not implement (`code` 0; see UNSUPPORTED in pcre.ts).
 */
export class PcreCompileError extends Error {
  constructor(
    readonly code: number,
    readonly offset: number,
    text?: string,
  ) {
    super(text ?? MESSAGES[code] ?? `internal error ${code}`);
    this.name = 'PcreCompileError';
  }
}

export function unsupported(feature: string, offset: number): PcreCompileError {
  return new PcreCompileError(0, offset, `${feature} is not supported by ClamTS`);
}
