/**
 * STATS and VERSION replies as real ClamAV 1.4.6 clamd sends them (captured from a private
 * clamd with a test CVD as daily.cvd; the busy one during a MULTISCAN of 60 files), and as
 * ClamTS's clamd sends them.
 */
export const REAL_VERSION = 'ClamAV 1.4.6/6/Wed Jun 23 01:34:05 2021';
export const CLAMTS_VERSION_REPLY = 'ClamTS 0.1.0';

export const REAL_IDLE_STATS =
  'POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live 1  idle 0 max 10 idle-timeout 30\nQUEUE: 0 items\n\tSTATS 0.000004 \n\n' +
  'MEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A pools 1 pools_used 5.922M pools_total 5.999M\nEND';

export const REAL_BUSY_STATS =
  'POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live 10  idle 0 max 10 idle-timeout 30\n' +
  'QUEUE: 50 items min_wait: 0.431965 max_wait: 0.463195 avg_wait: 0.457487\n' +
  '\tMULTISCANFILE 0.435954 /tmp/h12/files/f9.bin\n\tMULTISCANFILE 0.436854 /tmp/h12/files/f8.bin\n' +
  '\tMULTISCANFILE 0.439957 /tmp/h12/files/f7.bin\n\tSTATS 0.000005 \n\tMULTISCANFILE 0.448003 /tmp/h12/files/f5.bin\n' +
  '\tMULTISCANFILE 0.451981 /tmp/h12/files/f4.bin\n\tMULTISCANFILE 0.459964 /tmp/h12/files/f3.bin\n' +
  '\tMULTISCANFILE 0.462487 /tmp/h12/files/f2.bin\n\tMULTISCANFILE 0.462931 /tmp/h12/files/f1.bin\n' +
  '\tMULTISCAN 0.464108 \n\n' +
  'MEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A pools 1 pools_used 5.922M pools_total 5.999M\nEND';

export const CLAMTS_IDLE_STATS =
  'POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live 1  idle 0 max 10 idle-timeout 30\nQUEUE: 0 items\n\tSTATS 0.000222 \n\n' +
  'MEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A pools 1 pools_used 0.250M pools_total 0.250M\nEND';
