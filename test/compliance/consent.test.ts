import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, MS_PER_DAY, isoDate } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import { fieldCryptoFromMasterKey } from '../../src/compliance/crypto.js';
import { subjectHashes } from '../../src/compliance/consent.js';
import { createBureauGateway, putSandboxReport, sandboxBureau } from '../../src/compliance/bureau.js';
import { createComplianceStore } from '../../src/store/compliance.js';
import { APPLICANT_ONLY, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { rowCount, TEST_DATABASE_URL } from '../helpers/stores.js';
import { DEMO_PRODUCTS } from '../../src/core/seed-lending.js';
import { createIsolatedPostgresSchema } from '../../src/store/db.js';

/**
 * Consent and the credit bureau through the API, with the SANDBOX bureau the core pulls from itself: no consent, no
 * pull; the bureau attributes come only from the pull; every inquiry, made or refused, is logged and in the ledger.
 */
const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
describe('consent and the credit bureau', () => {
  const clock = new ManualClock(T0);
  let t: TestApp;
  let n = 0;
  const post = (url: string, payload: unknown) =>
    t.server.inject({ method: 'POST', url, headers: adminHeaders(`c-${++n}`), payload: payload as object });
  const get = (url: string) => t.server.inject({ method: 'GET', url, headers: adminHeaders() });
  const person = (seq: number) => residentId('19800101', seq);
  const apply = (nationalId: string, attributes: object = APPLICANT_ONLY) =>
    post('/v1/applications', {
      applicant: { name: '王芳', nationalId, phone: '13900003333' },
      attributes,
    });
  const consent = (nationalId: string, purpose = 'LOAN_APPROVAL', textVersion = 'loan-approval/2026-01') =>
    post('/v1/consents', { nationalId, purpose, textVersion, channel: 'APP' });
  const inquiries = async (borrowerId: string) =>
    (await get(`/v1/borrowers/${borrowerId}/inquiries`)).json().inquiries as {
      status: string;
      refusalCode: string | null;
      kind: string;
      purpose: string;
      requestedBy: string;
    }[];
  const countInquiries = () => rowCount(t.app.store, 'bureau_inquiries');

  beforeAll(async () => {
    t = await startTestApp(
      { LINEGUARD_BUREAU: 'sandbox', LINEGUARD_HARD_INQUIRIES_MAX_30D: '2' },
      { clock, random: seededRandom(7) },
    );
  });
  afterAll(async () => t?.close());

  it('without consent: no pull, the application is referred with R_CONSENT_MISSING, the refusal is logged', async () => {
    const res = await apply(person(1));
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.outcome).toBe('REVIEW');
    expect(body.reasons[0]).toBe('R_CONSENT_MISSING');
    expect(body.line).toBeNull();
    const log = await inquiries(body.borrowerId);
    expect(log).toEqual([
      expect.objectContaining({
        status: 'REFUSED',
        refusalCode: 'LG_CONSENT_MISSING',
        requestedBy: 'core:application',
      }),
    ]);
    const decision = (await get(`/v1/decisions/${body.decisionId}`)).json();
    expect(decision.context.externalDelinquent).toBeUndefined();
  });

  it('refuses bureau attributes from the caller before any inquiry is made', async () => {
    const before = await countInquiries();
    for (const name of ['externalDelinquent', 'inquiries30d', 'existingDebtMinor']) {
      const sent = { ...APPLICANT_ONLY, [name]: name === 'externalDelinquent' ? false : 0 };
      const res = await apply(person(2), sent);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('LG_INVALID_ATTRIBUTE');
    }
    expect(await countInquiries()).toBe(before);
  });

  it('makes no inquiry for an application refused as bad input, even with consent on file', async () => {
    const id = person(9);
    expect((await consent(id)).statusCode).toBe(201);
    const before = await countInquiries();
    const refused = [
      // A value of the wrong type, an attribute no strategy input declares, a derived fact sent by the caller.
      await apply(id, { ...APPLICANT_ONLY, monthlyIncomeMinor: 1.5 }),
      await apply(id, { ...APPLICANT_ONLY, favouriteColour: 'blue' }),
      await apply(id, { ...APPLICANT_ONLY, age: 30 }),
      // A product or a channel that does not exist.
      await post('/v1/applications', {
        applicant: { name: '王芳', nationalId: id, phone: '13900003333' },
        attributes: APPLICANT_ONLY,
        productId: 'no-such-product',
      }),
      await post('/v1/applications', {
        applicant: { name: '王芳', nationalId: id, phone: '13900003333' },
        attributes: APPLICANT_ONLY,
        channel: { partnerId: '01900000-0000-7000-8000-000000000000', fundingMode: 'SELF_FUNDED' },
      }),
    ];
    // A product that lends in another currency, and a channel whose fees alone are above the APR cap: no rate the
    // strategy could give would pass either.
    const product = await post('/v1/products', { id: 'consent-flex', ...DEMO_PRODUCTS[0]!.terms });
    expect(product.statusCode, product.body).toBe(201);
    refused.push(
      await post('/v1/applications', {
        applicant: { name: '王芳', nationalId: id, phone: '13900003333' },
        attributes: APPLICANT_ONLY,
        productId: 'consent-flex',
        currency: 'USD',
      }),
    );
    const dear = await post('/v1/partners', {
      name: 'dear channel',
      type: 'PLATFORM_OPERATOR',
      licenceNo: 'LIC-DEAR-1',
      contractStart: '2026-01-01',
      contractEnd: '2027-12-31',
      feeRateBps: 3_600,
    });
    expect(dear.statusCode, dear.body).toBe(201);
    refused.push(
      await post('/v1/applications', {
        applicant: { name: '王芳', nationalId: id, phone: '13900003333' },
        attributes: APPLICANT_ONLY,
        channel: { partnerId: dear.json().id, fundingMode: 'SELF_FUNDED' },
      }),
    );
    expect(refused.at(-2)?.json().error?.code, refused.at(-2)?.body).toBe('LG_PRODUCT_TERMS');
    expect(refused.at(-1)?.json().error?.code, refused.at(-1)?.body).toBe('LG_APR_CAP_EXCEEDED');
    for (const res of refused) expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
    expect(refused.map((r) => r.statusCode)).not.toContain(500);
    expect(await countInquiries()).toBe(before);
    // The same person's next, valid application is not throttled by pulls the bad ones made.
    const valid = await apply(id);
    expect(valid.json().reasons).not.toContain('R_INQUIRY_VELOCITY');
    expect(await countInquiries()).toBe(before + 1);
  });

  it('with consent: the core pulls the sandbox report itself and decides on it', async () => {
    const id = person(3);
    const crypto = fieldCryptoFromMasterKey(t.app.config.masterKey, []);
    const [hash] = subjectHashes(crypto, id, isoDate(clock.now()));
    await putSandboxReport(
      createComplianceStore(t.app.store),
      hash,
      { existingDebtMinor: 123_400, externalDelinquent: false, inquiries30d: 1 },
      clock.now(),
    );
    const granted = await consent(id);
    expect(granted.statusCode).toBe(201);
    expect(granted.json()).toMatchObject({ purpose: 'LOAN_APPROVAL', status: 'VALID', channel: 'APP' });
    expect(granted.json().textSha256).toMatch(/^[0-9a-f]{64}$/);
    const res = await apply(id);
    expect(res.json().outcome).toBe('APPROVE');
    const decision = (await get(`/v1/decisions/${res.json().decisionId}`)).json();
    expect(decision.context).toMatchObject({
      existingDebtMinor: 123_400,
      externalDelinquent: false,
      inquiries30d: 2,
    });
    const log = await inquiries(res.json().borrowerId);
    expect(log[0]).toMatchObject({
      status: 'PULLED',
      kind: 'hard',
      purpose: 'LOAN_APPROVAL',
      requestedBy: 'core:application',
    });
    const consents = (await get(`/v1/borrowers/${res.json().borrowerId}/consents`)).json().consents;
    expect(consents).toHaveLength(1);
  });

  it('a delinquency on the bureau file, not the caller, declines the applicant', async () => {
    const id = person(4);
    const crypto = fieldCryptoFromMasterKey(t.app.config.masterKey, []);
    const [hash] = subjectHashes(crypto, id, isoDate(clock.now()));
    await putSandboxReport(
      createComplianceStore(t.app.store),
      hash,
      { existingDebtMinor: 0, externalDelinquent: true, inquiries30d: 0 },
      clock.now(),
    );
    await consent(id);
    const res = await apply(id);
    expect(res.json().outcome).toBe('DECLINE');
  });

  it('refuses a consent for another purpose, a withdrawn one and an expired one, each with its own code', async () => {
    const other = person(5);
    await consent(other, 'POST_LOAN_MGMT', 'post-loan/2026-01');
    const a = (await apply(other)).json();
    expect(a.reasons[0]).toBe('R_CONSENT_MISSING');
    expect((await inquiries(a.borrowerId))[0]?.refusalCode).toBe('LG_CONSENT_PURPOSE');

    const withdrawn = person(6);
    const c = (await consent(withdrawn)).json();
    const w = await post(`/v1/consents/${c.id}/withdraw`, { reason: 'borrower asked' });
    expect(w.json().status).toBe('WITHDRAWN');
    expect((await post(`/v1/consents/${c.id}/withdraw`, { reason: 'again' })).statusCode).toBe(409);
    const b = (await apply(withdrawn)).json();
    expect(b.outcome).toBe('REVIEW');
    expect((await inquiries(b.borrowerId))[0]?.refusalCode).toBe('LG_CONSENT_WITHDRAWN');

    const expired = person(7);
    await consent(expired);
    clock.advance(91 * MS_PER_DAY);
    const e = (await apply(expired)).json();
    expect(e.outcome).toBe('REVIEW');
    expect((await inquiries(e.borrowerId))[0]?.refusalCode).toBe('LG_CONSENT_EXPIRED');
  });

  it('throttles hard inquiries per borrower; the throttled application is referred, not approved', async () => {
    const id = person(8);
    await consent(id);
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) outcomes.push((await apply(id)).json().reasons[0] ?? 'none');
    const last = (await apply(id)).json();
    expect(last.line).toBeNull();
    expect(last.reasons[0]).toBe('R_INQUIRY_VELOCITY');
    const log = await inquiries(last.borrowerId);
    expect(log.filter((r) => r.status === 'PULLED')).toHaveLength(2);
    expect(log.filter((r) => r.refusalCode === 'LG_INQUIRY_THROTTLED').length).toBeGreaterThanOrEqual(1);
  });

  it('never exceeds the throttle under concurrent pulls', async () => {
    const id = person(9);
    await consent(id);
    const crypto = fieldCryptoFromMasterKey(t.app.config.masterKey, []);
    const hashes = subjectHashes(crypto, id, isoDate(clock.now()));
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        t.app.consents.bureau.pull({
          subjectHashes: hashes,
          purpose: 'LOAN_APPROVAL',
          kind: 'hard',
          requestedBy: 'test',
          reason: 'race',
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'PULLED')).toHaveLength(2);
    expect(results.filter((r) => r.status === 'REFUSED' && r.code === 'LG_INQUIRY_THROTTLED')).toHaveLength(
      6,
    );
  });

  it('post-loan management pulls need their own consent; the refusal has a stable code and is logged', async () => {
    const id = person(10);
    await consent(id);
    const borrowerId = (await apply(id)).json().borrowerId as string;
    const pull = { borrowerId, purpose: 'POST_LOAN_MGMT', kind: 'soft', reason: 'quarterly review' };
    const refused = await post('/v1/bureau/inquiries', pull);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('LG_CONSENT_PURPOSE');
    await consent(id, 'POST_LOAN_MGMT', 'post-loan/2026-01');
    const pulled = await post('/v1/bureau/inquiries', pull);
    expect(pulled.statusCode).toBe(201);
    expect(pulled.json().status).toBe('PULLED');
    const log = await inquiries(borrowerId);
    expect(log.map((r) => `${r.purpose}:${r.status}`)).toEqual([
      'POST_LOAN_MGMT:PULLED',
      'POST_LOAN_MGMT:REFUSED',
      'LOAN_APPROVAL:PULLED',
    ]);
  });

  it('rejects hostile consent input with clear 4xx codes', async () => {
    expect((await consent(person(11), 'LOAN_APPROVAL', 'made-up/1')).statusCode).toBe(400);
    expect((await consent(person(11), 'LOAN_APPROVAL', 'post-loan/2026-01')).statusCode).toBe(400);
    expect((await consent('110101198001011234')).json().error.code).toBe('LG_INVALID_NATIONAL_ID');
    const past = await post('/v1/consents', {
      nationalId: person(11),
      purpose: 'LOAN_APPROVAL',
      textVersion: 'loan-approval/2026-01',
      channel: 'APP',
      expiresAt: '2000-01-01T00:00:00Z',
    });
    expect(past.statusCode).toBe(400);
    expect(
      (await post('/v1/consents/0190a0a0-0000-7000-8000-000000000000/withdraw', { reason: 'x' })).statusCode,
    ).toBe(404);
    expect((await get('/v1/borrowers/0190a0a0-0000-7000-8000-000000000000/inquiries')).statusCode).toBe(404);
  });

  it('refuses a consent lasting longer than its text allows: a loan-approval text says at most 90 days', async () => {
    const until = (days: number) => ({
      nationalId: person(12),
      purpose: 'LOAN_APPROVAL',
      textVersion: 'loan-approval/2026-01',
      channel: 'APP',
      expiresAt: new Date(clock.now() + days * MS_PER_DAY).toISOString(),
    });
    const long = await post('/v1/consents', until(120));
    expect(long.statusCode, long.body).toBe(400);
    expect(long.json().error).toMatchObject({
      code: 'LG_VALIDATION',
      details: { field: 'expiresAt', maxDays: 90 },
    });
    expect((await post('/v1/consents', until(90))).statusCode).toBe(201);
  });

  it('records consents and inquiries in the ledger, which still verifies', async () => {
    const kinds = await t.app.store.db.selectFrom('ledger_entries').select('kind').distinct().execute();
    expect(kinds.map((k) => k.kind)).toEqual(
      expect.arrayContaining(['consent.granted', 'consent.withdrawn', 'bureau.inquiry']),
    );
    expect((await verifyLedger(t.app.store.db)).ok).toBe(true);
  });
});

