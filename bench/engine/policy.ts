/**
 * One reference policy (32 rules, a decision table, a 5-characteristic scorecard, 20 inputs), defined once as data
 * and rendered three ways: a LineGuard strategy, json-rules-engine rules, and a GoRules ZEN decision graph (JDM).
 * Final outcome = the most decisive of (rules, table, scorecard cut-off) by DECLINE > HOLD > REVIEW > CHALLENGE >
 * COOLDOWN > APPROVE.
 */
import type { RuleProperties } from 'json-rules-engine';
import type { Outcome } from '../../src/domain/decision.js';
import { seededRandom } from '../../src/domain/random.js';
import { DEFAULT_PRECEDENCE } from '../../src/engine/runtime.js';
import type { StrategyDocument } from '../../src/engine/types.js';

/** The engine's own precedence, so all three engines resolve a multi-rule hit the same way. */
export const PRECEDENCE: readonly Outcome[] = DEFAULT_PRECEDENCE;

type Op = '<' | '<=' | '>' | '>=' | '==';
interface Cond {
  readonly field: string;
  readonly op: Op;
  readonly value: number | string | boolean;
}
interface PolicyRule {
  readonly id: string;
  readonly conds: readonly Cond[];
  readonly outcome: Outcome;
  readonly reason: string;
}

const c = (field: string, op: Op, value: number | string | boolean): Cond => ({ field, op, value });

export const RULES: readonly PolicyRule[] = [
  { id: 'D1', conds: [c('age', '<', 18)], outcome: 'DECLINE', reason: 'R_AGE_BELOW_MIN' },
  { id: 'D2', conds: [c('blacklisted', '==', true)], outcome: 'DECLINE', reason: 'R_BLACKLIST' },
  {
    id: 'D3',
    conds: [c('externalDelinquent', '==', true), c('daysPastDue', '>', 30)],
    outcome: 'DECLINE',
    reason: 'R_DELINQUENT_EXTERNAL',
  },
  { id: 'D4', conds: [c('daysPastDue', '>', 90)], outcome: 'DECLINE', reason: 'R_DAYS_PAST_DUE' },
  { id: 'D5', conds: [c('inquiries30d', '>=', 7)], outcome: 'DECLINE', reason: 'R_INQUIRY_VELOCITY' },
  {
    id: 'D6',
    conds: [c('debt', '>', 150000), c('income', '<', 5000)],
    outcome: 'DECLINE',
    reason: 'R_DEBT_TO_INCOME_HIGH',
  },
  {
    id: 'D7',
    conds: [c('amountOverAvailable', '==', true)],
    outcome: 'DECLINE',
    reason: 'R_INSUFFICIENT_CREDIT',
  },
  { id: 'D8', conds: [c('scamScore', '>=', 0.95)], outcome: 'DECLINE', reason: 'R_SCAM_TRANSFER_PATTERN' },
  { id: 'H1', conds: [c('scamScore', '>=', 0.85)], outcome: 'HOLD', reason: 'R_SCAM_TRANSFER_PATTERN' },
  {
    id: 'H2',
    conds: [c('newDevice', '==', true), c('payeeAdded', '==', true), c('amount', '>', 20000)],
    outcome: 'HOLD',
    reason: 'R_ACCOUNT_TAKEOVER',
  },
  { id: 'H3', conds: [c('daysPastDue', '>', 60)], outcome: 'HOLD', reason: 'R_DAYS_PAST_DUE' },
  { id: 'H4', conds: [c('drawsLast24h', '>=', 8)], outcome: 'HOLD', reason: 'R_DRAW_VELOCITY' },
  { id: 'V1', conds: [c('inquiries90d', '>=', 12)], outcome: 'REVIEW', reason: 'R_INQUIRY_VELOCITY' },
  {
    id: 'V2',
    conds: [c('externalDelinquent', '==', true)],
    outcome: 'REVIEW',
    reason: 'R_DELINQUENT_EXTERNAL',
  },
  { id: 'V3', conds: [c('utilisation', '>', 1.1)], outcome: 'REVIEW', reason: 'R_UTILISATION_HIGH' },
  { id: 'V4', conds: [c('debt', '>', 120000)], outcome: 'REVIEW', reason: 'R_DEBT_TO_INCOME_HIGH' },
  { id: 'V5', conds: [c('age', '>', 75)], outcome: 'REVIEW', reason: 'R_MANUAL_REVIEW' },
  { id: 'V6', conds: [c('drawsLast24h', '>=', 6)], outcome: 'REVIEW', reason: 'R_DRAW_VELOCITY' },
  { id: 'V7', conds: [c('daysPastDue', '>', 30)], outcome: 'REVIEW', reason: 'R_DAYS_PAST_DUE' },
  {
    id: 'C1',
    conds: [c('newDevice', '==', true), c('amount', '>', 10000)],
    outcome: 'CHALLENGE',
    reason: 'R_NEW_DEVICE',
  },
  { id: 'C2', conds: [c('deviceAgeDays', '<', 2)], outcome: 'CHALLENGE', reason: 'R_NEW_DEVICE' },
  { id: 'C3', conds: [c('scamScore', '>=', 0.6)], outcome: 'CHALLENGE', reason: 'R_SCAM_TRANSFER_PATTERN' },
  {
    id: 'C4',
    conds: [c('payeeAdded', '==', true), c('amount', '>', 30000)],
    outcome: 'CHALLENGE',
    reason: 'R_ACCOUNT_TAKEOVER',
  },
  {
    id: 'C5',
    conds: [c('segment', '==', 'D'), c('newDevice', '==', true)],
    outcome: 'CHALLENGE',
    reason: 'R_NEW_DEVICE',
  },
  { id: 'K1', conds: [c('minutesSinceLastDraw', '<', 5)], outcome: 'COOLDOWN', reason: 'R_COOLING_OFF' },
  { id: 'K2', conds: [c('drawsLast24h', '>=', 4)], outcome: 'COOLDOWN', reason: 'R_DRAW_VELOCITY' },
  { id: 'K3', conds: [c('amount', '>', 40000)], outcome: 'COOLDOWN', reason: 'R_COOLING_OFF' },
  {
    id: 'K4',
    conds: [c('monthsOnBook', '<', 1), c('amount', '>', 20000)],
    outcome: 'COOLDOWN',
    reason: 'R_COOLING_OFF',
  },
  {
    id: 'K5',
    conds: [c('minutesSinceLastDraw', '<', 30), c('amount', '>', 25000)],
    outcome: 'COOLDOWN',
    reason: 'R_COOLING_OFF',
  },
  {
    id: 'K6',
    conds: [c('onTimePayments', '<', 2), c('amount', '>', 30000)],
    outcome: 'COOLDOWN',
    reason: 'R_COOLING_OFF',
  },
  { id: 'K7', conds: [c('inquiries30d', '>=', 4)], outcome: 'COOLDOWN', reason: 'R_INQUIRY_VELOCITY' },
  { id: 'K8', conds: [c('utilisation', '>', 0.95)], outcome: 'COOLDOWN', reason: 'R_UTILISATION_HIGH' },
];

