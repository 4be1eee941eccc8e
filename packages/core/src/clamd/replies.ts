import { REPLY, type Terminator } from './protocol.js';

/**
 * Reply lines, formatted as clamd formats them. Inside an IDSESSION every reply starts with the
 * number of the command it answers (`3: `); outside one the id is 0 and there is no prefix. The
 * terminator is the one the command was sent with.
 *
 * Text is handled as byte strings (one char per byte, "latin1") so that paths the client sent are
 * echoed back byte for byte, whatever their encoding.
 */
export interface ReplyTarget {
  /** The command's number inside an IDSESSION, 0 outside one. */
  readonly id: number;
  readonly term: Terminator;
}

function idPrefix(target: ReplyTarget): string {
  return target.id ? `${target.id}: ` : '';
}

/** `path: status` or just `status` (ClamAV's conn_reply_single). */
export function statusReply(target: ReplyTarget, path: string | undefined, status: string): string {
  const subject = path === undefined ? '' : `${path}: `;
  return `${idPrefix(target)}${subject}${status}${target.term}`;
}

/** `path: message status` or `message status` (ClamAV's conn_reply). */
export function messageReply(target: ReplyTarget, path: string | undefined, message: string, status: string): string {
  return statusReply(target, path, `${message} ${status}`);
}

/** `path: Signature.Name FOUND`. */
export function virusReply(target: ReplyTarget, path: string, virus: string): string {
  return statusReply(target, path, `${virus} ${REPLY.FOUND}`);
}

/** `message ERROR`. */
export function errorReply(target: ReplyTarget, message: string): string {
  return messageReply(target, undefined, message, REPLY.ERROR);
}

/** `path: File path check failure: <strerror>. ERROR`, for a path that cannot be examined. */
export function pathErrorReply(target: ReplyTarget, path: string, systemMessage: string): string {
  return messageReply(target, path, REPLY.PATH_CHECK_FAILURE, `${systemMessage}. ${REPLY.ERROR}`);
}
