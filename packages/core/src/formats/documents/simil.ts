/**
 * The string similarity libclamav's mail parser uses to guess misspelt MIME types and encodings
 * (message.c simil(), "From Computing Magazine 20/8/92"): twice the characters of the recursively
 * found longest common substrings, over the total length, as a percentage.
 *
 * The common-substring search narrows its window after each longer match and does not rewind
 * the second string after a shorter one; guesses depend on these details, so they are kept.
 */
import { lowerAscii } from './bytes.js';

const MAX_PATTERN = 50;
const TOO_LONG = -5;

/** strstrip(): trailing bytes that are not graphic are removed, but not CR or LF. */
export function stripTrailing(text: string): string {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if ((c >= 0x21 && c <= 0x7e) || c === 0x0a || c === 0x0d) break;
    end--;
  }
  return text.slice(0, end);
}

interface Split {
  common: number;
  left1: string;
  right1: string;
  left2: string;
  right2: string;
}

/** The longest common substring, case-insensitively, as ClamAV's compare() finds it. */
function longestCommon(a: string, b: string): Split {
  const la = lowerAscii(a);
  const lb = lowerAscii(b);
  let end1 = a.length;
  let end2 = b.length;
  let max = 0;
  let s1Best = 0;
  let s2Best = 0;
  let e1Best = 0;
  let e2Best = 0;
  for (let start1 = 0; start1 < end1; start1++) {
    let s1 = start1;
    let s2 = 0;
    while (s1 < end1 && s2 < end2) {
      if (la[s1] !== lb[s2]) {
        s2++;
        continue;
      }
      const c1 = s1;
      const c2 = s2;
      let common = 0;
      // The comparison reads past the (shrinking) window ends, as the C loop does.
      do {
        if (s1 === end1 || s2 === end2) break;
        s1++;
        s2++;
        common++;
      } while ((la[s1] ?? '\0') === (lb[s2] ?? '\0'));
      if (common > max) {
        const diff = common - max;
        max = common;
        s1Best = c1;
        s2Best = c2;
        e1Best = s1;
        e2Best = s2;
        end1 -= diff;
        end2 -= diff;
      } else s1 -= common;
    }
  }
  return { common: max, left1: a.slice(0, s1Best), right1: a.slice(e1Best), left2: b.slice(0, s2Best), right2: b.slice(e2Best) };
}

/** How similar two strings are, 0–100 (100: equal ignoring case); negative when too long to compare. */
export function simil(a: string, b: string): number {
  if (a.length === b.length && lowerAscii(a) === lowerAscii(b)) return 100;
  const s1 = stripTrailing(a);
  if (s1.length > MAX_PATTERN - 1) return TOO_LONG;
  const s2 = stripTrailing(b);
  if (s2.length > MAX_PATTERN - 1) return TOO_LONG;
  const total = s1.length + s2.length;
  const stack: string[] = [s1, s2];
  let score = 0;
  while (stack.length >= 2) {
    const second = stack.pop()!;
    const first = stack.pop()!;
    const split = longestCommon(first, second);
    if (split.common === 0) continue;
    score += split.common;
    const worthSplitting = (x: string, y: string) => (x.length > 1 && y.length >= 1) || (y.length > 1 && x.length >= 1);
    if (worthSplitting(split.left1, split.left2)) stack.push(split.left1, split.left2);
    if (worthSplitting(split.right1, split.right2)) stack.push(split.right1, split.right2);
  }
  return total > 0 ? Math.floor((score * 200) / total) : 0;
}

