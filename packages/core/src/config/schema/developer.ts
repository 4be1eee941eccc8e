import { defineOptions } from '../types.js';

/**
 * Developer switches: accepted in clamd.conf but left out of generated sample files.
 */
export const DEVELOPER_OPTIONS = defineOptions([
  {
    name: 'DevACOnly', longopt: 'dev-ac-only', type: 'bool', tools: ['clamd', 'clamscan'],
    hidden: true,
    description: 'Developer option: use only the Aho-Corasick matcher.',
  },
  {
    name: 'DevACDepth', longopt: 'dev-ac-depth', type: 'number', tools: ['clamd', 'clamscan'],
    hidden: true,
    description: 'Developer option: Aho-Corasick trie depth.',
  },
  {
    name: 'DevPerformance', longopt: 'dev-performance', type: 'bool', tools: ['clamd', 'clamscan'],
    hidden: true,
    description: 'Developer option: collect performance data.',
  },
  {
    name: 'DevLiblog', longopt: 'dev-liblog', type: 'bool', tools: ['clamd'], hidden: true,
    description: 'Developer option: log libclamav messages.',
  },
]);
