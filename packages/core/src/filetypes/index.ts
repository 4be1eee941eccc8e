export {
  FileTypeDatabaseBuilder,
  FileTypeDetector,
  TypeSignatureScan,
  type DetectorOptions,
  type FtmSource,
  type TypeSignatureScanOptions,
} from './detector.js';
export { ftmMagicType, parseFtmLine, type FtmLine, type FtmLineOptions, type MagicEntry, type PatternEntry, type SkippedLine } from './ftm.js';
export { MAX_TARGET_TYPE, TARGET_TYPES, rawScanTarget, targetTypeOf, type TargetType } from './targets.js';
export { DATABASE_TYPE_NAMES, databaseTypeCode, typeCode, typeName, type FileTypeName } from './types.js';
