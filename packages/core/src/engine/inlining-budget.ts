import { setFlagsFromString } from 'node:v8';

/**
 * A smaller inlining budget for V8's optimizing compiler while signatures load, and while a
 * target's matcher is built at the first object of its type.
 *
 * A cold load runs most of the loader's code on a cold JIT, and its hot functions wait in
 * unoptimized code until the optimizing compiler, on a background thread, gets to them. With
 * V8's default budget (920 bytecode bytes inlined into each function) that compiler's queue
 * holds over a second of work for the real databases. An eighth of it makes each compilation
 * quicker and the optimized code arrive sooner: a cold load of the real databases takes about a
 * tenth less time. A target's matcher built later (the PE target's, with 136,947 patterns, at
 * the first executable) is the same kind of work, run once: with the small budget its build
 * steps take a tenth less of the compiler's time per executable scan. Scanning wants the full
 * budget (the corpus scanned 8% slower with the small one), so it is restored when the load or
 * build ends; code compiled after that is compiled as usual.
 */
const FLAG = '--max-inlined-bytecode-size-cumulative';
const LOADING_BUDGET = 115;
/** V8's default in the Node versions ClamTS supports (20 and 22). */
const DEFAULT_BUDGET = 920;

/** Loads and builds under way in this thread; the budget is restored when the last one ends. */
let active = 0;

/**
 * Runs `load` with the loading budget. A budget chosen on Node's command line is left alone.
 * V8's flags belong to the process; overlapping loads in one thread keep the small budget until
 * the last of them ends.
 */
export async function withLoadingInliningBudget<T>(load: () => Promise<T>, setFlags: (flags: string) => void = setFlagsFromString): Promise<T> {
  if (!enter(setFlags)) return load();
  try {
    return await load();
  } finally {
    leave(setFlags);
  }
}

/** Runs the synchronous `build` with the loading budget, as withLoadingInliningBudget does a load. */
export function withLoadingInliningBudgetSync<T>(build: () => T, setFlags: (flags: string) => void = setFlagsFromString): T {
  if (!enter(setFlags)) return build();
  try {
    return build();
  } finally {
    leave(setFlags);
  }
}

/** Sets the small budget unless it is set or Node's command line chose one; false when leave() must not be called. */
function enter(setFlags: (flags: string) => void): boolean {
  if (process.execArgv.some((argument) => argument.startsWith(FLAG))) return false;
  if (active++ === 0) setFlags(`${FLAG}=${LOADING_BUDGET}`);
  return true;
}

function leave(setFlags: (flags: string) => void): void {
  if (--active === 0) setFlags(`${FLAG}=${DEFAULT_BUDGET}`);
}
