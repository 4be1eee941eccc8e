/**
 * How clamdscan reads clamd's scan replies and what it prints for them. The rules are ClamAV's,
 * literal string surgery included, because they decide the output:
 *
 * - a reply is a FOUND or an ERROR by its last six characters; other replies (`…: OK`) print
 *   nothing;
 * - the last colon of a reply starts its verdict, unless no space follows it: then the reply is
 *   cut there and at the last `(` before it, which removes ExtendedDetectionInfo's
 *   `(hash:size)` from virus names;
 * - when the client named the file (streams, passed descriptors, ALLMATCHSCAN of single files),
 *   the line printed is the client's file name followed by the verdict, so an error reply such as
 *   `/a/b: File path check failure: Permission denied. ERROR` prints as
 *   `/a/b: Permission denied. ERROR`;
 * - when clamd walked the path itself (CONTSCAN, MULTISCAN), its reply is printed as it came.
 */

/** clamdscan's ways of scanning, in ClamAV's order (the order matters, see `clientNamesFiles`). */
export type ScanType = 'CONT' | 'MULTI' | 'STREAM' | 'FILDES' | 'ALLMATCH';

/** The command each way sends, as clamdscan names it in its messages. */
export const SCAN_COMMANDS: Readonly<Record<ScanType, string>> = {
  CONT: 'CONTSCAN',
  MULTI: 'MULTISCAN',
  STREAM: 'INSTREAM',
  FILDES: 'FILDES',
  ALLMATCH: 'ALLMATCHSCAN',
};

/**
 * ClamAV's `scantype >= STREAM`: clamdscan walks directories itself and sends single files, and
 * prints replies under its own file names. ALLMATCHSCAN sorts after FILDES in ClamAV's list, so
 * it behaves this way too.
 */
export function clientNamesFiles(scanType: ScanType): boolean {
  return scanType === 'STREAM' || scanType === 'FILDES' || scanType === 'ALLMATCH';
}

export type ReplyOutcome =
  | { readonly kind: 'found' | 'error'; readonly shown: string }
  | { readonly kind: 'other' }
  /** Not a scan reply at all: `message` is what clamdscan prints before giving up. */
  | { readonly kind: 'unparsable'; readonly message: string };

/** C's `len > 7` on the reply's byte length with its terminator: shorter replies are ignored. */
function longEnough(reply: string): boolean {
  return Buffer.byteLength(reply) + 1 > 7;
}

/**
 * One reply to a request outside a session. `shownName` is the name to print it under when the
 * client named the file (undefined for standard input, whose replies are printed raw elsewhere).
 */
export function readScanReply(reply: string, scanType: ScanType, shownName: string | undefined): ReplyOutcome {
  if (!longEnough(reply)) return { kind: 'other' };
  let text = reply;
  let colon = text.lastIndexOf(':');
  if (colon >= 0 && text[colon + 1] !== ' ') {
    text = text.slice(0, colon);
    const bracket = text.lastIndexOf('(');
    if (bracket >= 0) text = text.slice(0, bracket);
    colon = text.lastIndexOf(':');
  }
  if (colon < 0) {
    return {
      kind: 'unparsable',
      message: text.startsWith('UNKNOWN')
        ? `clamd replied "UNKNOWN COMMAND". Command was ${SCAN_COMMANDS[scanType]}`
        : `Failed to parse reply: "${text}"`,
    };
  }
  const clientSide = clientNamesFiles(scanType);
  if (reply.endsWith(' FOUND')) {
    // clamdscan cuts " FOUND" off and puts it back after whatever is left of the reply.
    const verdict = text.slice(0, Math.min(text.length, reply.length - ' FOUND'.length));
    return { kind: 'found', shown: clientSide ? `${shownName}${verdict.slice(colon)} FOUND` : `${verdict} FOUND` };
  }
  if (reply.endsWith(' ERROR')) {
    return { kind: 'error', shown: clientSide ? `${shownName}${text.slice(colon)}` : text };
  }
  return { kind: 'other' };
}

/**
 * One reply inside an IDSESSION (`<id>: <reply>`), printed under the client's file name from the
 * reply's last colon on — without the cutting done outside sessions.
 */
export function readSessionReply(reply: string, fileName: string): ReplyOutcome {
  if (!longEnough(reply)) return { kind: 'other' };
  const colon = reply.lastIndexOf(':');
  if (colon < 0) return { kind: 'unparsable', message: 'Failed to parse reply' };
  const shown = `${fileName}${reply.slice(colon)}`;
  if (reply.endsWith(' FOUND')) return { kind: 'found', shown };
  if (reply.endsWith(' ERROR')) return { kind: 'error', shown };
  return { kind: 'other' };
}
