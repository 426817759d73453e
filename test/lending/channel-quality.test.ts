import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, isoDate } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { STRONG_APPLICANT, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { person } from '../cases/helpers.js';

/**
 * Channel quality (issue 15): per 助贷 partner, fraud alerts and complaints beside approval, first-payment default and
 * delinquency; a channel past its thresholds raises an alert in the analysts' queue, which opens a case.
 */
const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const MIN = 60_000;

describe('channel quality with fraud alerts and complaints, through the API', () => {
  const clock = new ManualClock(T0);
  let t: TestApp;
  let n = 0;
  const post = (url: string, payload: unknown, auth?: string) =>
    t.server.inject({
      method: 'POST',
      url,
      headers: auth
        ? { authorization: `Bearer ${auth}`, 'idempotency-key': `cq-${++n}` }
        : adminHeaders(`cq-${++n}`),
      payload: payload as object,
    });
  const get = (url: string) => t.server.inject({ method: 'GET', url, headers: adminHeaders() });

  beforeAll(async () => {
    t = await startTestApp({}, { clock, random: seededRandom(29) });
  });
  afterAll(async () => t?.close());

  it('counts the channel borrowers with fraud alerts and their complaints; a breach opens a case once', async () => {
    const platform = await post('/v1/partners', {
      name: '渠道质量平台',
      type: 'PLATFORM_OPERATOR',
      licenceNo: 'CQ-001',
      contractStart: isoDate(T0 - 86_400_000),
      contractEnd: isoDate(T0 + 365 * 86_400_000),
    });
    expect(platform.statusCode, platform.body).toBe(201);
    const partnerId = platform.json<{ id: string }>().id;
    const borrowers: { borrowerId: string; lineId: string }[] = [];
    for (const seq of [501, 502, 503, 504]) {
      const applied = await post('/v1/applications', {
        applicant: {
          name: '渠道客户',
          nationalId: residentId('19890101', seq),
          phone: `1370000${1000 + seq}`,
        },
        attributes: STRONG_APPLICANT,
        channel: { partnerId, fundingMode: 'SELF_FUNDED' },
      });
      expect(applied.statusCode, applied.body).toBe(201);
      const body = applied.json<{ line: { id: string }; borrowerId: string }>();
      borrowers.push({ borrowerId: body.borrowerId, lineId: body.line.id });
    }
    const [cheat, unhappy] = borrowers as [(typeof borrowers)[0], (typeof borrowers)[0]];
    // A fraud alert on one of them: the drawn money goes to a securities broker.
    const drawn = await post(`/v1/lines/${cheat.lineId}/draws`, {
      amountMinor: 800_000,
      currency: 'CNY',
      termMonths: 12,
      method: 'EQUAL_INSTALLMENT',
      purpose: 'EDUCATION',
    });
    expect(drawn.statusCode, drawn.body).toBe(201);
    await waitFor(async () =>
      Boolean(
        await t.app.store.db
          .selectFrom('monitor_events')
          .select('event_id')
          .where('type', '=', 'disbursement')
          .where('user_id', '=', cheat.borrowerId)
          .executeTakeFirst(),
      ),
    );
    clock.set(T0 + 30 * MIN);
    const events = await post('/v1/events', {
      events: [
        {
          eventId: 'cq-broker',
          type: 'transfer_out',
          occurredAt: new Date(T0 + 20 * MIN).toISOString(),
          userId: cheat.borrowerId,
          payeeId: 'broker-1',
          merchantCategory: '6211',
          amount: 600_000,
          currency: 'CNY',
        },
      ],
    });
    expect(events.statusCode, events.body).toBe(200);
    // A complaint from another, through the borrower's own API.
    const service = await person(t, 'lender-backend', 'service');
    const minted = await post(`/v1/borrowers/${unhappy.borrowerId}/tokens`, { ttlSeconds: 900 }, service.key);
    expect(minted.statusCode, minted.body).toBe(201);
    const complained = await post(
      '/v1/me/complaints',
      { category: 'FEES_PRICING', text: '平台收费不清楚' },
      minted.json<{ token: string }>().token,
    );
    expect(complained.statusCode, complained.body).toBe(201);

    const quality = (await get(`/v1/partners/${partnerId}/quality`)).json();
    expect(quality).toMatchObject({
      applications: 4,
      approved: 4,
      approvalRate: 1,
      borrowers: 4,
      borrowersWithFraudAlerts: 1,
      fraudAlertRate: 0.25,
      complaints: 1,
      complaintRate: 0.25,
      loansByBucket: { M0: 1 },
    });

    // Thresholds a quarter breaches: the daily job raises one alert, the case sweep opens its case.
    Object.assign(t.app.core.deps, {
      config: {
        ...t.app.core.deps.config,
        channelThresholds: {
          minLoans: 1,
          fpdRateMax: 1,
          delinquentShareMax: 1,
          approvalRateMin: 0,
          fraudAlertRateMax: 0.2,
          complaintRateMax: 0.2,
        },
      },
    });
    const asOf = isoDate(clock.now());
    const job = await t.app.core.runDailyJob(asOf);
    expect(job.channelAlerts).toHaveLength(1);
    const alert = job.channelAlerts?.[0];
    expect(alert?.breaches.map((b) => b.metric)).toEqual(['fraudAlertRate', 'complaintRate']);
    expect(alert?.alertId).toBeDefined();
    expect((await t.app.core.runDailyJob(asOf)).channelAlerts).toEqual([]);
    await t.app.cases.runJobs();
    const cases = (await get('/v1/cases?type=ALERT')).json<{
      items: { typologyId: string; subjectId?: string; state: string }[];
    }>();
    const channelCases = cases.items.filter((c) => c.typologyId === 'CHANNEL_QUALITY');
    expect(channelCases).toHaveLength(1);
    expect(channelCases[0]?.state).toBe('OPEN');
    expect((await get(`/v1/partners/${partnerId}/quality`)).json().alerts).toMatchObject([
      { asOf, breaches: [{ metric: 'fraudAlertRate' }, { metric: 'complaintRate' }] },
    ]);
    // Within looser thresholds the same channel raises nothing the next day.
    Object.assign(t.app.core.deps, {
      config: {
        ...t.app.core.deps.config,
        channelThresholds: {
          minLoans: 1,
          fpdRateMax: 1,
          delinquentShareMax: 1,
          approvalRateMin: 0,
          fraudAlertRateMax: 0.3,
          complaintRateMax: 0.3,
        },
      },
    });
    clock.advance(86_400_000);
    expect((await t.app.core.runDailyJob(isoDate(clock.now()))).channelAlerts).toEqual([]);
  });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('timed out');
}
