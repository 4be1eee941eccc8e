import { atoi, isDigits } from '../util/c-numbers.js';
import { databaseTypeCode } from '../filetypes/types.js';
import { parseExpression, type ParsedExpression } from '../matching/logical-expression.js';
import { scanUnsigned } from '../util/c-numbers.js';
import { tokenizeOutsideRegex } from '../matching/regex-subsig.js';
import { SignatureError } from '../matching/signature-error.js';
import { isExecutableTarget } from '../executables/target-info.js';

/**
 * Logical signatures (.ldb, .ldu): `Name;TargetDescriptionBlock;LogicalExpression;Subsig0;…`,
 * read like ClamAV's load_oneldb, lsigattribs and init_tdb. Subsignatures are classified here;
 * their patterns are compiled by the body-signature builder, in order, so that errors come out
 * in ClamAV's order.
 */

/** ClamAV's limit on subsignatures per logical signature. */
export const MAX_SUBSIGNATURES = 64;
/** ClamAV's limit on the number of `;` fields it reads (name, TDB, logic and 64 subsignatures). */
const MAX_FIELDS = 68;
/** lsigattribs reads at most this many `,`-separated attributes. */
const MAX_ATTRIBUTES = 10;
/** Intermediates take at most this many `>`-separated types. */
const MAX_INTERMEDIATES = 16;
/** The first functionality level that knows the TDB attributes other than Target and Engine. */
const NEW_ATTRIBUTES_LEVEL = 51;

export interface Range {
  readonly min: number;
  readonly max: number;
}

/** The parsed target description block. */
export interface TargetDescription {
  readonly target: number;
  readonly engine?: Range;
  readonly fileSize?: Range;
  readonly entryPoint?: Range;
  readonly numberOfSections?: Range;
  /** Type of the immediate container (CL_TYPE_ANY: only top-level objects). */
  readonly container?: string;
  /** Types of the enclosing containers, outermost first; CL_TYPE_ANY is a wildcard. */
  readonly intermediates?: readonly string[];
  /** Makes the signature re-scan the object as this type instead of alerting. */
  readonly handlerType?: string;
  readonly iconGroup1?: string;
  readonly iconGroup2?: string;
}

/** A logical signature line split into its parts, before its subsignatures are compiled. */
export interface LogicalSignatureLine {
  readonly name: string;
  readonly description: TargetDescription;
  readonly logic: ParsedExpression;
  readonly subsignatures: readonly string[];
  /** The target description and logical expression as written: equal texts parse the same. */
  readonly descriptionText: string;
  readonly logicText: string;
}

/** Why a line was not loaded although it is well-formed. */
export type SkipReason = 'functionality-level' | 'unsupported';

/**
 * A target description ClamAV does not load (init_tdb's CL_BREAK), with what its debug lines
 * name: lsigattribs' line about the attribute it does not know, and the minimum level of a
 * signature for a newer engine (one for an older engine is passed over without a line).
 */
export interface TargetDescriptionSkip {
  readonly skipped: SkipReason;
  readonly attributeMessage?: string;
  readonly requiredLevel?: number;
  readonly unsupportedTarget?: boolean;
}

/** ClamAV's debug lines for a signature named `name` whose target description is skipped. */
export function targetDescriptionSkipMessages(skip: TargetDescriptionSkip, name: string): string[] {
  if (skip.skipped === 'functionality-level') {
    return skip.requiredLevel === undefined ? [] : [`init_tdb: Signature for ${name} not loaded (required f-level: ${skip.requiredLevel})`];
  }
  if (skip.unsupportedTarget) return [`init_tdb: Not supported target type in signature for ${name}, skipping`];
  return [skip.attributeMessage, `init_tdb: Not supported attribute(s) in signature for ${name}, skipping`].filter((line) => line !== undefined);
}

export type LogicalLineResult = LogicalSignatureLine | TargetDescriptionSkip;

/** Splits an .ldb line into fields; `;` inside a regex (between `/`) does not separate. */
export function splitLogicalLine(line: string): string[] {
  return tokenizeOutsideRegex(line, ';', MAX_FIELDS, 2);
}

/**
 * Parsed expressions and target descriptions by their text, for one functionality level: a real
 * database repeats a few hundred of them over tens of thousands of lines. Only successes are kept,
 * so a bad text fails (with its messages) every time.
 */
