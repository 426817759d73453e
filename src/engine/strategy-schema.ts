import { LINE_ACTION_TYPES, OUTCOMES } from '../domain/index.js';
import { INPUT_TYPES } from './types.js';

/**
 * The published JSON Schema (draft-07) of a strategy document, served at GET /v1/strategies/schema. Structure is
 * checked here; expressions, cells, names, reason codes and the flow graph are checked by validate.ts, which
 * reports the same JSON-pointer paths.
 */
const id = { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$' } as const;
const name = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' } as const;
const expr = { type: 'string', minLength: 1, maxLength: 10000 } as const;
const reasons = {
  type: 'array',
  items: { type: 'string', pattern: '^R_[A-Z0-9_]+$' },
  maxItems: 16,
} as const;
const outcome = { enum: [...OUTCOMES] } as const;
const scalar = { type: ['string', 'number', 'boolean'] } as const;
const cell = {
  anyOf: [
    { type: ['string', 'number', 'boolean', 'null'] },
    { type: 'array', items: scalar, maxItems: 1000 },
  ],
} as const;
const output = {
  anyOf: [
    { type: ['string', 'number', 'boolean', 'null'] },
    { type: 'object', required: ['expr'], additionalProperties: false, properties: { expr } },
  ],
} as const;
const action = {
  type: 'object',
  required: ['type'],
  additionalProperties: false,
  properties: { type: { enum: [...LINE_ACTION_TYPES] }, limit: expr, rate: expr, reasons },
} as const;
const effect = {
  outcome,
  reasons,
  reasonsFrom: name,
  actions: { type: 'array', items: action, maxItems: 8 },
} as const;
const modelRef = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1 }, version: { type: 'integer', minimum: 1 } },
} as const;
const nodeBase = { id, description: { type: 'string' }, next: { type: 'string' } } as const;

const nodeTypes = {
  ruleSet: {
    required: ['id', 'type', 'mode', 'rules'],
    properties: {
      mode: { enum: ['first-hit', 'all', 'score-sum'] },
      rules: {
        type: 'array',
        maxItems: 10000,
        items: {
          type: 'object',
          required: ['id', 'when'],
          additionalProperties: false,
          properties: {
            id,
            when: expr,
            points: { type: 'number' },
            description: { type: 'string' },
            ...effect,
          },
        },
      },
      output: name,
      bands: {
        type: 'array',
        items: {
          type: 'object',
          required: ['min'],
          additionalProperties: false,
          properties: { min: { type: 'number' }, ...effect },
        },
      },
    },
  },
  decisionTable: {
    required: ['id', 'type', 'hitPolicy', 'inputs', 'rows'],
    properties: {
      hitPolicy: { enum: ['first', 'unique', 'collect'] },
      inputs: { type: 'array', items: expr, minItems: 1, maxItems: 64 },
      outputs: { type: 'array', items: name, maxItems: 64 },
      rows: {
        type: 'array',
        maxItems: 10000,
        items: {
          type: 'object',
          required: ['when'],
          additionalProperties: false,
          properties: {
            id: { type: 'string' },
            when: { type: 'array', items: cell },
            then: { type: 'array', items: output },
            ...effect,
          },
        },
      },
      default: {
        type: 'object',
        additionalProperties: false,
        properties: { then: { type: 'array', items: output }, ...effect },
      },
      aggregate: { enum: ['list', 'sum', 'min', 'max', 'count'] },
    },
  },
  scorecard: {
    required: ['id', 'type', 'output'],
    properties: {
      output: name,
      pdOutput: name,
      base: { type: 'number' },
      features: {
        type: 'array',
        maxItems: 256,
        items: {
          type: 'object',
          required: ['name', 'reason', 'bins'],
          additionalProperties: false,
          properties: {
            name: { type: 'string' },
            input: expr,
            reason: reasons.items,
            bins: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                required: ['when', 'points'],
                additionalProperties: false,
                properties: { when: cell, points: { type: 'number' } },
              },
            },
          },
        },
      },
      modelRef,
      modelInputs: { type: 'object', additionalProperties: expr },
      reasonCount: { type: 'integer', minimum: 0, maximum: 16 },
    },
  },
  model: {
    required: ['id', 'type', 'modelRef', 'output'],
    properties: {
      modelRef,
      output: name,
      pdOutput: name,
      modelInputs: { type: 'object', additionalProperties: expr },
      reasonCount: { type: 'integer', minimum: 0, maximum: 16 },
    },
  },
  assign: {
    required: ['id', 'type'],
    properties: {
      matrices: {
        type: 'array',
        items: {
          type: 'object',
          required: ['output', 'row', 'rowBins', 'col', 'colBins', 'cells'],
          additionalProperties: false,
          properties: {
            output: name,
            row: expr,
            rowBins: { type: 'array', items: cell, minItems: 1 },
            col: expr,
            colBins: { type: 'array', items: cell, minItems: 1 },
            cells: { type: 'array', items: { type: 'array', items: { type: ['number', 'string'] } } },
          },
        },
      },
      values: { type: 'object', propertyNames: name, additionalProperties: expr },
      limit: expr,
      rate: expr,
    },
  },
  branch: {
    required: ['id', 'type', 'branches', 'otherwise'],
    properties: {
      branches: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['when', 'next'],
          additionalProperties: false,
          properties: { when: expr, next: { type: 'string' } },
        },
      },
      otherwise: { type: 'string' },
    },
  },
  split: {
    required: ['id', 'type', 'arms'],
    properties: {
      output: name,
      arms: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['name', 'percent', 'next'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1 },
            percent: { type: 'number', minimum: 0, maximum: 100 },
            next: { type: 'string' },
          },
        },
      },
    },
  },
  shadow: {
    required: ['id', 'type', 'strategy'],
    properties: { strategy: id },
  },
} as const;

