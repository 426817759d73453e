import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { person, type Person } from '../cases/helpers.js';
import { PG, T0, applicant, client, fleet, openLine, type Proc } from './skew-harness.js';

/**
 * The bundled draw strategy's cooling-off (RAPID_REPEAT): no draw within 10 minutes of the line's last disbursement,
 * read from the line's loans; a released held draw counts from its release (README, Cases). A release's loan is
 * stamped under the line's lock after the line's newest draw and loan (core/held-draws.ts releaseLockedDraw,
 * instantAfter), as a draw is after the line's newest draw, so the loan never sorts behind a row that committed before
 * it, whichever process's clock runs behind.
 *
 * Before, the release took its process's clock as it read: at a process 15 minutes behind, a release nine and a half
 * minutes after the line's first loan was booked six minutes BEFORE that loan, and a draw at the accurate process 90
 * seconds after the release measured the cooling-off from the first loan (11 minutes: approved, two disbursements 90
 * seconds apart).
 *
 * What ordering cannot give: a release at a process whose clock lags by more than the time since the line's newest row
 * is still dated that far behind (stamped just after the newest row), as a draw there is.
 */
describe.skipIf(!PG)('cooling-off after a release at a process whose clock lags (PostgreSQL)', () => {
  let procs: Proc[];
  let close: () => Promise<void>;
  const LAG_MS = 15 * 60_000;
  const MIN = 60_000;
  let analyst: Person;

  beforeAll(async () => {
    ({ procs, close } = await fleet('release', { clocks: [T0, T0 - LAG_MS] }));
    analyst = await person((procs[0] as Proc).t, '王芳', 'analyst');
  }, 120_000);
  afterAll(async () => close?.());

  const tick = (ms: number) => procs.forEach((p) => p.clock.advance(ms));
  const draw = { amountMinor: 100_000, currency: 'CNY', termMonths: 6, method: 'EQUAL_INSTALLMENT' };
  type Loan = { id: string; drawId: string; createdAt: string };

  const scenario = async (tag: number) => {
    const [a, b] = procs as [Proc, Proc];
    const { lineId } = await openLine(a.t, applicant(tag));
    tick(MIN);
    const first = await client(a.t).post(`/v1/lines/${lineId}/draws`, draw);
    expect(first.json().status, first.body).toBe('APPROVED');
    tick(9 * MIN);
    // Nine minutes later: cooled off (RAPID_REPEAT), then stopped by an analyst (HOLD and a HELD_DRAW case).
    const cooled = await client(a.t).post(`/v1/lines/${lineId}/draws`, draw);
    expect(cooled.json().status, cooled.body).toBe('COOLDOWN');
    // Stamped with a's clock (nothing on the line is newer).
    const cooledAt = a.clock.now();
    const stopped = await client(a.t, analyst.key).post(`/v1/draws/${cooled.json().drawId}/stop`, {
      why: 'the borrower sounded coached on the phone',
    });
    expect(stopped.statusCode, stopped.body).toBe(200);
    const cases = (await client(a.t).get(`/v1/cases?type=HELD_DRAW&lineId=${lineId}`)).json().items;
    expect(cases).toHaveLength(1);
    tick(MIN / 2);
    // Half a minute on, an analyst at the other process releases it: the money leaves.
    const released = await client(b.t, analyst.key).post(`/v1/cases/${cases[0].id}/resolve`, {
      outcome: 'RELEASE',
    });
    expect(released.statusCode, released.body).toBe(200);
    const loans = (await client(a.t).get(`/v1/lines/${lineId}/loans`)).json().items as Loan[];
    const releasedLoan = loans.find((l) => l.drawId === cooled.json().drawId);
    const firstLoan = loans.find((l) => l.drawId === first.json().drawId);
    // The released loan is booked after every row of the line before it: the first loan and the cooled draw.
    expect(Date.parse(releasedLoan?.createdAt ?? '')).toBeGreaterThan(Date.parse(firstLoan?.createdAt ?? ''));
    expect(Date.parse(releasedLoan?.createdAt ?? '')).toBeGreaterThan(cooledAt);
    tick(MIN);
    // A minute and a half after the release (real time), eleven after the first loan, a draw at the accurate process.
    const next = await client(a.t).post(`/v1/lines/${lineId}/draws`, draw);
    const after = (await client(a.t).get(`/v1/lines/${lineId}/loans`)).json().items as Loan[];
    expect(
      { status: next.json().status, reasons: next.json().reasons, loans: after.length },
      `the draw after the release answered ${next.statusCode}: ${next.body}\nloans: ${JSON.stringify(after)}`,
    ).toEqual({ status: 'COOLDOWN', reasons: expect.arrayContaining(['R_COOLING_OFF']), loans: 2 });
  };

  it('control: with both clocks together the draw after the release is cooled off', async () => {
    const [a, b] = procs as [Proc, Proc];
    b.clock.set(a.clock.now());
    try {
      await scenario(3);
    } finally {
      b.clock.set(a.clock.now() - LAG_MS);
    }
  });

  it('a release at the lagging process is booked after the line’s newest rows: the next draw is cooled off', async () => {
    await scenario(2);
  });
});
