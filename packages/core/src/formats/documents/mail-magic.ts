import { BUILTIN_FTM } from '../../filetypes/builtin-ftm.js';
import { parseFtmLine, type MagicEntry } from '../../filetypes/ftm.js';
import { typeCode } from '../../filetypes/types.js';
import { FUNCTIONALITY_LEVEL } from '../../engine/version.js';

/**
 * Whether a line of text would be typed as mail by its first bytes (libclamav's
 * cli_compare_ftm_file on a line, used to spot bounced messages inside mail bodies): the first
 * fixed-offset magic that matches decides, later entries of the list first, as in ClamAV's
 * engine. ClamTS uses the built-in magic list here; a loaded daily.ftm can add entries.
 */
let magic: readonly MagicEntry[] | undefined;

/** The built-in magic list, parsed when first needed (not at every start of a tool). */
function builtinMagic(): readonly MagicEntry[] {
  magic ??= BUILTIN_FTM.map((line) => parseFtmLine(line, { functionalityLevel: FUNCTIONALITY_LEVEL, official: true }))
    .filter((entry): entry is MagicEntry => entry.kind === 'magic' && !entry.partition)
    .reverse();
  return magic;
}

const MAIL = typeCode('CL_TYPE_MAIL');

export function isMailMagic(line: string): boolean {
  for (const entry of builtinMagic()) {
    if (entry.offset + entry.magic.length > line.length) continue;
    let i = 0;
    while (i < entry.magic.length && line.charCodeAt(entry.offset + i) === entry.magic[i]) i++;
    if (i === entry.magic.length) return entry.type === MAIL;
  }
  return false;
}