export class LogicalTextCache {
  readonly expressions = new Map<string, ParsedExpression>();
  readonly descriptions = new Map<string, TargetDescription | TargetDescriptionSkip>();

  constructor(readonly functionalityLevel: number) {}
}

/**
 * Validates the logical expression, the subsignature count and the target description of a line
 * already split with `splitLogicalLine` and known to have at least 4 fields. `cache` (for the
 * same functionality level) spares parsing texts seen before.
 */
export function parseLogicalLine(fields: readonly string[], functionalityLevel: number, cache?: LogicalTextCache): LogicalLineResult {
  const [name, attributes, logicText] = fields as [string, string, string];
  const cached = cache?.functionalityLevel === functionalityLevel ? cache : undefined;
  let logic: ParsedExpression;
  try {
    logic = cached?.expressions.get(logicText) ?? parseExpression(logicText);
  } catch (error) {
    throw (error as SignatureError).because('Invalid or unsupported ldb logic');
  }
  const subsignatures = fields.slice(3);
  // ClamAV compares the highest id plus one, as a C int, with the number of subsignatures.
  const expected = (logic.highestId | 0) + 1;
  if (expected === 0) throw new SignatureError('Invalid or unsupported ldb logic');
  if (expected !== subsignatures.length) {
    throw new SignatureError(
      `cli_loadldb: The number of subsignatures (== ${subsignatures.length}) doesn't match the IDs in the logical expression (== ${expected >>> 0})`,
    );
  }
  if (expected > MAX_SUBSIGNATURES) {
    throw new SignatureError('cli_loadldb: Broken logical expression or too many subsignatures');
  }
  cached?.expressions.set(logicText, logic);
  let description: TargetDescription | TargetDescriptionSkip | undefined = cached?.descriptions.get(attributes);
  try {
    description ??= parseTargetDescription(attributes, functionalityLevel);
  } catch (error) {
    throw (error as SignatureError).because('cli_loadldb: Failed to initialize target description block');
  }
  cached?.descriptions.set(attributes, description);
  if ('skipped' in description) return description;
  return { name, description, logic, subsignatures, descriptionText: attributes, logicText };
}

type AttributeKind = 'uint' | 'range' | 'string' | 'type' | 'types';

const ATTRIBUTES: Record<string, { kind: AttributeKind; key: keyof TargetDescription }> = {
  Target: { kind: 'uint', key: 'target' },
  Engine: { kind: 'range', key: 'engine' },
  FileSize: { kind: 'range', key: 'fileSize' },
  EntryPoint: { kind: 'range', key: 'entryPoint' },
  NumberOfSections: { kind: 'range', key: 'numberOfSections' },
  IconGroup1: { kind: 'string', key: 'iconGroup1' },
  IconGroup2: { kind: 'string', key: 'iconGroup2' },
  Container: { kind: 'type', key: 'container' },
  HandlerType: { kind: 'type', key: 'handlerType' },
  Intermediates: { kind: 'types', key: 'intermediates' },
};

/**
 * Parses a target description block (ClamAV's lsigattribs + init_tdb). Returns a skip reason
 * for signatures ClamAV does not load (unknown attribute or file type, functionality level out
 * of range, target type beyond 14), throws for malformed ones.
 */
