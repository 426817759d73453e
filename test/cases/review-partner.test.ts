import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { appCrypto, ledgerEntryOf, verifyBook } from '../helpers/ledger-verify.js';
import { beforeNextKeyedTransaction, CASE_STORES, client, startCaseAppWith, type Person } from './helpers.js';

/**
 * A referred application through a 助贷 partner's channel, approved on review: the line opened is the line an immediate
 * approval through the channel opens (channel, funders, credit enhancer, the fees priced into its draws, the all-in
 * cap), and a partner no longer in force refuses it at approval (409 LG_PARTNER_SUSPENDED) as it refuses an
 * application, also when its suspension commits while the approval is on its way. A refused approval leaves the case
 * open with why; the analyst declines it (or approves it once the partner is reinstated).
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(
    `a referred application through a partner's channel (${store.name})`,
    () => {
      let t: TestApp;
      let analyst: Person;
      let supervisor: Person;
      let seq = 400;

      beforeAll(async () => {
        ({ t, analyst, supervisor } = await startCaseAppWith(await store.env(), {
          analyst: ['林静', 'analyst'],
          supervisor: ['周强', 'supervisor'],
        }));
      });
      afterAll(async () => t?.close());

      async function partner(type: string, feeRateBps = 0): Promise<string> {
        const res = await client(t).post('/v1/partners', {
          name: `${type} ${++seq}`,
          type,
          licenceNo: `RVP-${seq}`,
          contractStart: '2026-01-01',
          contractEnd: '2030-12-31',
          feeRateBps,
        });
        expect(res.statusCode, res.body).toBe(201);
        return res.json<{ id: string }>().id;
      }

      async function apply(channel: Record<string, unknown>, referred: boolean) {
        seq += 1;
        const res = await client(t).post('/v1/applications', {
          applicant: { name: '渠道客户', nationalId: residentId('19870505', seq), phone: '13700002222' },
          attributes: referred ? { ...STRONG_APPLICANT, inquiries30d: 4 } : STRONG_APPLICANT,
          channel,
        });
        expect(res.statusCode, res.body).toBe(201);
        expect(res.json().outcome).toBe(referred ? 'REVIEW' : 'APPROVE');
        return res.json();
      }

      async function reviewCase(applicationId: string): Promise<string> {
        const find = async () =>
          (await client(t, analyst.key).get('/v1/cases?type=REVIEW_APPLICATION&limit=100'))
            .json()
            .items.find((c: { subjectId: string }) => c.subjectId === applicationId);
        const found = (await find()) ?? (await t.app.cases.runJobs(), await find());
        expect(found).toBeDefined();
        return found.id as string;
      }

      const resolve = (caseId: string, body: Record<string, unknown>) =>
        client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, body);

      const lineRow = (id: string) =>
        t.app.store.db.selectFrom('credit_lines').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const applicationRow = (id: string) =>
        t.app.store.db.selectFrom('applications').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const channelLineIds = async (partnerId: string) =>
        (
          await t.app.store.db
            .selectFrom('credit_lines')
            .select('id')
            .where('channel_partner_id', '=', partnerId)
            .execute()
        ).map((r) => r.id);

      /** A co-lent channel with a guarantor: the platform charges 1%, the guarantor 0.5%. */
      async function coLentChannel() {
        const platform = await partner('PLATFORM_OPERATOR', 100);
        const funder = await partner('FUNDER');
        const enhancer = await partner('CREDIT_ENHANCER', 50);
        const channel = {
          partnerId: platform,
          fundingMode: 'CO_LENDING',
          funders: [{ partnerId: funder, shareBps: 6_000 }],
          creditEnhancerId: enhancer,
        };
        return { platform, funder, enhancer, channel };
      }

      it('opens the line an immediate approval through the channel opens: channel, funding, fees, draws priced alike', async () => {
        const { platform, funder, enhancer, channel } = await coLentChannel();
        const immediate = await apply(channel, false);
        const referred = await apply(channel, true);
        const caseId = await reviewCase(referred.applicationId);
        // The all-in cap holds for a person as for the machine: 23% + 1% + 0.5% is over 24%.
        const over = await resolve(caseId, { outcome: 'APPROVE', limitMinor: 1_000_000, annualRate: 0.23 });
        expect(over.statusCode, over.body).toBe(422);
        expect(over.json().error.code).toBe('LG_APR_CAP_EXCEEDED');
        expect(over.json().error.details.breakdown.partnerFees).toHaveLength(2);
        const proposed = await resolve(caseId, {
          outcome: 'APPROVE',
          limitMinor: immediate.line.limitMinor,
          annualRate: immediate.line.annualRate,
          note: 'income verified',
        });
        // The machine's limit is past the four-eyes threshold: a person's grant of it waits for a second person.
        expect(proposed.statusCode, proposed.body).toBe(202);
        const approved = await client(t, supervisor.key).post(
          `/v1/changes/${proposed.json().pendingChange.id}/approve`,
          {},
        );
        expect(approved.statusCode, approved.body).toBe(200);
        expect((await client(t, analyst.key).get(`/v1/cases/${caseId}`)).json().state).toBe('RESOLVED');
        const reviewedLineId = (await applicationRow(referred.applicationId)).line_id as string;
        expect(reviewedLineId).toBeTruthy();
        // The reviewer's note is sealed on the grant, and both its entries commit to it, alike: ledger verify proves
        // it, and finds it nulled by SQL.
        expect((await verifyBook(t, appCrypto(t))).facts).toMatchObject({ ok: true, mismatches: [] });
        const grant = await t.app.store.db
          .selectFrom('line_actions')
          .select(['id', 'note'])
          .where('line_id', '=', reviewedLineId)
          .where('type', '=', 'GRANT')
          .executeTakeFirstOrThrow();
        const actionEntry = await ledgerEntryOf(t, reviewedLineId, 'line.action');
        const reviewedEntry = await ledgerEntryOf(
          t,
          (await applicationRow(referred.applicationId)).borrower_id as string,
          'application.reviewed',
        );
        expect(reviewedEntry).not.toHaveProperty('note');
        expect(reviewedEntry.noteHmac).toMatch(/^[0-9a-f]{64}$/);
        expect(reviewedEntry.noteHmac).toBe(actionEntry.noteHmac);
        await t.app.store.db
          .updateTable('line_actions')
          .set({ note: null })
          .where('id', '=', grant.id)
          .execute();
        const nulled = (await verifyBook(t, appCrypto(t))).facts?.mismatches ?? [];
        await t.app.store.db
          .updateTable('line_actions')
          .set({ note: grant.note })
          .where('id', '=', grant.id)
          .execute();
        expect(nulled).toEqual([
          { table: 'line_actions', id: grant.id, field: 'note', row: null, ledger: actionEntry.noteHmac },
        ]);

        const [reviewed, direct] = [await lineRow(reviewedLineId), await lineRow(immediate.line.id)];
        const channelColumns = (row: typeof reviewed) => ({
          channel_partner_id: row.channel_partner_id,
          funding_mode: row.funding_mode,
          funders: JSON.parse(row.funders ?? 'null'),
          credit_enhancer_id: row.credit_enhancer_id,
          partner_fees: JSON.parse(row.partner_fees ?? 'null'),
        });
        expect(channelColumns(reviewed)).toEqual(channelColumns(direct));
        expect(channelColumns(reviewed)).toMatchObject({
          channel_partner_id: platform,
          funding_mode: 'CO_LENDING',
          funders: [{ partnerId: funder, shareBps: 6_000 }],
          credit_enhancer_id: enhancer,
        });
        const parties = (await client(t).get(`/v1/lines/${reviewedLineId}/parties`)).json();
        expect(parties).toMatchObject({
          fundingMode: 'CO_LENDING',
          funders: [
            { partnerId: funder, shareBps: 6_000 },
            { partnerId: 'LENDER', shareBps: 4_000 },
          ],
          charging: [
            { partnerId: platform, feeRatePercent: 1 },
            { partnerId: enhancer, feeRatePercent: 0.5 },
          ],
        });

        // A draw on each line: the partners' fees are priced into both alike.
        const terms = { amountMinor: 100_000, currency: 'CNY', termMonths: 6, method: 'EQUAL_INSTALLMENT' };
        const loanOf = async (lineId: string) => {
          const drawn = await client(t).post(`/v1/lines/${lineId}/draws`, terms);
          expect(drawn.statusCode, drawn.body).toBe(201);
          return (await client(t).get(`/v1/loans/${drawn.json().loan.id}`)).json();
        };
        const [onReviewed, onDirect] = [await loanOf(reviewedLineId), await loanOf(immediate.line.id)];
        expect(onReviewed.disclosure.totalFeesMinor).toBeGreaterThan(0);
        expect(onReviewed.disclosure.totalFeesMinor).toBe(onDirect.disclosure.totalFeesMinor);
        expect(onReviewed.disclosure.apr.CN_IRR).toBeGreaterThan(0);
        expect(onReviewed.disclosure.apr).toEqual(onDirect.disclosure.apr);

        // The line is the channel's: its key sees it, and its quality counts it.
        const minted = await client(t).post(`/v1/partners/${platform}/keys`, {});
        expect(minted.statusCode, minted.body).toBe(201);
        const partnerKey = minted.json<{ key: string }>().key;
        const seen = (await client(t, partnerKey).get('/v1/partner/lines')).json();
        expect(seen.map((l: { id: string }) => l.id).sort()).toEqual(
          [immediate.line.id, reviewedLineId].sort(),
        );
        expect((await client(t).get(`/v1/partners/${platform}/quality`)).json()).toMatchObject({
          applications: 2,
          approved: 2,
          loans: 2,
        });
      });

      it('a referral stored before the application kept its funding opens a self-funded line through its channel', async () => {
        const { platform, channel } = await coLentChannel();
        const referred = await apply(channel, true);
        // As migration 130 finds a row written before it: the channel partner alone.
        await t.app.store.db
          .updateTable('applications')
          .set({ funding_mode: null, funders: null, credit_enhancer_id: null })
          .where('id', '=', referred.applicationId)
          .execute();
        const caseId = await reviewCase(referred.applicationId);
        const approved = await resolve(caseId, {
          outcome: 'APPROVE',
          limitMinor: 1_000_000,
          annualRate: 0.12,
        });
        expect(approved.statusCode, approved.body).toBe(200);
        const line = await lineRow((await applicationRow(referred.applicationId)).line_id as string);
        expect(line).toMatchObject({
          channel_partner_id: platform,
          funding_mode: 'SELF_FUNDED',
          credit_enhancer_id: null,
        });
        expect(JSON.parse(line.partner_fees ?? '[]')).toEqual([
          { partnerId: platform, type: 'PLATFORM_OPERATOR', feeRateBps: 100 },
        ]);
      });

      it('is refused at approval once the channel is suspended; the case stays open and can be declined', async () => {
        const { platform, channel } = await coLentChannel();
        const referred = await apply(channel, true);
        const caseId = await reviewCase(referred.applicationId);
        const suspended = await client(t).post(`/v1/partners/${platform}/status`, {
          status: 'SUSPENDED',
          reason: 'licence review',
        });
        expect(suspended.statusCode, suspended.body).toBe(200);
        const refused = await resolve(caseId, {
          outcome: 'APPROVE',
          limitMinor: 1_000_000,
          annualRate: 0.12,
        });
        expect(refused.statusCode, refused.body).toBe(409);
        expect(refused.json().error.code).toBe('LG_PARTNER_SUSPENDED');
        expect(await channelLineIds(platform)).toEqual([]);
        expect(await applicationRow(referred.applicationId)).toMatchObject({
          outcome: 'REVIEW',
          line_id: null,
        });
        const open = (await client(t, analyst.key).get(`/v1/cases/${caseId}`)).json();
        expect(open.state).not.toBe('RESOLVED');
        expect(JSON.stringify(open.notes)).toContain('LG_PARTNER_SUSPENDED');
        const declined = await resolve(caseId, { outcome: 'DECLINE', reasons: ['R_MANUAL_REVIEW'] });
        expect(declined.statusCode, declined.body).toBe(200);
        expect(declined.json().state).toBe('RESOLVED');
        expect(await applicationRow(referred.applicationId)).toMatchObject({
          outcome: 'DECLINE',
          line_id: null,
        });
      });

      it('is refused when a funder of the channel was terminated meanwhile', async () => {
        const { platform, funder, channel } = await coLentChannel();
        const referred = await apply(channel, true);
        const caseId = await reviewCase(referred.applicationId);
        await t.app.core.setPartnerStatus(funder, { status: 'TERMINATED', reason: 'contract ended' });
        const refused = await resolve(caseId, {
          outcome: 'APPROVE',
          limitMinor: 1_000_000,
          annualRate: 0.12,
        });
        expect(refused.statusCode, refused.body).toBe(409);
        expect(refused.json().error).toMatchObject({
          code: 'LG_PARTNER_SUSPENDED',
          details: { partnerId: funder },
        });
        expect(await channelLineIds(platform)).toEqual([]);
      });

      it('is refused when the suspension commits while the approval is on its way', async () => {
        const { platform, channel } = await coLentChannel();
        const referred = await apply(channel, true);
        const caseId = await reviewCase(referred.applicationId);
        // The next keyed transaction to start is the approval's: the suspension commits just before it, after the case
        // and everything outside the approval's transaction were read.
        const hook = beforeNextKeyedTransaction(t, () =>
          t.app.core.setPartnerStatus(platform, { status: 'SUSPENDED', reason: 'licence review' }),
        );
        let refused;
        try {
          refused = await resolve(caseId, { outcome: 'APPROVE', limitMinor: 1_000_000, annualRate: 0.12 });
        } finally {
          hook.restore();
        }
        expect(hook.ran()).toBe(true);
        expect(refused.statusCode, refused.body).toBe(409);
        expect(refused.json().error.code).toBe('LG_PARTNER_SUSPENDED');
        expect(await channelLineIds(platform)).toEqual([]);
        // Reinstated, the partner's referral can be approved after all.
        await t.app.core.setPartnerStatus(platform, { status: 'ACTIVE', reason: 'review closed' });
        const approved = await resolve(caseId, {
          outcome: 'APPROVE',
          limitMinor: 1_000_000,
          annualRate: 0.12,
        });
        expect(approved.statusCode, approved.body).toBe(200);
        expect(await channelLineIds(platform)).toHaveLength(1);
      });
    },
  );