/** Decision table on (segment, utilisation, monthsOnBook), hit policy first. */
export const TABLE: readonly {
  segment: readonly string[];
  util?: [Op, number];
  mob?: [Op, number];
  outcome: Outcome;
}[] = [
  { segment: ['D'], util: ['>=', 0.9], outcome: 'REVIEW' },
  { segment: ['C'], util: ['>=', 0.95], outcome: 'CHALLENGE' },
  { segment: ['A', 'B'], util: ['>', 0.8], mob: ['<', 3], outcome: 'COOLDOWN' },
  { segment: ['D'], mob: ['<', 6], outcome: 'CHALLENGE' },
];

/** Scorecard: characteristic bins [lo, hi) -> points. Score < 30 declines, < 45 goes to review. */
export const SCORECARD: readonly {
  field: string;
  bins: readonly [number | null, number | null, number][];
}[] = [
  {
    field: 'age',
    bins: [
      [null, 25, 5],
      [25, 40, 15],
      [40, 60, 20],
      [60, null, 10],
    ],
  },
  {
    field: 'income',
    bins: [
      [null, 3000, 0],
      [3000, 10000, 10],
      [10000, null, 20],
    ],
  },
  {
    field: 'utilisation',
    bins: [
      [null, 0.3, 20],
      [0.3, 0.7, 12],
      [0.7, null, 0],
    ],
  },
  {
    field: 'onTimePayments',
    bins: [
      [null, 6, 0],
      [6, 12, 8],
      [12, null, 15],
    ],
  },
  {
    field: 'inquiries90d',
    bins: [
      [null, 3, 15],
      [3, 8, 5],
      [8, null, 0],
    ],
  },
];
export const SCORE_DECLINE = 30;
export const SCORE_REVIEW = 45;

