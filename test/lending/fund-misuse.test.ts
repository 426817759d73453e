import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { STRONG_APPLICANT, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';

/**
 * 资金用途 after the draw (issue 15): the purpose the borrower stated is kept with the loan, travels with the
 * disbursement, and a fund-misuse alert sets it beside where the money went (merchant category, payee).
 */
const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const MIN = 60_000;

describe('fund misuse against the stated purpose, through the API', () => {
  const clock = new ManualClock(T0);
  let t: TestApp;
  let n = 0;
  const post = (url: string, payload: unknown) =>
    t.server.inject({ method: 'POST', url, headers: adminHeaders(`fm-${++n}`), payload: payload as object });
  const get = (url: string) => t.server.inject({ method: 'GET', url, headers: adminHeaders() });

  beforeAll(async () => {
    t = await startTestApp({}, { clock, random: seededRandom(23) });
  });
  afterAll(async () => t?.close());

  async function borrowerWithLoan(seq: number, purpose: string | undefined) {
    const applied = await post('/v1/applications', {
      applicant: { name: '韩梅梅', nationalId: residentId('19880512', seq), phone: `1390000${1000 + seq}` },
      attributes: STRONG_APPLICANT,
    });
    expect(applied.statusCode, applied.body).toBe(201);
    const { line, borrowerId } = applied.json<{ line: { id: string }; borrowerId: string }>();
    const drawn = await post(`/v1/lines/${line.id}/draws`, {
      amountMinor: 800_000,
      currency: 'CNY',
      termMonths: 12,
      method: 'EQUAL_INSTALLMENT',
      ...(purpose === undefined ? {} : { purpose }),
    });
    expect(drawn.statusCode, drawn.body).toBe(201);
    const loan = (await get(`/v1/loans/${drawn.json().loan.id}`)).json<{ purpose?: string | null }>();
    return { lineId: line.id, borrowerId, loan };
  }

  async function disbursementSeen(userId: string): Promise<void> {
    for (let i = 0; i < 200; i += 1) {
      const row = await t.app.store.db
        .selectFrom('monitor_events')
        .select('event_id')
        .where('type', '=', 'disbursement')
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (row) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('the disbursement never reached the monitor');
  }

  async function misuseAlert(userId: string) {
    const alerts = (await get(`/v1/alerts?userId=${userId}&typology=FUND_MISUSE`)).json<{
      items: { typology: { id: string }; reasons: string[]; evidence: Record<string, unknown> }[];
    }>();
    return alerts.items.find((a) => a.typology.id === 'FUND_MISUSE');
  }

  it('a loan stated for EDUCATION whose money goes to a securities broker: the alert shows both', async () => {
    const { lineId, borrowerId, loan } = await borrowerWithLoan(401, 'EDUCATION');
    expect(loan.purpose).toBe('EDUCATION');
    await disbursementSeen(borrowerId);
    clock.set(T0 + 60 * MIN);
    const res = await post('/v1/events', {
      events: [
        {
          eventId: 'fm-broker-1',
          type: 'transfer_out',
          occurredAt: new Date(T0 + 50 * MIN).toISOString(),
          userId: borrowerId,
          lineId,
          payeeId: 'broker-acct-7',
          merchantCategory: '6211',
          amount: 600_000,
          currency: 'CNY',
        },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    const alert = await misuseAlert(borrowerId);
    expect(alert, 'a FUND_MISUSE alert').toBeDefined();
    expect(JSON.stringify(alert?.evidence)).toContain('EDUCATION');
    const features = findFeatures(alert?.evidence);
    expect(features).toMatchObject({
      statedPurpose: 'EDUCATION',
      usedFor: 'SECURITIES',
      mccs: '6211',
      payees: 'broker-acct-7',
      purposeMismatch: true,
    });
    expect(String(features.mismatch)).toContain('stated EDUCATION; went to SECURITIES');
    expect(JSON.stringify(alert?.evidence)).toContain('misuse.purposeMismatch');
  });

  it('gambling after a draw stated for TRAVEL; a draw with no stated purpose says so', async () => {
    const travel = await borrowerWithLoan(402, 'TRAVEL');
    const legacy = await borrowerWithLoan(403, undefined);
    await disbursementSeen(travel.borrowerId);
    await disbursementSeen(legacy.borrowerId);
    clock.set(T0 + 3 * 60 * MIN);
    const events = [travel, legacy].map((b, i) => ({
      eventId: `fm-casino-${i}`,
      type: 'purchase',
      occurredAt: new Date(T0 + 2 * 60 * MIN).toISOString(),
      userId: b.borrowerId,
      merchantId: 'casino-1',
      merchantCategory: '7995',
      amount: 700_000,
      currency: 'CNY',
    }));
    expect((await post('/v1/events', { events })).statusCode).toBe(200);
    expect(findFeatures((await misuseAlert(travel.borrowerId))?.evidence)).toMatchObject({
      statedPurpose: 'TRAVEL',
      usedFor: 'GAMBLING',
      payees: 'casino-1',
    });
    expect(findFeatures((await misuseAlert(legacy.borrowerId))?.evidence)).toMatchObject({
      statedPurpose: 'UNSTATED',
      usedFor: 'GAMBLING',
      purposeMismatch: false,
    });
  });
});

/** The typology's feature values inside an alert's evidence, wherever the evidence nests them. */
function findFeatures(evidence: unknown): Record<string, unknown> {
  if (evidence === null || typeof evidence !== 'object') return {};
  const record = evidence as Record<string, unknown>;
  if ('statedPurpose' in record) return record;
  for (const value of Object.values(record)) {
    const found = findFeatures(value);
    if ('statedPurpose' in found) return found;
  }
  return {};
}
