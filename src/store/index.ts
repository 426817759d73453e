/**
 * The store's public face for the wiring in src/app (DESIGN.md "Layout"): the adapters that implement the modules'
 * ports. Other store files are still imported directly by older code (see .dependency-cruiser-known-violations.json).
 */
export { createLendingStore } from './lending.js';
