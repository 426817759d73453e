import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strategyRoutes } from '../../src/api/routes/strategies.js';
import { openEngine } from '../../src/app/engine.js';
import { ManualClock } from '../../src/domain/clock.js';
import type { EngineService } from '../../src/engine/index.js';
import { openStore, type Store } from '../../src/store/db.js';
import { recordDecision } from '../../src/store/index.js';
import { TEST_FIELD_CRYPTO } from '../helpers/stores.js';
import { applicationScorecard, gateStrategy } from './fixtures.js';
import { adminHeaders, startTestApp } from '../helpers/app.js';

/**
 * A simulation's dates are days on the lender's calendar (LINEGUARD_LENDER_UTC_OFFSET), as every other date is: the
 * night's job, the portfolio snapshot, a loan's dates. They were UTC days: for a lender in Beijing (+08:00), "1 March"
 * replayed the decisions from 08:00 on 1 March to 08:00 on 2 March there, so a risk team comparing a simulation with
 * the day's snapshot compared two different days.
 */
const BEIJING = 480;
/** 23:30 on 1 March in Beijing (15:30 UTC), and 00:30 on 2 March there (16:30 UTC, still 1 March in UTC). */
const LATE_ON_THE_FIRST = Date.UTC(2025, 2, 1, 15, 30);
const EARLY_ON_THE_SECOND = Date.UTC(2025, 2, 1, 16, 30);

describe('a simulation replays the days of the lender’s calendar', () => {
  let store: Store;
  let engine: EngineService;
  let app: FastifyInstance;

  beforeAll(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    engine = await openEngine({
      store,
      crypto: TEST_FIELD_CRYPTO,
      clock: new ManualClock(LATE_ON_THE_FIRST),
      models: (id) => (id === applicationScorecard.id ? applicationScorecard : undefined),
    });
    await engine.saveVersion(gateStrategy(500), 'test');
    await engine.activate('gate', 1, 'test');
    for (const [i, decidedAt] of [LATE_ON_THE_FIRST, EARLY_ON_THE_SECOND].entries()) {
      const context = { score: 600 };
      await store.transaction((tx) =>
        recordDecision(
          tx,
          {
            id: `00000000-0000-7000-8000-0000000000a${i}`,
            kind: 'application',
            borrowerId: `day-${i}`,
            context,
            decision: engine.decide('gate', context),
            latencyMs: 0.01,
            decidedAt,
          },
          TEST_FIELD_CRYPTO,
        ),
      );
    }
    app = Fastify();
    await app.register(strategyRoutes({ engine, calendar: { lenderUtcOffsetMinutes: BEIJING } }));
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const simulated = async (from: string, to: string) => {
    const sim = await app.inject({
      method: 'POST',
      url: '/v1/strategies/gate/simulate',
      payload: { from, to, version: 1 },
    });
    expect(sim.statusCode, sim.body).toBe(200);
    return (sim.json() as { decisions: number }).decisions;
  };

  it('a date is that day in Beijing, from its midnight there to the next', async () => {
    expect(await simulated('2025-03-01', '2025-03-01')).toBe(1);
    expect(await simulated('2025-03-02', '2025-03-02')).toBe(1);
    expect(await simulated('2025-03-01', '2025-03-02')).toBe(2);
  });

  it('an instant with its zone is taken as it is', async () => {
    expect(await simulated('2025-03-01T16:00:00Z', '2025-03-01T17:00:00Z')).toBe(1);
    expect(await simulated('2025-03-01T00:00:00+08:00', '2025-03-02T00:00:00+08:00')).toBe(1);
  });
});

/**
 * The console's default simulation range ends on the lender's today, which only the server knows: it was the browser's
 * UTC date, so in Beijing before 08:00 the range stopped at yesterday and left out the day's decisions so far. The
 * session says the day (test/browser/console.test.ts checks the editor uses it).
 */
describe('the session says what day it is on the lender’s calendar', () => {
  for (const { offset, at, today } of [
    { offset: '+08:00', at: EARLY_ON_THE_SECOND, today: '2025-03-02' },
    { offset: '+08:00', at: LATE_ON_THE_FIRST, today: '2025-03-01' },
    { offset: '-05:00', at: Date.UTC(2025, 2, 2, 3, 0), today: '2025-03-01' },
    { offset: 'Z', at: EARLY_ON_THE_SECOND, today: '2025-03-01' },
  ])
    it(`at ${new Date(at).toISOString()} on ${offset} it is ${today}`, async () => {
      const t = await startTestApp({ LINEGUARD_LENDER_UTC_OFFSET: offset }, { clock: new ManualClock(at) });
      try {
        const session = await t.server.inject({ method: 'GET', url: '/v1/session', headers: adminHeaders() });
        expect(session.statusCode, session.body).toBe(200);
        expect(session.json()).toMatchObject({
          role: 'admin',
          lenderToday: today,
          serverTime: new Date(at).toISOString(),
        });
      } finally {
        await t.close();
      }
    });
});