export function parseTargetDescription(text: string, functionalityLevel: number): TargetDescription | TargetDescriptionSkip {
  const tdb: { -readonly [K in keyof TargetDescription]?: TargetDescription[K] } = {};
  let hasNewAttributes = false;
  const tokens = text.split(',').slice(0, MAX_ATTRIBUTES);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const colon = token.indexOf(':');
    if (colon < 0) throw new SignatureError(`lsigattribs: Incorrect format of attribute '${token}'`);
    const name = token.slice(0, colon);
    const value = token.slice(colon + 1);
    const attribute = Object.hasOwn(ATTRIBUTES, name) ? ATTRIBUTES[name] : undefined;
    if (!attribute) return { skipped: 'unsupported', attributeMessage: `lsigattribs: Unknown attribute name '${name}'` };
    if (name === 'Engine') {
      if (i > 0) {
        throw new SignatureError('lsigattribs: For backward compatibility the Engine attribute must be on the first position');
      }
    } else if (name !== 'Target') {
      hasNewAttributes = true;
    }
    switch (attribute.kind) {
      case 'uint':
        if (!isDigits(value)) throw new SignatureError(`lsigattribs: Invalid argument for ${name}`);
        tdb.target = atoi(value) >>> 0;
        break;
      case 'range': {
        const dash = value.indexOf('-');
        if (dash < 0) throw new SignatureError(`lsigattribs: Incorrect parameters in '${name}'`);
        const min = value.slice(0, dash);
        const max = value.slice(dash + 1);
        if (!isDigits(min) || !isDigits(max)) throw new SignatureError(`lsigattribs: Invalid argument for ${name}`);
        (tdb as Record<string, Range>)[attribute.key] = { min: atoi(min) >>> 0, max: atoi(max) >>> 0 };
        break;
      }
      case 'string':
        (tdb as Record<string, string>)[attribute.key] = value;
        break;
      case 'type':
        if (databaseTypeCode(value) === undefined) return unknownType(value, name);
        (tdb as Record<string, string>)[attribute.key] = value;
        break;
      case 'types': {
        const types = value.split('>').slice(0, MAX_INTERMEDIATES);
        const unknown = types.find((type) => databaseTypeCode(type) === undefined);
        if (unknown !== undefined) return unknownType(unknown, name);
        tdb.intermediates = types;
        break;
      }
    }
  }
  if (hasNewAttributes && (!tdb.engine || tdb.engine.min < NEW_ATTRIBUTES_LEVEL)) {
    throw new SignatureError(
      'lsigattribs: For backward compatibility all signatures using new attributes must have the Engine attribute present and set to min_level of at least 51 (0.96)',
    );
  }
  if (tdb.engine && tdb.engine.min > functionalityLevel) return { skipped: 'functionality-level', requiredLevel: tdb.engine.min };
  if (tdb.engine && tdb.engine.max < functionalityLevel) return { skipped: 'functionality-level' };
  if (tdb.target === undefined) throw new SignatureError('init_tdb: No target specified in TDB');
  if (tdb.target >= 15) return { skipped: 'unsupported', unsupportedTarget: true };
  if ((tdb.iconGroup1 !== undefined || tdb.iconGroup2 !== undefined) && tdb.target !== 1) {
    throw new SignatureError('init_tdb: IconGroup is only supported in PE (target 1) signatures');
  }
  if ((tdb.entryPoint || tdb.numberOfSections) && !isExecutableTarget(tdb.target)) {
    throw new SignatureError('init_tdb: EntryPoint/NumberOfSections is only supported in PE/ELF/Mach-O signatures');
  }
  return tdb as TargetDescription;
}

function unknownType(type: string, attribute: string): TargetDescriptionSkip {
  return { skipped: 'unsupported', attributeMessage: `lsigattribs: Unknown file type '${type}' in ${attribute}` };
}

// ---- Subsignatures ------------------------------------------------------------------------------

export type SubsignatureForm =
  | { readonly kind: 'macro'; readonly min: number; readonly max: number; readonly group: number }
  | { readonly kind: 'regex' }
  | { readonly kind: 'byte-compare' }
  | { readonly kind: 'image-fuzzy-hash'; readonly hash: string }
  | {
      readonly kind: 'content';
      readonly offset: string;
      readonly hex: string;
      readonly modifiers: { nocase: boolean; fullword: boolean; wide: boolean; ascii: boolean } | null;
    };

/**
 * Tells a subsignature's form apart the way ClamAV's readdb_parse_ldb_subsignature does (a
 * leading `$` is a macro, a `/` a regex, `(` with two `#` a byte compare, `fuzzy_img#` an image
 * hash, anything else a body pattern with optional `offset:` and `::modifiers`), and parses the
 * macro, image hash and content forms.
 */