/** One branch per node type (if/then on `type`) so that errors name the exact field, not "no anyOf matched". */
const nodeSchema = {
  type: 'object',
  required: ['id', 'type'],
  properties: { type: { enum: Object.keys(nodeTypes) } },
  allOf: Object.entries(nodeTypes).map(([type, spec]) => ({
    if: { properties: { type: { const: type } } },
    then: {
      required: spec.required,
      additionalProperties: false,
      properties: { ...nodeBase, type: { const: type }, ...spec.properties },
    },
  })),
};

export const STRATEGY_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://lineguard.dev/schemas/strategy.json',
  title: 'LineGuard strategy document',
  type: 'object',
  required: ['id', 'inputs', 'nodes'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    id,
    version: { type: 'integer', minimum: 1 },
    name: { type: 'string', maxLength: 200 },
    description: { type: 'string', maxLength: 4000 },
    inputs: {
      type: 'array',
      maxItems: 500,
      items: {
        type: 'object',
        required: ['name', 'type'],
        additionalProperties: false,
        properties: {
          name,
          type: { enum: [...INPUT_TYPES] },
          required: { type: 'boolean' },
          min: { type: 'number' },
          max: { type: 'number' },
          allowed: { type: 'array', items: { type: ['string', 'number'] }, minItems: 1 },
          description: { type: 'string' },
        },
      },
    },
    params: {
      type: 'object',
      propertyNames: name,
      additionalProperties: {
        type: 'object',
        required: ['default'],
        additionalProperties: false,
        properties: { default: scalar, description: { type: 'string' } },
      },
    },
    outcomePrecedence: {
      type: 'array',
      items: outcome,
      minItems: OUTCOMES.length,
      maxItems: OUTCOMES.length,
      uniqueItems: true,
    },
    defaultOutcome: outcome,
    stopOn: { type: 'array', items: outcome, uniqueItems: true },
    nodes: { type: 'array', minItems: 1, maxItems: 1000, items: nodeSchema },
  },
} as const;
