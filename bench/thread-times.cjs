'use strict';
// Preload (`node -r bench/thread-times.cjs ...`) that prints, when the process exits, the CPU
// time of its main thread and the sum over its other threads (V8's helper threads: the
// optimizing compiler, concurrent garbage collection), in ms, on stderr. Linux only: it reads
// each thread's user and system clock ticks from /proc/self/task/<tid>/stat.
const { readdirSync, readFileSync } = require('node:fs');

const TICK_MS = 10; // USER_HZ is 100 on Linux

process.on('exit', () => {
  let main = 0;
  let helpers = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
    if (Number(tid) === process.pid) main += ms;
    else helpers += ms;
  }
  process.stderr.write(`thread CPU ms: main ${main} helpers ${helpers}\n`);
});
