export type { StoredArgument } from './arguments.js';
export { SIZE_LIMIT } from './arguments.js';
export { Config, type ConfigEntry } from './config.js';
export { loadConfigFile, parseConfig, type ParseOptions } from './parser.js';
export {
  CLAMAV_USER,
  CLAMD_CONF,
  CONFDIR,
  CONFIG_FILE_NAMES,
  configToolForFileName,
  DATADIR,
  FRESHCLAM_CONF,
  MILTER_CONF,
} from './paths.js';
export { renderConfigOptions, type RenderOptions } from './render.js';
export { generateSampleConfig } from './sample.js';
export { CONFIG_SCHEMA, findOption, optionsFor } from './schema/index.js';
export type {
  ClamTool,
  ConfigTool,
  OptionSpec,
  OptionType,
  OptionValue,
} from './types.js';
