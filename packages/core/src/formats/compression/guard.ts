import type { ExtractedObject, ExtractionContext } from '../handler.js';

/**
 * Runs a handler's generator so that nothing thrown inside it (a decoder error the handler
 * did not expect, a RangeError from a hostile size) escapes `extract`: the objects yielded
 * so far stand, the rest of the container is given up, as libclamav's unpackers return on
 * a parse error.
 */
export function* guarded(
  format: string,
  body: Iterable<ExtractedObject>,
  ctx: ExtractionContext,
): Generator<ExtractedObject> {
  try {
    yield* body;
  } catch (err) {
    ctx.debug(`${format}: giving up: ${err instanceof Error ? err.message : String(err)}`);
  }
}