export type BenchContext = Record<string, number | string | boolean>;

/** Seeded contexts (20 inputs) with skewed distributions so every outcome occurs. */
export function generateContexts(count: number, seed = 42): BenchContext[] {
  const rnd = seededRandom(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd.next() * (hi - lo + 1));
  const two = (x: number): number => Math.round(x * 100) / 100;
  const flag = (p: number): boolean => rnd.next() < p;
  const out: BenchContext[] = [];
  for (let i = 0; i < count; i++) {
    const amount = int(100, 50000);
    const available = int(0, 80000);
    out.push({
      age: int(16, 80),
      income: int(1000, 50000),
      debt: int(0, 200000),
      inquiries30d: rnd.next() < 0.8 ? int(0, 3) : int(0, 8),
      inquiries90d: int(0, 15),
      externalDelinquent: flag(0.05),
      blacklisted: flag(0.01),
      deviceAgeDays: rnd.next() < 0.9 ? int(2, 1000) : int(0, 1),
      drawsLast24h: rnd.next() < 0.85 ? int(0, 3) : int(0, 9),
      minutesSinceLastDraw: int(0, 1440),
      amount,
      amountOverAvailable: amount > available,
      utilisation: two(rnd.next() * 1.2),
      daysPastDue: rnd.next() < 0.85 ? 0 : int(1, 120),
      monthsOnBook: int(0, 60),
      onTimePayments: int(0, 24),
      scamScore: rnd.next() < 0.9 ? two(rnd.next() * 0.5) : two(rnd.next()),
      newDevice: flag(0.1),
      payeeAdded: flag(0.1),
      segment: ['A', 'B', 'C', 'D'][int(0, 3)] as string,
    });
  }
  return out;
}

export const INPUTS: readonly { name: string; type: 'number' | 'integer' | 'boolean' | 'string' }[] = [
  { name: 'age', type: 'integer' },
  { name: 'income', type: 'integer' },
  { name: 'debt', type: 'integer' },
  { name: 'inquiries30d', type: 'integer' },
  { name: 'inquiries90d', type: 'integer' },
  { name: 'externalDelinquent', type: 'boolean' },
  { name: 'blacklisted', type: 'boolean' },
  { name: 'deviceAgeDays', type: 'number' },
  { name: 'drawsLast24h', type: 'integer' },
  { name: 'minutesSinceLastDraw', type: 'number' },
  { name: 'amount', type: 'integer' },
  { name: 'amountOverAvailable', type: 'boolean' },
  { name: 'utilisation', type: 'number' },
  { name: 'daysPastDue', type: 'integer' },
  { name: 'monthsOnBook', type: 'integer' },
  { name: 'onTimePayments', type: 'integer' },
  { name: 'scamScore', type: 'number' },
  { name: 'newDevice', type: 'boolean' },
  { name: 'payeeAdded', type: 'boolean' },
  { name: 'segment', type: 'string' },
];

const literal = (v: number | string | boolean): string => (typeof v === 'string' ? `'${v}'` : String(v));
const rangeCell = (lo: number | null, hi: number | null): string =>
  `[${lo ?? ''}..${hi ?? ''})`.replace('[..', '(..');

// ---- LineGuard

export function lineGuardStrategy(rules: readonly PolicyRule[] = RULES): StrategyDocument {
  return {
    id: 'bench',
    inputs: INPUTS.map((i) => ({ ...i, required: true })),
    nodes: [
      {
        id: 'rules',
        type: 'ruleSet',
        mode: 'all',
        rules: rules.map((r) => ({
          id: r.id,
          when: r.conds.map((k) => `${k.field} ${k.op} ${literal(k.value)}`).join(' and '),
          outcome: r.outcome,
          reasons: [r.reason],
        })),
      },
      {
        id: 'segment-table',
        type: 'decisionTable',
        hitPolicy: 'first',
        inputs: ['segment', 'utilisation', 'monthsOnBook'],
        rows: TABLE.map((row, i) => ({
          id: `T${i + 1}`,
          when: [
            [...row.segment],
            row.util ? `${row.util[0]} ${row.util[1]}` : '-',
            row.mob ? `${row.mob[0]} ${row.mob[1]}` : '-',
          ],
          outcome: row.outcome,
          reasons: ['R_UTILISATION_HIGH'],
        })),
      },
      {
        id: 'scorecard',
        type: 'scorecard',
        output: 'score',
        features: SCORECARD.map((f) => ({
          name: f.field,
          reason: 'R_SCORE_LOW',
          bins: f.bins.map(([lo, hi, points]) => ({ when: rangeCell(lo, hi), points })),
        })),
      },
      {
        id: 'cutoff',
        type: 'ruleSet',
        mode: 'first-hit',
        rules: [
          {
            id: 'S1',
            when: `score < ${SCORE_DECLINE}`,
            outcome: 'DECLINE',
            reasons: ['R_SCORE_LOW'],
            reasonsFrom: 'score',
          },
          {
            id: 'S2',
            when: `score < ${SCORE_REVIEW}`,
            outcome: 'REVIEW',
            reasons: ['R_SCORE_LOW'],
            reasonsFrom: 'score',
          },
        ],
      },
    ],
  };
}