describe.skipIf(!TEST_DATABASE_URL)('the hard-inquiry throttle under concurrency on PostgreSQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'throttle');
    t = await startTestApp({
      LINEGUARD_DATABASE_URL: url,
      LINEGUARD_BUREAU: 'sandbox',
      LINEGUARD_HARD_INQUIRIES_MAX_30D: '2',
    });
  });
  afterAll(async () => t?.close());

  const loanApprovalConsent = (nationalId: string) =>
    t.app.consents.recordConsent({
      nationalId,
      purpose: 'LOAN_APPROVAL',
      textVersion: 'loan-approval/2026-01',
      channel: 'WEB',
      recordedBy: 'test',
    });

  it('lets exactly the allowed number of concurrent hard pulls through', async () => {
    const id = residentId('19800101', 900);
    const consent = await loanApprovalConsent(id);
    expect(consent.status).toBe('VALID');
    const crypto = fieldCryptoFromMasterKey(t.app.config.masterKey, []);
    const hashes = subjectHashes(crypto, id, isoDate(Date.now()));
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        t.app.consents.bureau.pull({
          subjectHashes: hashes,
          purpose: 'LOAN_APPROVAL',
          kind: 'hard',
          requestedBy: 'test',
          reason: 'race',
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'PULLED')).toHaveLength(2);
    const logged = await t.app.store.db.selectFrom('bureau_inquiries').select('status').execute();
    expect(logged).toHaveLength(8);
  });

  it('refuses a pull whose consent was withdrawn after the pull read it and before it locked it', async () => {
    const id = residentId('19800101', 901);
    const consent = await loanApprovalConsent(id);
    const store = createComplianceStore(t.app.store);
    // The withdrawal commits (another connection, another process) between the pull's read and its lock.
    const racing: typeof store = {
      ...store,
      unit: (work, guard) =>
        store.unit(
          (tx) =>
            work({
              ...tx,
              lockConsent: async (consentId) => {
                await t.app.consents.withdrawConsent({ consentId, reason: 'borrower asked', by: 'test' });
                return tx.lockConsent(consentId);
              },
            }),
          guard,
        ),
    };
    const gateway = createBureauGateway({
      store: racing,
      clock: t.app.clock,
      ids: t.app.ids,
      bureau: sandboxBureau(store, t.app.clock),
    });
    const crypto = fieldCryptoFromMasterKey(t.app.config.masterKey, []);
    const pulled = await gateway.pull({
      subjectHashes: subjectHashes(crypto, id, isoDate(Date.now())),
      purpose: 'LOAN_APPROVAL',
      kind: 'soft',
      requestedBy: 'test',
      reason: 'race',
    });
    expect(pulled).toMatchObject({ status: 'REFUSED' });
    const logged = await t.app.store.db
      .selectFrom('bureau_inquiries')
      .select(['status', 'consent_id'])
      .where('reason', '=', 'race')
      .where('kind', '=', 'soft')
      .execute();
    expect(logged).toEqual([{ status: 'REFUSED', consent_id: null }]);
    expect(consent.status).toBe('VALID');
  });
});
