/** The store's public face for the app that wires it (adapters are added here as they move behind it). */
export { createComplianceStore } from './compliance.js';
