import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { STRONG_APPLICANT, startTestApp, type TestApp } from '../helpers/app.js';
import { BROWSER_READY, launchBrowser, screenshot, seriousAxeViolations } from './browser.js';
import { applicants, client, frozenLineWithToken, person, type Person } from '../cases/helpers.js';

/**
 * The case page resolves every case type with the inputs the API requires (POST /v1/cases/{id}/resolve): a referred
 * application approved with a limit typed in yuan (sent as exact fen) and a rate in percent, another declined with a
 * reason from the catalogue, an appeal and a complaint decided with the borrower's texts in Chinese and English, and a
 * grant at the four-eyes threshold shown as waiting for a second person, not as done. What the API would refuse for a
 * missing input is refused on the page, and nothing is sent. Each form is checked with axe-core.
 */
describe.skipIf(!BROWSER_READY)('case outcomes in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;
  let analyst: Person;
  let service: Person;
  /** POST /v1/cases/{id}/resolve requests the page sent. */
  let resolveRequests = 0;
  /** Uncaught errors in the page (a case page that crashed rendered nothing). */
  const pageErrors: string[] = [];
  const applicant = applicants({ name: '李雷', born: '19880808', phone: '13900003333', after: 700 });
  const api = () => client(t);

  beforeAll(async () => {
    t = await startTestApp();
    base = await t.server.listen({ port: 0, host: '127.0.0.1' });
    analyst = await person(t, 'Wang Analyst', 'analyst');
    service = await person(t, 'lender-backend', 'service');
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('request', (request) => {
      if (request.method() === 'POST' && /\/v1\/cases\/[^/]+\/resolve$/.test(request.url()))
        resolveRequests++;
    });
    await signIn(analyst.key);
  });
  // The page never threw: before, a case with a decision crashed its page (its evidence drawn as a stored decision).
  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signIn(key: string): Promise<void> {
    await page.goto(`${base}/`);
    await page.evaluate('sessionStorage.clear()');
    await page.goto(`${base}/`);
    await page.fill('#api-key', key);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=who]');
  }

  /** The case `type` opened for `subjectId` (the request that left the work opened it). */
  async function caseFor(type: string, subjectId: string): Promise<string> {
    let found: { id: string } | undefined;
    await expect
      .poll(async () => {
        const list = (await client(t, analyst.key).get(`/v1/cases?type=${type}&limit=500`)).json();
        found = list.items.find((c: { subjectId: string }) => c.subjectId === subjectId);
        return found !== undefined;
      })
      .toBe(true);
    return found!.id;
  }

  /** An application the bundled strategy refers to a person (recent inquiries), and its REVIEW_APPLICATION case. */
  async function referredCase(): Promise<{ caseId: string; applicationId: string }> {
    const applied = await api().post('/v1/applications', {
      applicant: applicant(),
      attributes: { ...STRONG_APPLICANT, inquiries30d: 4 },
    });
    expect(applied.statusCode, applied.body).toBe(201);
    expect(applied.json().outcome).toBe('REVIEW');
    const applicationId = applied.json().applicationId as string;
    return { caseId: await caseFor('REVIEW_APPLICATION', applicationId), applicationId };
  }

  const caseOf = async (caseId: string) => (await api().get(`/v1/cases/${caseId}`)).json();

  async function openCase(caseId: string): Promise<void> {
    await page.goto(`${base}/#/cases/${caseId}`);
    await page.waitForSelector('[data-testid=case-outcomes] [role=group] button');
  }

  const outcomeButton = (outcome: string) =>
    page.locator('[data-testid=case-outcomes] [role=group] button', { hasText: outcome });
  const submitOutcome = () => page.click('#outcome-form button[type=submit]');

  it('approves a referred application with a limit typed in yuan: the line has exactly that many fen, and the rate', async () => {
    const { caseId } = await referredCase();
    await openCase(caseId);
    await outcomeButton('APPROVE').click();
    await page.waitForSelector('#outcome-form #outcome-limit');
    expect(await outcomeButton('APPROVE').getAttribute('aria-expanded')).toBe('true');
    // Nothing typed: refused on the page, each input marked, and no request sent.
    const sentBefore = resolveRequests;
    await submitOutcome();
    const issues = page.locator('[data-testid=outcome-issues]');
    await issues.waitFor();
    expect(await issues.textContent()).toContain('请填写额度');
    expect(await issues.textContent()).toContain('请填写年利率');
    expect(await page.getAttribute('#outcome-limit', 'aria-invalid')).toBe('true');
    // A third decimal is not rounded away.
    await page.fill('#outcome-limit', '12,345.678');
    await page.fill('#outcome-rate', '14.3');
    await submitOutcome();
    await page.locator('[data-testid=outcome-issues]', { hasText: '最多两位小数' }).waitFor();
    expect(resolveRequests).toBe(sentBefore);
    expect(await seriousAxeViolations(page)).toEqual([]);
    // The labels follow the language.
    await page.click('[data-testid=lang-toggle]');
    await page.locator('label[for=outcome-limit]', { hasText: 'Limit (yuan' }).waitFor();
    expect(await page.textContent('label[for=outcome-rate]')).toContain('Annual rate (%)');
    await page.click('[data-testid=lang-toggle]');
    await page.locator('label[for=outcome-limit]', { hasText: '额度（元' }).waitFor();

    await page.fill('#outcome-limit', '12,345.67');
    await page.fill('#case-note', 'income verified by payslips');
    expect(await page.textContent('[data-testid=limit-fen]')).toContain('1234567');
    expect(await page.textContent('[data-testid=rate-decimal]')).toContain('0.143');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'case-outcome-approve');
    await submitOutcome();
    await expect.poll(async () => (await caseOf(caseId)).state).toBe('RESOLVED');
    const resolved = await caseOf(caseId);
    expect(resolved.outcome).toBe('APPROVE');
    const line = (await api().get(`/v1/lines/${resolved.outcomeDetail.lineId}`)).json();
    expect(line).toMatchObject({ limitMinor: 1_234_567, annualRate: 0.143, status: 'ACTIVE' });
    expect(resolveRequests).toBe(sentBefore + 1);
    expect(JSON.stringify(resolved.notes)).toContain('income verified by payslips');
    // The resolved case offers no more outcomes.
    await page.waitForSelector('[data-testid=case-outcomes]', { state: 'detached' });
  });

  it('declines another with a reason chosen from the catalogue; favourable reasons alone are refused first', async () => {
    const { caseId } = await referredCase();
    await openCase(caseId);
    await outcomeButton('DECLINE').click();
    // The catalogue's reasons, with the borrower's text in the console's language; automation's own are not offered.
    await page.waitForSelector('[data-testid=reason-picker] input[value=R_SCORE_LOW]');
    expect(await page.textContent('[data-testid=reason-picker]')).toContain(
      '您的综合信用评分未达到本产品的要求',
    );
    expect(await page.locator('input[value=R_ENGINE_ERROR]').count()).toBe(0);
    const sentBefore = resolveRequests;
    await submitOutcome();
    await page.locator('[data-testid=outcome-issues]', { hasText: '请至少选择一个原因' }).waitFor();
    // R_GOOD_REPAYMENT sits in the folded "line" group: open it, choose it alone — it says nothing of why.
    await page.click('[data-testid=reason-picker] summary:has-text("额度")');
    await page.check('input[value=R_GOOD_REPAYMENT]');
    await submitOutcome();
    await page.locator('[data-testid=outcome-issues]', { hasText: '说明原因' }).waitFor();
    expect(resolveRequests).toBe(sentBefore);
    await page.uncheck('input[value=R_GOOD_REPAYMENT]');
    await page.check('input[value=R_SCORE_LOW]');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'case-outcome-decline');
    await submitOutcome();
    await expect.poll(async () => (await caseOf(caseId)).state).toBe('RESOLVED');
    const resolved = await caseOf(caseId);
    expect(resolved).toMatchObject({ outcome: 'DECLINE', outcomeDetail: { reasons: ['R_SCORE_LOW'] } });
  });

  it("upholds an appeal with the borrower's texts in Chinese and English: resolved with them, the line unfrozen", async () => {
    const { lineId, actionId, token } = await frozenLineWithToken(t, service.key, applicant());
    const filed = await client(t, token).post('/v1/me/appeals', {
      actionId,
      text: '我的用款正常，请重新审核。',
    });
    expect(filed.statusCode, filed.body).toBe(201);
    const appealId = filed.json().id as string;
    const caseId = await caseFor('APPEAL', appealId);
    await openCase(caseId);
    expect(await outcomeButton('REJECTED').textContent()).toBe('REJECTED…');
    await outcomeButton('UPHELD').click();
    await page.waitForSelector('#outcome-text-zh');
    const textZh = '经复核，您的用款情况正常，额度已恢复使用。';
    const textEn = 'We reviewed your line: your use of it is normal, and you can draw again.';
    // English blank (spaces alone): refused here, as the API would.
    await page.fill('#outcome-text-zh', textZh);
    await page.fill('#outcome-text-en', '   ');
    const sentBefore = resolveRequests;
    await submitOutcome();
    await page.locator('[data-testid=outcome-issues]', { hasText: '英文说明' }).waitFor();
    expect(await page.getAttribute('#outcome-text-en', 'aria-invalid')).toBe('true');
    expect(await page.evaluate('document.activeElement?.id')).toBe('outcome-text-en');
    expect(resolveRequests).toBe(sentBefore);
    await page.fill('#outcome-text-en', textEn);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'case-outcome-appeal');
    await submitOutcome();
    await expect.poll(async () => (await caseOf(caseId)).state).toBe('RESOLVED');
    expect((await caseOf(caseId)).outcome).toBe('UPHELD');
    const appeal = (await client(t, token).get(`/v1/me/appeals/${appealId}`)).json();
    expect(appeal.outcome).toMatchObject({ zh: textZh, en: textEn });
    expect((await api().get(`/v1/lines/${lineId}`)).json().status).toBe('ACTIVE');
  });

  it("resolves a complaint with the borrower's texts in both languages", async () => {
    const { token } = await frozenLineWithToken(t, service.key, applicant());
    const filed = await client(t, token).post('/v1/me/complaints', {
      category: 'CLOSURE_OR_LIMIT',
      text: '额度被冻结，无法借款。',
    });
    expect(filed.statusCode, filed.body).toBe(201);
    const complaintId = filed.json().id as string;
    const caseId = await caseFor('COMPLAINT', complaintId);
    await openCase(caseId);
    await outcomeButton('RESOLVED').click();
    const textZh = '我们已核实冻结原因并向您说明；如有异议可拨打 12378。';
    const textEn = 'We checked why the line was frozen and explained it; you may call 12378 if you disagree.';
    await page.fill('#outcome-text-zh', textZh);
    await page.fill('#outcome-text-en', textEn);
    await submitOutcome();
    await expect.poll(async () => (await caseOf(caseId)).state).toBe('RESOLVED');
    const complaint = (await client(t, token).get(`/v1/me/complaints/${complaintId}`)).json();
    expect(complaint).toMatchObject({ state: 'RESOLVED', resolution: { zh: textZh, en: textEn } });
  });

  it('shows a grant at the four-eyes threshold as waiting for a second person, with the pending change', async () => {
    const threshold = t.app.config.cases.fourEyes.limitIncreaseThresholdMinor;
    expect(threshold % 100).toBe(0);
    const { caseId } = await referredCase();
    await openCase(caseId);
    await outcomeButton('APPROVE').click();
    await page.fill(
      '#outcome-limit',
      (threshold / 100).toLocaleString('en-US', { minimumFractionDigits: 2 }),
    );
    await page.fill('#outcome-rate', '15');
    expect(await page.textContent('[data-testid=limit-fen]')).toContain(String(threshold));
    const answered = page.waitForResponse((r) => r.url().endsWith(`/v1/cases/${caseId}/resolve`));
    await submitOutcome();
    expect((await answered).status()).toBe(202);
    const waiting = page.locator('[data-testid=four-eyes-waiting]');
    await waiting.waitFor();
    const shown = await page.textContent('[data-testid=pending-change-id]');
    expect(await waiting.textContent()).toContain('等待第二人复核');
    const escalated = await caseOf(caseId);
    expect(escalated).toMatchObject({ state: 'ESCALATED', outcome: null });
    expect(escalated.outcomeDetail.pendingChangeId).toBe(shown);
    const change = (await api().get(`/v1/changes/${shown}`)).json();
    expect(change).toMatchObject({
      state: 'PENDING',
      operation: 'line.limit_increase',
      diff: { caseId, outcome: 'APPROVE', limitMinor: threshold },
    });
    // No outcome is offered while it waits, and the page says so after a reload too (from the case as the API shows it).
    expect(await page.locator('#outcome-form').count()).toBe(0);
    await page.reload();
    await waiting.waitFor();
    expect(await page.textContent('[data-testid=pending-change-id]')).toBe(shown);
    expect(await page.textContent('main')).toContain('ESCALATED');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'case-outcome-four-eyes');
    // The second person rejects it: the case goes back to its maker, and the page offers the outcomes again.
    const supervisor = await person(t, 'Zhao Supervisor', 'supervisor');
    const rejected = await client(t, supervisor.key).post(`/v1/changes/${shown}/reject`, {
      note: 'limit too high for this file',
    });
    expect(rejected.statusCode, rejected.body).toBe(200);
    await page.reload();
    await outcomeButton('APPROVE').waitFor();
    expect(await waiting.count()).toBe(0);
    expect((await caseOf(caseId)).state).toBe('ASSIGNED');
  });
});
