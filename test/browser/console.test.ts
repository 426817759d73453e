import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createApiKey } from '../../src/api/api-keys.js';
import { bootstrapServe } from '../../src/app/bootstrap.js';
import {
  STRONG_APPLICANT,
  TEST_ADMIN_KEY,
  adminHeaders,
  startTestApp,
  type TestApp,
} from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { BROWSER_READY, launchBrowser, screenshot, seriousAxeViolations } from './browser.js';
import { person, type Person } from '../cases/helpers.js';

/**
 * The risk console in Chromium against the whole app over a real socket: sign in, read the overview, switch
 * language, work an alert from evidence to outcome, find a line and read its 360 view, edit, validate, simulate,
 * save and activate a strategy. Every page is checked with axe-core (no serious or critical violations) and
 * photographed into tmp/screenshots/.
 */
describe.skipIf(!BROWSER_READY)('risk console in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;
  let lineId: string;
  let borrowerId: string;
  let auditorKey: string;
  let maker: Person;
  let checker: Person;
  let analyst: Person;
  let n = 0;
  const post = (url: string, payload: unknown) =>
    t.server.inject({
      method: 'POST',
      url,
      headers: adminHeaders(`browser-${++n}`),
      payload: payload as object,
    });
  const get = (url: string) => t.server.inject({ method: 'GET', url, headers: adminHeaders() });

  beforeAll(async () => {
    t = await startTestApp({ LINEGUARD_SEED_DEMO: '1' });
    // What `npm start` does on a first start: the demo book, its consents and a month of portfolio snapshots.
    await bootstrapServe(t.app, () => undefined);
    base = await t.server.listen({ port: 0, host: '127.0.0.1' });
    auditorKey = (await createApiKey(t.app.store.db, t.app, 'auditor', 'browser test')).key;
    maker = await person(t, 'Li Risk', 'risk_analyst');
    checker = await person(t, 'Zhou Supervisor', 'supervisor');
    analyst = await person(t, 'Wang Analyst', 'analyst');
    await seedScamAlert();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /**
   * Today's snapshot retaken while one application's sealed result holds another's token (it opens for neither row),
   * then the row put back: the snapshot counts that score as unreadable.
   */
  async function todaysSnapshotWithOneUnreadableScore(): Promise<void> {
    const db = t.app.store.db;
    const [one, other] = await db
      .selectFrom('decisions')
      .select(['id', 'result'])
      .where('kind', '=', 'application')
      .orderBy('decided_at', 'desc')
      .limit(2)
      .execute();
    if (!one || !other) throw new Error('two application decisions expected');
    const setResult = (result: string) =>
      db.updateTable('decisions').set({ result }).where('id', '=', one.id).execute();
    await setResult(other.result);
    try {
      const { lenderToday } = (await get('/v1/session')).json() as { lenderToday: string };
      expect((await t.app.portfolio.snapshot(lenderToday)).snapshot.score.unreadable).toBe(1);
    } finally {
      await setResult(one.result);
    }
  }

  /** A fresh line, a draw, then the safe-account scam pattern on it: an alert with evidence and a frozen line. */
  async function seedScamAlert(): Promise<void> {
    const applied = await post('/v1/applications', {
      applicant: { name: '韩梅梅', nationalId: residentId('19850302', 444), phone: '13900002222' },
      attributes: STRONG_APPLICANT,
    });
    expect(applied.statusCode, applied.body).toBe(201);
    lineId = applied.json().line.id;
    borrowerId = applied.json().borrowerId ?? (await get(`/v1/lines/${lineId}`)).json().borrower.id;
    const drawAt = Date.now();
    const draw = await post(`/v1/lines/${lineId}/draws`, {
      amountMinor: 500_000,
      currency: 'CNY',
      termMonths: 12,
      method: 'EQUAL_INSTALLMENT',
    });
    expect(draw.statusCode).toBe(201);
    // The pattern: a call already in progress, then a new payee and a transfer of the loan just after it was paid out.
    await new Promise((r) => setTimeout(r, 2_500));
    const at = (minutes: number) => new Date(drawAt + minutes * 60_000).toISOString();
    const events = [
      {
        eventId: 'b-call',
        type: 'call_in_progress',
        occurredAt: at(-10),
        userId: borrowerId,
        deviceId: 'dev-b1',
      },
      {
        eventId: 'b-payee',
        type: 'payee_added',
        occurredAt: at(0.01),
        userId: borrowerId,
        payeeId: 'safe-acct-b',
        payeeCreatedAt: at(-4),
        deviceId: 'dev-b1',
      },
      {
        eventId: 'b-transfer',
        type: 'transfer_out',
        occurredAt: at(0.02),
        userId: borrowerId,
        lineId,
        payeeId: 'safe-acct-b',
        amount: 480_000,
        currency: 'CNY',
        deviceId: 'dev-b1',
      },
    ];
    for (let i = 0; i < 50; i++) {
      const res = await post('/v1/events', { events });
      const fired = res
        .json()
        .results.some((r: { typologies: { id: string }[] }) =>
          r.typologies.some((x) => x.id === 'SCAM_SAFE_ACCOUNT_TRANSFER'),
        );
      if (fired) return;
      // The disbursement reaches the monitor through the outbox after commit; resend (same ids: idempotent) until it has.
      events.forEach((e, k) => (e.eventId = `b-${k}-${i}`));
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the scam typology never fired');
  }

  async function signIn(key: string): Promise<void> {
    await page.goto(`${base}/`);
    await page.evaluate('sessionStorage.clear()');
    await page.goto(`${base}/`);
    await page.fill('#api-key', key);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=who]');
  }

  it('refuses a wrong key with the API error, then signs in and shows who and which role', async () => {
    await page.goto(`${base}/`);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.fill('#api-key', 'lg_not_a_real_key_000000000000');
    await page.click('button[type=submit]');
    await page.waitForSelector('[role=alert]');
    expect(await page.textContent('[role=alert]')).toContain('LG_UNAUTHENTICATED');
    await screenshot(page, 'signin-refused');
    await signIn(TEST_ADMIN_KEY);
    expect(await page.textContent('[data-testid=who]')).toContain('admin');
  });

  it('shows the live overview with rates, latency and decisions per minute', async () => {
    await page.goto(`${base}/#/`);
    await page.waitForSelector('[data-testid=approval-rate]');
    await page.waitForSelector('.chart canvas');
    expect(await page.textContent('[data-testid=approval-rate]')).toMatch(/%/);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'overview');
  });

  it('switches between Chinese and English', async () => {
    await page.goto(`${base}/#/`);
    await page.waitForSelector('nav');
    const before = await page.textContent('nav');
    const chartBefore = await page.textContent('.chart');
    await page.click('[data-testid=lang-toggle]');
    const after = await page.textContent('nav');
    expect(before).not.toEqual(after);
    expect(`${before}${after}`).toContain('Overview');
    expect(`${before}${after}`).toContain('总览');
    // The chart follows the language too: its legend (and axes, drawn on the canvas) were uPlot's English in both.
    await page.waitForFunction(
      `document.querySelector('.chart')?.textContent !== ${JSON.stringify(chartBefore)}`,
    );
    const chartAfter = await page.textContent('.chart');
    expect(`${chartBefore}|${chartAfter}`).toContain('时间');
    expect(await page.getAttribute('html', 'lang')).toMatch(/^(en|zh-CN)$/);
  });

  it('works an alert: queue → evidence (features, timeline, entity graph) → closed', async () => {
    await page.goto(`${base}/#/queues`);
    await page.waitForSelector('table tbody tr a');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.click('table tbody tr a');
    await page.waitForSelector('[data-testid=entity-graph] canvas');
    const text = await page.textContent('main');
    expect(text).toContain('SCAM_SAFE_ACCOUNT_TRANSFER');
    expect(text).toContain('safe-acct-b');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'case');
    const alertId = decodeURIComponent(page.url().split('/').pop() ?? '');
    await page.click('button:has-text("关闭预警"), button:has-text("Close alert")');
    await expect
      .poll(async () =>
        (await get(`/v1/alerts?status=CLOSED&userId=${borrowerId}`))
          .json()
          .items.map((a: { alertId: string }) => a.alertId),
      )
      .toContain(alertId);
  });

  it('finds the line and shows its 360 view: the freeze with its reason, the loan with APR under each convention', async () => {
    await page.goto(`${base}/#/lines`);
    await page.fill('#line-query', lineId.slice(0, 12));
    await page.click('form[role=search] button[type=submit]');
    await page.waitForSelector(`a[href="#/lines/${lineId}"]`);
    await page.click(`a[href="#/lines/${lineId}"]`);
    await page.waitForSelector('details.loan');
    const text = (await page.textContent('main')) ?? '';
    expect(text).toContain('FREEZE_DRAW');
    expect(text).toContain('R_SCAM_TRANSFER_PATTERN');
    expect(text).toContain('CN_IRR');
    expect(text).toContain('EU_CCD');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'line');
  });

  it("the simulation's range and the SLAs go by the server's day and clock, not the browser's", async () => {
    // A browser whose clock says another day (its zone, or a wrong clock): the range still ends on the server's day.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      await context.clock.setFixedTime(Date.now() + 3 * 86_400_000);
      const other = await context.newPage();
      await other.goto(`${base}/`);
      await other.fill('#api-key', TEST_ADMIN_KEY);
      await other.click('button[type=submit]');
      await other.waitForSelector('[data-testid=who]');
      await other.goto(`${base}/#/strategies/application`);
      await other.waitForSelector('#sim-to');
      const { lenderToday } = (await get('/v1/session')).json() as { lenderToday: string };
      const monthBefore = new Date(Date.parse(`${lenderToday}T00:00:00Z`) - 29 * 86_400_000);
      expect([await other.inputValue('#sim-from'), await other.inputValue('#sim-to')]).toEqual([
        monthBefore.toISOString().slice(0, 10),
        lenderToday,
      ]);
      // The case queue counts each SLA's time left by the server's clock: only the cases the server holds overdue
      // show late, not every case due within the three days the browser is ahead.
      const open = (await get('/v1/cases?state=OPEN&limit=100')).json().items as { slaDueAt: string }[];
      const overdue = open.filter((c) => Date.parse(c.slaDueAt) < Date.now()).length;
      expect(overdue).toBeLessThan(open.length);
      await other.goto(`${base}/#/cases`);
      await other.waitForSelector('table tbody tr');
      expect(await other.locator('table tbody td.error').count()).toBe(overdue);
    } finally {
      await context.close();
    }
  });

  it('edits a strategy with live validation, simulates it against stored decisions, saves and activates it', async () => {
    await page.goto(`${base}/#/strategies/application`);
    await page.waitForSelector('#strategy-text');
    const original = await page.inputValue('#strategy-text');
    await page.fill('#strategy-text', '{ "id": "application", "nodes": 3 }');
    await page.waitForSelector('[data-testid=validation] .error');
    expect(await page.textContent('[data-testid=validation]')).toContain('LG_STRATEGY_INVALID');
    const candidate = JSON.parse(original) as { name?: string };
    candidate.name = `${candidate.name ?? 'application'} (browser edit)`;
    await page.fill('#strategy-text', JSON.stringify(candidate, null, 2));
    await page.locator('[data-testid=validation]', { hasText: /校验通过|Valid/ }).waitFor();
    // The dates sent are the days chosen: a date's whole day is the server's to include (the lender's calendar).
    const asked = page.waitForRequest((request) =>
      request.url().endsWith('/v1/strategies/application/simulate'),
    );
    await page.click('button:has-text("模拟"), button:has-text("Simulate")');
    const range = JSON.parse((await asked).postData() ?? '{}') as { from?: string; to?: string };
    expect(range).toMatchObject({
      from: await page.inputValue('#sim-from'),
      to: await page.inputValue('#sim-to'),
    });
    await page.waitForSelector('[data-testid=simulation]');
    expect(Number(await page.textContent('[data-testid=sim-changed]'))).toBe(0);
    await screenshot(page, 'strategy-simulation');
    const before = (await get('/v1/strategies'))
      .json()
      .strategies.find((s: { id: string }) => s.id === 'application');
    await page.click('button:has-text("保存为新版本"), button:has-text("Save as new version")');
    await page.waitForSelector('button:has-text("v"):not([disabled])');
    await page.click('button:has-text("启用此版本"), button:has-text("Activate this version")');
    await expect
      .poll(
        async () =>
          (await get('/v1/strategies')).json().strategies.find((s: { id: string }) => s.id === 'application')
            .activeVersion,
      )
      .toBe(before.latestVersion + 1);
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('says which stored decisions a simulation could not open, and leaves them out of its figures', async () => {
    // The newest application decision's sealed context replaced by another's: bound to that other decision, it no
    // longer opens as its own (as after tampering, or a key since dropped), so the replay must leave it out and say so.
    const recent = await t.app.store.db
      .selectFrom('decisions')
      .select(['id', 'context'])
      .where('kind', '=', 'application')
      .orderBy('decided_at', 'desc')
      .limit(2)
      .execute();
    const [spoiled, donor] = recent as [{ id: string; context: string }, { id: string; context: string }];
    const setContext = (context: string) =>
      t.app.store.db.updateTable('decisions').set({ context }).where('id', '=', spoiled.id).execute();
    await setContext(donor.context);
    try {
      await page.goto(`${base}/#/strategies/application`);
      await page.locator('[data-testid=validation]', { hasText: /校验通过|Valid/ }).waitFor();
      await page.click('button:has-text("模拟"), button:has-text("Simulate")');
      const notice = page.locator('[data-testid=sim-unreadable]');
      await notice.waitFor();
      const text = (await notice.textContent()) ?? '';
      expect(text).toMatch(/^1 /);
      expect(text).toContain(spoiled.id);
      await screenshot(page, 'strategy-simulation-unreadable');
      expect(await seriousAxeViolations(page)).toEqual([]);
    } finally {
      await setContext(spoiled.context);
    }
  });

  it('works a case end to end: queue with SLA → evidence with the decision trace → disposition', async () => {
    await signIn(analyst.key);
    await page.goto(`${base}/#/cases`);
    await page.waitForSelector('table tbody tr a');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.click('table tbody tr a:text("ALERT")');
    await page.waitForSelector('[data-testid=case-outcomes]');
    expect(await page.textContent('main')).toContain('SCAM_SAFE_ACCOUNT_TRANSFER');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'case-queue-item');
    const caseId = decodeURIComponent(page.url().split('/').pop() ?? '');
    await page.click('button:text("CONFIRMED_FRAUD")');
    await expect
      .poll(async () => (await get(`/v1/cases/${caseId}`)).json())
      .toMatchObject({ state: 'RESOLVED', outcome: 'CONFIRMED_FRAUD' });
  });

  it('approves a pending change as a second person: an activation a risk analyst asked for', async () => {
    const latest = (await get('/v1/strategies/line-review/versions')).json().versions as {
      version: number;
    }[];
    const document = (await get(`/v1/strategies/line-review/versions/${latest[0]?.version ?? 1}`)).json()
      .document;
    const saved = await t.server.inject({
      method: 'POST',
      url: '/v1/strategies',
      headers: { authorization: `Bearer ${maker.key}`, 'idempotency-key': 'four-eyes-save' },
      payload: { ...document, name: `${document.name} (four eyes)` },
    });
    expect(saved.statusCode, saved.body).toBe(201);
    const asked = await t.server.inject({
      method: 'POST',
      url: `/v1/strategies/line-review/versions/${saved.json().version}/activate`,
      headers: { authorization: `Bearer ${maker.key}`, 'idempotency-key': 'four-eyes-activate' },
    });
    expect(asked.statusCode, asked.body).toBe(202);
    await signIn(checker.key);
    await page.goto(`${base}/#/changes`);
    await page.waitForSelector('[data-testid=pending-change] button');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'pending-changes');
    await page.click(
      '[data-testid=pending-change] button:text("批准"), [data-testid=pending-change] button:text("Approve")',
    );
    await expect
      .poll(
        async () =>
          (await get('/v1/strategies')).json().strategies.find((x: { id: string }) => x.id === 'line-review')
            .activeVersion,
      )
      .toBe(saved.json().version);
  });

  it('lets the borrower read why the line is frozen, appeal in the app, and see the outcome', async () => {
    const service = await createApiKey(t.app.store.db, t.app, 'service', 'borrower view');
    const minted = await t.server.inject({
      method: 'POST',
      url: `/v1/borrowers/${borrowerId}/tokens`,
      headers: { authorization: `Bearer ${service.key}` },
      payload: {},
    });
    const token = minted.json().token as string;
    const borrowerPage = await browser.newPage({ viewport: { width: 420, height: 900 } });
    try {
      await borrowerPage.goto(`${base}/borrower`);
      await borrowerPage.fill('#borrower-token', token);
      await borrowerPage.click('button[type=submit]');
      await borrowerPage.waitForSelector('[data-testid=reasons]');
      expect(await borrowerPage.textContent('main')).toMatch(/申诉|appeal/i);
      expect(await seriousAxeViolations(borrowerPage)).toEqual([]);
      await borrowerPage.fill('textarea[id^=appeal-]', '转账是我本人给家人的，没有人指导我操作。');
      await borrowerPage.click('form[aria-label="申诉"] button[type=submit]');
      await borrowerPage.waitForSelector('[data-testid=my-appeals] li');
      await screenshot(borrowerPage, 'borrower');
      await borrowerPage.selectOption('#complaint-category', 'CLOSURE_OR_LIMIT');
      await borrowerPage.fill('#complaint-text', '额度被冻结后无法借款，希望尽快处理。');
      await borrowerPage.click('form[aria-label="投诉"] button[type=submit]');
      await borrowerPage.waitForSelector('[data-testid=my-complaints] li');
      expect(await borrowerPage.textContent('[data-testid=my-complaints]')).toContain('额度调整或关闭');
      const appealCase = (
        await t.server.inject({
          method: 'GET',
          url: `/v1/cases?type=APPEAL&borrowerId=${borrowerId}`,
          headers: { authorization: `Bearer ${analyst.key}` },
        })
      ).json().items[0];
      const resolved = await t.server.inject({
        method: 'POST',
        url: `/v1/cases/${appealCase.id}/resolve`,
        headers: { authorization: `Bearer ${analyst.key}`, 'idempotency-key': 'appeal-resolve' },
        payload: {
          outcome: 'REJECTED',
          textZh: '经核实，该笔转账符合诈骗特征，冻结维持；您可拨打客服或向监管部门投诉。',
          textEn:
            'We checked: the transfer matches a scam pattern, so the freeze stays; you may complain to us or the regulator.',
        },
      });
      expect(resolved.statusCode, resolved.body).toBe(200);
      await borrowerPage.reload();
      await borrowerPage.waitForSelector('[data-testid=my-appeals] li p');
      expect(await borrowerPage.textContent('[data-testid=my-appeals]')).toContain('冻结维持');
      await borrowerPage.click('[data-testid=lang-toggle]');
      await borrowerPage.locator('[data-testid=my-appeals] li p', { hasText: 'freeze stays' }).waitFor();
      expect(await seriousAxeViolations(borrowerPage)).toEqual([]);
      await screenshot(borrowerPage, 'borrower-outcome');
    } finally {
      await borrowerPage.close();
    }
  });

  it('shows the portfolio over time, typology false-positive rates, and the ledger with its signed checkpoints', async () => {
    await signIn(TEST_ADMIN_KEY);
    await page.goto(`${base}/#/portfolio`);
    await page.waitForSelector('[data-testid=snapshots] tbody tr');
    // Every score was read: nothing to say about unreadable ones.
    expect(await page.locator('[data-testid=unreadable-scores]').count()).toBe(0);
    await todaysSnapshotWithOneUnreadableScore();
    await page.reload();
    await page.waitForSelector('[data-testid=snapshots] tbody tr');
    expect(await page.textContent('[data-testid=unreadable-scores]')).toBe('1');
    expect(
      await page.$$eval('[data-testid=snapshots] tbody tr', (rows) => rows.length),
    ).toBeGreaterThanOrEqual(28);
    expect(await page.textContent('main')).toContain('SCAM_SAFE_ACCOUNT_TRANSFER');
    // Complaints and appeals open at the latest snapshot, with how many of them are past their deadline.
    expect(await page.textContent('[data-testid=open-complaints]')).toMatch(/^\d+ \(\d+\)$/);
    expect(await page.textContent('[data-testid=open-appeals]')).toMatch(/^\d+ \(\d+\)$/);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'portfolio');
    await post('/v1/ledger/checkpoints', {});
    await page.goto(`${base}/#/ledger`);
    await page.waitForSelector('[data-testid=checkpoints] tbody tr');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'ledger');
  });

  it('shows an auditor the strategies but not the editor', async () => {
    await signIn(auditorKey);
    expect(await page.textContent('[data-testid=who]')).toContain('auditor');
    await page.goto(`${base}/#/strategies/application`);
    await page.waitForSelector('table');
    expect(await page.$('#strategy-text')).toBeNull();
  });
});
