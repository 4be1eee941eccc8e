#!/usr/bin/env node
// pnpm bench [--quick] [--dir DIR] [--rounds N]
//
// Runs real ClamAV and ClamTS side by side on the same work and prints one table with ratios:
//   - database load (clamscan on one tiny file) for the real signatures and the 8-million database,
//     N rounds (default 5) with the tools taking turns, each figure the median of its rounds;
//   - a recursive scan of the shared 1 GiB corpus with the real signatures, once.
// Inputs are built with ../shared/bench (reproducible corpus and databases) into DIR (default
// .bench/ in the repository). --quick uses a 128 MiB corpus and skips the 8-million database.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const shared = resolve(repo, '..', 'shared', 'bench');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const dirIndex = args.indexOf('--dir');
const benchDir = resolve(dirIndex >= 0 ? args[dirIndex + 1] : join(repo, '.bench'));
const roundsIndex = args.indexOf('--rounds');
// One run of a load says little on a shared machine, whose speed changes from minute to minute.
const loadRounds = roundsIndex >= 0 ? Number(args[roundsIndex + 1]) : 5;
if (!Number.isInteger(loadRounds) || loadRounds < 1) throw new Error('--rounds wants a positive integer');
const clamts = join(repo, 'bin', 'clamscan');

function ensureTools() {
  if (!existsSync('/usr/bin/time')) execFileSync('apt-get', ['install', '-y', 'time'], { stdio: 'inherit' });
  if (spawnSync('sh', ['-c', 'command -v clamscan']).status !== 0) {
    throw new Error('real ClamAV (clamscan) is not installed: apt-get install clamav clamav-testfiles');
  }
}

function prepare() {
  mkdirSync(benchDir, { recursive: true });
  const corpus = join(benchDir, quick ? 'corpus-128' : 'corpus');
  execFileSync(join(shared, 'make-corpus.sh'), [corpus, quick ? '128' : '1024'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const realdb = join(benchDir, 'realdb');
  execFileSync(join(shared, 'make-bigdb.sh'), [realdb, '0'], { stdio: ['ignore', 'ignore', 'inherit'] });
  let bigdb;
  if (!quick) {
    bigdb = join(benchDir, 'bigdb');
    execFileSync(join(shared, 'make-bigdb.sh'), [bigdb, '8'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const tiny = join(benchDir, 'tiny.txt');
  writeFileSync(tiny, 'tiny\n');
  return { corpus, realdb, bigdb, tiny };
}

/** Runs a command under /usr/bin/time; returns wall and CPU seconds, peak RSS (MiB), infected count. */
function measure(command, commandArgs, env) {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', command, ...commandArgs], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, ...env },
  });
  const timing = result.stderr.trim().split('\n').pop().split(' ').map(Number);
  const infected = /Infected files: (\d+)/.exec(result.stdout)?.[1] ?? '-';
  return {
    wall: timing[0],
    cpu: timing[1] + timing[2],
    rss: timing[3] / 1024,
    infected,
    exit: result.status,
  };
}

/** A run with the median wall time, CPU time and peak memory of `runs` (infected count and exit status of the last). */
function medianRun(runs) {
  const median = (key) => runs.map((run) => run[key]).sort((a, b) => a - b)[(runs.length - 1) >> 1];
  return { ...runs.at(-1), wall: median('wall'), cpu: median('cpu'), rss: median('rss') };
}

// bin/clamscan runs directly, so that the environment its first line sets applies.
// "cold" loads without the engine cache (a first load of a database set), "warm" reads the
// cache the previous run wrote (every later load).
const clamav = ['ClamAV', 'clamscan', {}];
const clamtsCold = ['ClamTS cold', clamts, { CLAMTS_ENGINE_CACHE: 'off' }];
const clamtsWarm = ['ClamTS warm', clamts, {}];

function main() {
  ensureTools();
  const { corpus, realdb, bigdb, tiny } = prepare();
  const loadTools = [clamav, clamtsCold, clamtsWarm];
  const steps = [
    ['load real db + scan tiny file', ['--no-summary', '-d', realdb, tiny], loadTools, loadRounds],
    ...(bigdb ? [['load 8M db + scan tiny file', ['--no-summary', '-d', bigdb, tiny], loadTools, loadRounds]] : []),
    ['scan corpus -r -i (real db)', ['-r', '-i', '-d', realdb, corpus], [clamav, clamtsWarm], 1],
  ];
  const rows = [];
  for (const [step, stepArgs, stepTools, rounds] of steps) {
    // Warm the page cache once so neither tool pays for cold reads, and write ClamTS's engine
    // cache for the warm rows.
    spawnSync('sh', ['-c', `cat ${stepArgs.filter((a) => a.startsWith('/')).join(' ')} >/dev/null 2>&1 || true`]);
    spawnSync(clamts, ['--no-summary', '-d', stepArgs[stepArgs.indexOf('-d') + 1], tiny]);
    const runs = stepTools.map(() => []);
    for (let round = 0; round < rounds; round++) {
      stepTools.forEach(([, command, env], tool) => runs[tool].push(measure(command, stepArgs, env)));
    }
    stepTools.forEach(([name], tool) => rows.push({ step, name, ...medianRun(runs[tool]) }));
  }
  const header = `${'step'.padEnd(48)} ${'wall_s'.padStart(8)} ${'cpu_s'.padStart(8)} ${'maxrss_MiB'.padStart(11)} ${'infected'.padStart(9)} exit`;
  console.log(`bench dir: ${benchDir}${quick ? ' (quick)' : ''}; load steps: medians of ${loadRounds} rounds`);
  console.log(header);
  for (const r of rows) {
    console.log(
      `${`${r.name}: ${r.step}`.padEnd(48)} ${r.wall.toFixed(2).padStart(8)} ${r.cpu.toFixed(2).padStart(8)} ${r.rss.toFixed(1).padStart(11)} ${String(r.infected).padStart(9)} ${r.exit}`,
    );
  }
  console.log('\nratios ClamTS / ClamAV (lower is better for ClamTS):');
  for (const r of rows) {
    if (r.name === 'ClamAV') continue;
    const base = rows.find((other) => other.step === r.step && other.name === 'ClamAV');
    console.log(
      `${`${r.name}: ${r.step}`.padEnd(48)} wall ${(r.wall / base.wall).toFixed(2)}  cpu ${(r.cpu / base.cpu).toFixed(2)}  peak memory ${(r.rss / base.rss).toFixed(2)}`,
    );
  }
}

main();