// ---- json-rules-engine

const JRE_OP: Record<Op, string> = {
  '<': 'lessThan',
  '<=': 'lessThanInclusive',
  '>': 'greaterThan',
  '>=': 'greaterThanInclusive',
  '==': 'equal',
};

export function jsonRulesEngineRules(rules: readonly PolicyRule[] = RULES): RuleProperties[] {
  const out: RuleProperties[] = rules.map((r) => ({
    name: r.id,
    conditions: { all: r.conds.map((k) => ({ fact: k.field, operator: JRE_OP[k.op], value: k.value })) },
    event: { type: 'outcome', params: { outcome: r.outcome } },
  }));
  TABLE.forEach((row, i) => {
    const all = [{ fact: 'segment', operator: 'in', value: [...row.segment] }];
    if (row.util)
      all.push({ fact: 'utilisation', operator: JRE_OP[row.util[0]], value: row.util[1] as never });
    if (row.mob) all.push({ fact: 'monthsOnBook', operator: JRE_OP[row.mob[0]], value: row.mob[1] as never });
    out.push({
      name: `T${i + 1}`,
      conditions: { all },
      event: { type: 'table', params: { row: i, outcome: row.outcome } },
    });
  });
  for (const f of SCORECARD) {
    f.bins.forEach(([lo, hi, points], b) => {
      const all: { fact: string; operator: string; value: number }[] = [];
      if (lo !== null) all.push({ fact: f.field, operator: 'greaterThanInclusive', value: lo });
      if (hi !== null) all.push({ fact: f.field, operator: 'lessThan', value: hi });
      out.push({
        name: `${f.field}#${b}`,
        conditions: { all },
        event: { type: 'points', params: { points } },
      });
    });
  }
  return out;
}

/** Combines json-rules-engine events into the outcome (table first-hit, score sum and cut-off in plain JS). */
export function outcomeFromEvents(
  events: readonly { type: string; params?: Record<string, unknown> }[],
): Outcome {
  const outcomes: Outcome[] = [];
  let score = 0;
  let tableRow = Number.POSITIVE_INFINITY;
  let tableOutcome: Outcome | undefined;
  for (const e of events) {
    if (e.type === 'outcome') outcomes.push(e.params?.outcome as Outcome);
    else if (e.type === 'points') score += e.params?.points as number;
    else if (e.type === 'table' && (e.params?.row as number) < tableRow) {
      tableRow = e.params?.row as number;
      tableOutcome = e.params?.outcome as Outcome;
    }
  }
  if (tableOutcome) outcomes.push(tableOutcome);
  if (score < SCORE_DECLINE) outcomes.push('DECLINE');
  else if (score < SCORE_REVIEW) outcomes.push('REVIEW');
  return mostDecisive(outcomes);
}

export function mostDecisive(outcomes: readonly Outcome[]): Outcome {
  for (const o of PRECEDENCE) if (outcomes.includes(o)) return o;
  return 'APPROVE';
}

// ---- GoRules ZEN (JDM)

const zenCell = (op: Op, v: number | string | boolean): string =>
  op === '==' ? literal(v) : `${op} ${literal(v)}`;

/**
 * Rules as one decision table, hit policy first, rows sorted by outcome precedence: the first row that matches is the
 * most decisive rule that fires. Then the segment table, the scorecard as an expression, and the final combination.
 */
