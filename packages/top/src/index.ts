/** @clamts/top: clamdtop, ClamAV's daemon monitor, as an Ink terminal UI. */
export { clamdtopMain } from './main.js';
export { DaemonMonitor, type DaemonStatus, type MonitorOptions } from './daemon-monitor.js';
export { Dashboard, type DaemonView } from './dashboard.js';
export { parseTarget, addressFromConfig, type DaemonTarget } from './targets.js';
export { parseVersion, type VersionInfo } from './version-info.js';
export { App, type AppProps, type QuitReason } from './ui/app.js';
export { createTheme, type Theme } from './ui/theme.js';
