import { describe, expect, it } from 'vitest';
import { compileStrategy } from './compiler.js';
import { simulateStrategy } from './simulate.js';
import type { DecisionHistory, ReplayPage, ReplayRow, StoredDecision } from './ports.js';
import { gateStrategy as gate } from '../../test/engine/fixtures.js';

const live = compileStrategy(gate(500));
const noModels = () => undefined;

function stored(id: string, decidedAt: number, score: number): StoredDecision {
  const decision = live.run({ score }, { params: {}, models: noModels });
  return {
    id,
    kind: 'application',
    context: { score },
    decision,
    latencyMs: 0,
    decidedAt,
    strategyId: 'gate',
    strategyVersion: 1,
    engineVersion: 'test',
  };
}

const unreadable = (id: string, decidedAt: number): ReplayRow => ({
  id,
  decidedAt,
  unreadable: `the sealed context of decision '${id}' cannot be opened`,
});

/** A history of `rows` (oldest first), paged by (decidedAt, id) as the store pages it. */
function historyOf(rows: readonly ReplayRow[]): DecisionHistory & { pages: number } {
  const history = {
    pages: 0,
    async decisionsForReplay(page: ReplayPage): Promise<ReplayRow[]> {
      history.pages++;
      const after = page.after;
      const rest = after
        ? rows.filter(
            (r) => r.decidedAt > after.decidedAt || (r.decidedAt === after.decidedAt && r.id > after.id),
          )
        : rows;
      return rest.slice(0, page.pageSize);
    },
    overlayHistory: async () => [],
  };
  return history;
}

describe('simulateStrategy over decisions it cannot read', () => {
  it('pages past unreadable rows wherever they fall, replays the rest and names them, oldest first', async () => {
    // Pages of two: an unreadable row ends the first page, another begins the second, and one ends the period.
    const rows: ReplayRow[] = [
      stored('d1', 1, 520),
      unreadable('d2', 2),
      unreadable('d3', 3),
      stored('d4', 4, 700),
      stored('d5', 5, 540),
      unreadable('d6', 6),
    ];
    const history = historyOf(rows);
    const report = await simulateStrategy({
      history,
      candidate: compileStrategy(gate(560)),
      live: gate(500),
      models: noModels,
      from: 0,
      to: 10,
      pageSize: 2,
    });
    expect(history.pages).toBe(4);
    expect(report.decisions).toBe(3);
    expect(report.unreadable).toEqual({ count: 3, decisionIds: ['d2', 'd3', 'd6'] });
    // d1 and d5 (520, 540) turn into declines under 560; d4 stays approved. The unreadable ones are in no figure.
    expect(report.outcomeMatrix.APPROVE.DECLINE).toBe(2);
    expect(report.outcomeMatrix.APPROVE.APPROVE).toBe(1);
    expect(report.newlyDeclined.map((s) => s.decisionId)).toEqual(['d1', 'd5']);
    expect(report.truncated).toBe(false);
  });

  it('cuts the ids at subjectsMax and says so; the count stays whole', async () => {
    const rows = [unreadable('d1', 1), unreadable('d2', 2), stored('d3', 3, 700)];
    const report = await simulateStrategy({
      history: historyOf(rows),
      candidate: compileStrategy(gate(560)),
      live: gate(500),
      models: noModels,
      from: 0,
      to: 10,
      subjectsMax: 1,
    });
    expect(report.unreadable).toEqual({ count: 2, decisionIds: ['d1'] });
    expect(report.truncated).toBe(true);
    expect(report.decisions).toBe(1);
  });
});