export function zenGraph(rules: readonly PolicyRule[] = RULES): object {
  const sorted = [...rules].sort((a, b) => PRECEDENCE.indexOf(a.outcome) - PRECEDENCE.indexOf(b.outcome));
  const fields = [...new Set(sorted.flatMap((r) => r.conds.map((k) => k.field)))];
  const ruleTable = {
    id: 'rules',
    name: 'rules',
    type: 'decisionTableNode',
    position: { x: 0, y: 0 },
    content: {
      hitPolicy: 'first',
      passThrough: true,
      inputField: null,
      outputPath: null,
      executionMode: 'single',
      inputs: fields.map((f) => ({ id: `in_${f}`, name: f, field: f })),
      outputs: [{ id: 'out', name: 'ruleOutcome', field: 'ruleOutcome' }],
      rules: sorted.map((r) => {
        const row: Record<string, string> = { _id: r.id, out: `'${r.outcome}'` };
        for (const f of fields) row[`in_${f}`] = '';
        for (const k of r.conds) row[`in_${k.field}`] = zenCell(k.op, k.value);
        return row;
      }),
    },
  };
  const segTable = {
    id: 'segment',
    name: 'segment',
    type: 'decisionTableNode',
    position: { x: 0, y: 0 },
    content: {
      hitPolicy: 'first',
      passThrough: true,
      inputField: null,
      outputPath: null,
      executionMode: 'single',
      inputs: [
        { id: 'seg', name: 'segment', field: 'segment' },
        { id: 'util', name: 'utilisation', field: 'utilisation' },
        { id: 'mob', name: 'monthsOnBook', field: 'monthsOnBook' },
      ],
      outputs: [{ id: 'out', name: 'tableOutcome', field: 'tableOutcome' }],
      rules: TABLE.map((row, i) => ({
        _id: `T${i + 1}`,
        seg: row.segment.map((s) => `'${s}'`).join(', '),
        util: row.util ? zenCell(row.util[0], row.util[1]) : '',
        mob: row.mob ? zenCell(row.mob[0], row.mob[1]) : '',
        out: `'${row.outcome}'`,
      })),
    },
  };
  const binExpr = (field: string, bins: readonly [number | null, number | null, number][]): string => {
    let expr = '';
    for (const [, hi, points] of bins) expr += hi === null ? `${points}` : `${field} < ${hi} ? ${points} : `;
    return `(${expr})`;
  };
  const score = {
    id: 'score',
    name: 'score',
    type: 'expressionNode',
    position: { x: 0, y: 0 },
    content: {
      passThrough: true,
      inputField: null,
      outputPath: null,
      executionMode: 'single',
      expressions: [
        { id: 's', key: 'score', value: SCORECARD.map((f) => binExpr(f.field, f.bins)).join(' + ') },
      ],
    },
  };
  const is = (o: Outcome): string =>
    `ruleOutcome == '${o}' or tableOutcome == '${o}' or $.scoreOutcome == '${o}'`;
  const final = {
    id: 'final',
    name: 'final',
    type: 'expressionNode',
    position: { x: 0, y: 0 },
    content: {
      passThrough: false,
      inputField: null,
      outputPath: null,
      executionMode: 'single',
      expressions: [
        {
          id: 'so',
          key: 'scoreOutcome',
          value: `score < ${SCORE_DECLINE} ? 'DECLINE' : (score < ${SCORE_REVIEW} ? 'REVIEW' : 'APPROVE')`,
        },
        {
          id: 'o',
          key: 'outcome',
          value: PRECEDENCE.slice(0, -1).reduceRight((acc, o) => `(${is(o)}) ? '${o}' : ${acc}`, "'APPROVE'"),
        },
      ],
    },
  };
  const nodes = [
    { id: 'input', name: 'request', type: 'inputNode', position: { x: 0, y: 0 } },
    ruleTable,
    segTable,
    score,
    final,
  ];
  const edges = nodes
    .slice(1)
    .map((n, i) => ({ id: `e${i}`, type: 'edge', sourceId: nodes[i]?.id, targetId: n.id }));
  return { contentType: 'application/vnd.gorules.decision', nodes, edges };
}

/** Rules for the large-strategy benchmark: n threshold rules over the same inputs, rarely firing. */
export function manyRules(n: number): PolicyRule[] {
  const numeric = INPUTS.filter((i) => i.type !== 'boolean' && i.type !== 'string').map((i) => i.name);
  const out: PolicyRule[] = [];
  for (let i = 0; i < n; i++) {
    const field = numeric[i % numeric.length] as string;
    const other = numeric[(i * 7 + 3) % numeric.length] as string;
    out.push({
      id: `G${i}`,
      conds: [c(field, '>', 1_000_000 + i), c(other, '>=', i % 50)],
      outcome: PRECEDENCE[i % 5] as Outcome,
      reason: 'R_MANUAL_REVIEW',
    });
  }
  return out;
}
