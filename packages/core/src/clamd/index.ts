/** clamd's wire protocol: framing, commands, replies, INSTREAM, STATS and the connection state machine. */
export * from './protocol.js';
export * from './replies.js';
export { frameCommand, type FramedCommand } from './framing.js';
export { InstreamDecoder, type ChunkProgress } from './instream.js';
export { renderStats, type PoolStats, type TaskStats, type MemoryStats } from './stats.js';
export {
  ClamdConnection,
  type ClamdRequest,
  type ConnectionHost,
  type ConnectionMode,
  type ConnectionSettings,
  type ConnectionTransport,
  type Job,
  type PathCommand,
} from './connection.js';
