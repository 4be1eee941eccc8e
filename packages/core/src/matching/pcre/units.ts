/**
 * PCRE2's "first code unit" and "required code unit" bookkeeping, done while code is generated
 * exactly as PCRE2's compile_branch() and compile_regex() do it, stale values included.
 *
 * The first code unit is a byte every match must start with; the required code unit is a byte
 * that must appear later. pcre2_match() uses them to skip starting positions and to give up
 * early, and those choices are visible: they decide where (*COMMIT) or (*SKIP) take effect, and
 * together with the minimum length they can even make PCRE2 report no match for a subject a
 * pattern does match (PCRE2 ignores self-referencing branches when computing lengths). ClamTS
 * reproduces them rather than using its own, better, optimizations.
 */

export const REQ_UNSET = 0xffffffff; // nothing found yet
export const REQ_NONE = 0xfffffffe; // no fixed unit
export const REQ_CASELESS = 0x1;
export const REQ_VARY = 0x2; // the unit follows a variable-length item

/** A first and a required code unit, with their flags. */
export interface Units {
  first: number;
  firstFlags: number;
  req: number;
  reqFlags: number;
}

/** State shared by a whole compilation (PCRE2's cb->req_varyopt). */
export class UnitContext {
  /** Becomes REQ_VARY once any variable-length repeat has been compiled. */
  reqVaryOpt = 0;
}

/** The bookkeeping for one branch: one method per kind of item, in PCRE2's terms. */
export class BranchUnits implements Units {
  first = 0;
  firstFlags = REQ_UNSET;
  req = 0;
  reqFlags = REQ_UNSET;
  /* The values to fall back to if the item just compiled is repeated zero times. */
  private zeroFirst = 0;
  private zeroFirstFlags = REQ_UNSET;
  private zeroReq = 0;
  private zeroReqFlags = REQ_UNSET;
  /** The last group set the first code unit (its repetition can make it a required one). */
  private groupSetFirst = false;

  constructor(private readonly context: UnitContext) {}

  /** A literal byte; `caseless` is the caseless option in force for it. */
  literal(c: number, caseless: boolean): void {
    const caseOpt = caseless ? REQ_CASELESS : 0;
    if (this.firstFlags === REQ_UNSET) {
      this.zeroFirstFlags = REQ_NONE;
      this.zeroReq = this.req;
      this.zeroReqFlags = this.reqFlags;
      this.first = c;
      this.firstFlags = caseOpt;
    } else {
      this.zeroFirst = this.first;
      this.zeroFirstFlags = this.firstFlags;
      this.zeroReq = this.req;
      this.zeroReqFlags = this.reqFlags;
      this.req = c;
      this.reqFlags = (caseOpt | this.context.reqVaryOpt) >>> 0;
    }
  }

  /** A one-character negated class. */
  notChar(): void {
    this.zeroReq = this.req;
    this.zeroReqFlags = this.reqFlags;
    if (this.firstFlags === REQ_UNSET) this.firstFlags = REQ_NONE;
    this.zeroFirst = this.first;
    this.zeroFirstFlags = this.firstFlags;
  }

  /** A dot, a class, or an escape that matches a character (\d, \R, \N ...). */
  nonLiteral(): void {
    if (this.firstFlags === REQ_UNSET) this.firstFlags = REQ_NONE;
    this.saveZero();
  }

  /** A zero-width escape: \A \G \K \b \B \Z \z. */
  zeroWidthEscape(): void {
    this.saveZero();
  }

  /** ^ in multiline mode: a match need not start with any particular byte. */
  circumflexMultiline(): void {
    if (this.firstFlags === REQ_UNSET) this.zeroFirstFlags = this.firstFlags = REQ_NONE;
  }

  backref(duplicateName: boolean): void {
    if (this.firstFlags === REQ_UNSET) {
      this.firstFlags = REQ_NONE;
      if (!duplicateName) this.zeroFirstFlags = REQ_NONE;
    }
  }

  recursion(): void {
    this.groupSetFirst = false;
    if (this.firstFlags === REQ_UNSET) this.firstFlags = REQ_NONE;
    this.zeroFirst = this.first;
    this.zeroFirstFlags = this.firstFlags;
  }

