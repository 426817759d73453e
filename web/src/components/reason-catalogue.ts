/**
 * The reason-code catalogue the API checks a person's reasons against (src/domain/reason-codes.ts: each code's
 * borrower text in Chinese and English, whether it can be appealed, the rules for a person's reasons), bundled from
 * the same source at build time: the API has no route that lists it. Loaded on demand (a chunk of its own, as
 * Cytoscape is) when an outcome asks for reasons, so the console's initial JavaScript does not grow.
 */
export { REASON_CODES, isKnownReason, personReasonsProblem } from '../../../src/domain/reason-codes';
export type { ReasonDefinition } from '../../../src/domain/reason-codes';
