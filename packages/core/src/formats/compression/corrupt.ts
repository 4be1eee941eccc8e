import { ClamError } from '../../errors.js';

/**
 * The error every decoder in this folder throws on data it cannot decode (bad Huffman table,
 * match before the start of the output, input ending early). Handlers catch it, keep what was
 * decoded so far, and stop, as libclamav's unpackers do on a decrunch error.
 */
export function corrupt(message: string): ClamError {
  return new ClamError('EFORMAT', { message });
}
