import { defineOptions } from '../types.js';

/**
 * Authenticode verification. It has a section of its own only because of where ClamAV lists it:
 * after the freshclam options and just before the legacy names, which clamconf's output shows.
 */
export const CERTIFICATE_OPTIONS = defineOptions([
  {
    name: 'DisableCertCheck', longopt: 'nocerts', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description: 'Do not verify Authenticode certificate chains of PE files.',
  },
]);
