/** The public face of src/app/: what other folders may import. */

export { createApp, createHttpServer, evaluateTypologies } from './app.js';
export type { AppServices } from './app.js';
export { bootstrapServe } from './bootstrap.js';
export { dailyJobs, type DailyJobsDeps, type OutboxRetention } from './daily-jobs.js';
export { dataKeysGiven, loadConfig, resolveStoreLocation } from './config.js';
export type { ConfigOverrides } from './config.js';