export function classifySubsignature(text: string, rawName: string): SubsignatureForm {
  if (text[0] === '$') return parseMacro(text);
  if (text.includes('/')) return { kind: 'regex' };
  if (text.includes('(') && text.indexOf('#') !== text.lastIndexOf('#')) return { kind: 'byte-compare' };
  if (text.startsWith('fuzzy_img#')) return parseImageFuzzyHash(text);
  // Most subsignatures are a bare pattern.
  if (!text.includes(':')) return { kind: 'content', offset: '*', hex: text, modifiers: null };
  const fields = tokenizeOutsideRegex(text, ':', 5);
  const offset = fields.length % 2 === 0 ? fields[0]! : '*';
  const hex = fields.length % 2 === 0 ? fields[1]! : fields[0]!;
  const modifierText = fields.length === 3 ? fields[2] : fields.length === 4 ? fields[3] : undefined;
  if (modifierText === undefined) return { kind: 'content', offset, hex, modifiers: null };
  const modifiers = { nocase: false, fullword: false, wide: false, ascii: false };
  for (const c of modifierText) {
    if (c === 'i') modifiers.nocase = true;
    else if (c === 'f') modifiers.fullword = true;
    else if (c === 'w') modifiers.wide = true;
    else if (c === 'a') modifiers.ascii = true;
    else {
      const code = c.charCodeAt(0).toString(16).padStart(2, '0');
      throw new SignatureError(`Signature for ${rawName} uses invalid option: ${code}`);
    }
  }
  // No modifier letter at all (`hex::`) is the same as none.
  const any = modifiers.nocase || modifiers.fullword || modifiers.wide || modifiers.ascii;
  return { kind: 'content', offset, hex, modifiers: any ? modifiers : null };
}

function parseMacro(text: string): SubsignatureForm {
  if (text[text.length - 1] !== '$') {
    throw new SignatureError(`Logical signature macro subsignature is missing the '$' terminator:  ${text}`);
  }
  // sscanf("${%u-%u}%u$"): three numbers with these separators; what follows is not checked.
  const invalid = () => new SignatureError(`Invalid logical macro subsignature format:  ${text}`);
  if (text[1] !== '{') throw invalid();
  const min = scanUnsigned(text, 2);
  if (!min || text[min.end] !== '-') throw invalid();
  const max = scanUnsigned(text, min.end + 1);
  if (!max || text[max.end] !== '}') throw invalid();
  const group = scanUnsigned(text, max.end + 1);
  if (!group) throw invalid();
  if (group.value >= 32) {
    throw new SignatureError(
      `Invalid logical subsignature: only 32 macro groups are supported. ${group.value} macro groups found.`,
    );
  }
  return { kind: 'macro', min: min.value, max: max.value, group: group.value };
}

/** `fuzzy_img#hash[#distance]`: ClamAV 1.4 takes an 8-byte hex hash and only distance 0. */
function parseImageFuzzyHash(text: string): SubsignatureForm {
  const [, hash = '', distance] = text.split('#');
  const refuse = (why: string, first?: string) => {
    const error = new SignatureError(first ?? fuzzyHashFailure(text, why), 'EFORMAT');
    if (first !== undefined) error.because(fuzzyHashFailure(text, why));
    return error;
  };
  if (distance !== undefined) {
    // Rust's u32 parsing: optional `+`, digits, at most 4294967295.
    if (!/^\+?[0-9]+$/.test(distance) || BigInt(distance) > 0xffffffffn) {
      throw refuse(`Failed to convert hamming distance to unsigned 32bit integer: ${distance}`);
    }
    const value = Number(distance);
    if (value !== 0) {
      throw refuse(`Invalid hamming distance: ${value}`, 'Non-zero hamming distances for image fuzzy hashes are not supported in this version.');
    }
  }
  if (hash.length !== 16) throw refuse(`Invalid hash: ImageFuzzyHash hash must be 16 characters in length: ${hash}`);
  if (!/^[0-9a-fA-F]{16}$/.test(hash)) throw refuse(`Invalid hash: Invalid hash: ${hash}: ${hash}`);
  return { kind: 'image-fuzzy-hash', hash: hash.toLowerCase() };
}

function fuzzyHashFailure(text: string, why: string): string {
  return (
    `Failed to load fuzzy hash logical subsignature '${text}': ${why}\n` +
    'Expected format: algorithm#hash[#hammingdistance]\n' +
    '  where\n' +
    "   - algorithm:       Must be 'fuzzy_img'\n" +
    '   - hash:            Must be an 8-byte hex string\n' +
    '   - hammingdistance: (optional) Must be an unsigned integer'
  );
}