  accept(): void {
    if (this.firstFlags === REQ_UNSET) this.firstFlags = REQ_NONE;
  }

  /**
   * A group has been compiled. `isAssertion`/`isLookahead` describe its bracket, `sub` is what
   * its branches gave, `reqVaryBefore` the context's reqVaryOpt before it was compiled.
   */
  group(isAssertion: boolean, isPositiveLookahead: boolean, sub: Units, reqVaryBefore: number): void {
    this.zeroReq = this.req;
    this.zeroReqFlags = this.reqFlags;
    this.zeroFirst = this.first;
    this.zeroFirstFlags = this.firstFlags;
    this.groupSetFirst = false;
    let subReq = sub.req;
    let subReqFlags = sub.reqFlags;
    if (!isAssertion) {
      if (this.firstFlags === REQ_UNSET && sub.firstFlags !== REQ_UNSET) {
        if (sub.firstFlags < REQ_NONE) {
          this.first = sub.first;
          this.firstFlags = sub.firstFlags;
          this.groupSetFirst = true;
        } else {
          this.firstFlags = REQ_NONE;
        }
        this.zeroFirstFlags = REQ_NONE;
      } else if (sub.firstFlags < REQ_NONE && sub.reqFlags >= REQ_NONE) {
        // The group's first unit is a required unit for this branch.
        subReq = sub.first;
        subReqFlags = (sub.firstFlags | reqVaryBefore) >>> 0;
      }
      if (subReqFlags < REQ_NONE) {
        this.req = subReq;
        this.reqFlags = subReqFlags;
      }
    } else if (isPositiveLookahead && sub.reqFlags < REQ_NONE && sub.firstFlags < REQ_NONE) {
      this.req = sub.req;
      this.reqFlags = sub.reqFlags;
    }
  }

  /**
   * The item just compiled is repeated. `char` is set for a literal (CHAR/CHARI) item,
   * `isGroup` for a bracket that is replicated.
   */
  repeat(min: number, max: number, char?: { c: number; caseless: boolean }, isGroup = false): void {
    const reqVary = min === max ? 0 : REQ_VARY;
    if (min === 0) {
      this.first = this.zeroFirst;
      this.firstFlags = this.zeroFirstFlags;
      this.req = this.zeroReq;
      this.reqFlags = this.zeroReqFlags;
    }
    if (char && min > 1) {
      this.req = char.c;
      this.reqFlags = (this.context.reqVaryOpt | (char.caseless ? REQ_CASELESS : 0)) >>> 0;
    }
    if (isGroup && min > 1 && this.groupSetFirst && this.reqFlags >= REQ_NONE) {
      this.req = this.first;
      this.reqFlags = this.firstFlags;
    }
    this.context.reqVaryOpt = (this.context.reqVaryOpt | reqVary) >>> 0;
  }

  private saveZero(): void {
    this.zeroFirst = this.first;
    this.zeroFirstFlags = this.firstFlags;
    this.zeroReq = this.req;
    this.zeroReqFlags = this.reqFlags;
  }
}

/** Combines the units of the branches of a group, one branch at a time (compile_regex). */
export function mergeBranchUnits(group: Units | null, branch: Units): Units {
  if (group === null) return { first: branch.first, firstFlags: branch.firstFlags, req: branch.req, reqFlags: branch.reqFlags };
  if (group.firstFlags !== branch.firstFlags || group.first !== branch.first) {
    if (group.firstFlags < REQ_NONE && group.reqFlags >= REQ_NONE) {
      group.req = group.first;
      group.reqFlags = group.firstFlags;
    }
    group.firstFlags = REQ_NONE;
  }
  let branchReq = branch.req;
  let branchReqFlags = branch.reqFlags;
  if (group.firstFlags >= REQ_NONE && branch.firstFlags < REQ_NONE && branch.reqFlags >= REQ_NONE) {
    branchReq = branch.first;
    branchReqFlags = branch.firstFlags;
  }
  if ((group.reqFlags & ~REQ_VARY) >>> 0 !== (branchReqFlags & ~REQ_VARY) >>> 0 || group.req !== branchReq) {
    group.reqFlags = REQ_NONE;
  } else {
    group.req = branchReq;
    group.reqFlags = (group.reqFlags | branchReqFlags) >>> 0;
  }
  return group;
}
