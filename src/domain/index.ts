/** The domain's public face: pure types and rules, no I/O (DESIGN.md "Layout"). */
export * from './errors.js';
export * from './clock.js';
export * from './random.js';
export * from './ids.js';
export * from './money.js';
export * from './canonical-json.js';
export * from './decision.js';
export * from './model.js';
export * from './line.js';
export * from './reason-codes.js';
export * from './schedule.js';
export * from './apr.js';
export * from './national-id.js';
export * from './delinquency.js';
export * from './anti-scam.js';
export * from './sha256.js';
