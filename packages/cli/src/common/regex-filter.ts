/**
 * `--exclude`-style filters: POSIX extended regular expressions matched anywhere in the path;
 * a pattern ending in `/` is matched against the path with a `/` appended, so it can match
 * whole directory names (as ClamAV's match_regex does).
 */
export class RegexFilter {
  private readonly regex: RegExp;
  private readonly wantsTrailingSlash: boolean;

  constructor(readonly pattern: string) {
    this.regex = new RegExp(pattern);
    this.wantsTrailingSlash = pattern.endsWith('/');
  }

  matches(path: string): boolean {
    return this.regex.test(this.wantsTrailingSlash ? `${path}/` : path);
  }
}
