import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_APPLICANT, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';

/** The listings a client recovers with: a line's draws and loans, a borrower's lines; paged, filtered by time. */
describe('recovery listings', () => {
  let t: TestApp;
  let lineId: string;
  let borrowerId: string;
  const drawIds: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    const applied = await t.server.inject({
      method: 'POST',
      url: '/v1/applications',
      headers: adminHeaders('list-app-1'),
      payload: {
        applicant: { name: '李雷', nationalId: residentId('19800101', 321), phone: '13800001111' },
        attributes: STRONG_APPLICANT,
      },
    });
    expect(applied.statusCode, applied.body).toBe(201);
    lineId = applied.json().line.id;
    borrowerId = applied.json().borrowerId;
    for (let i = 0; i < 5; i++) {
      const draw = await t.server.inject({
        method: 'POST',
        url: `/v1/lines/${lineId}/draws`,
        headers: adminHeaders(`list-draw-${i}`),
        payload: { amountMinor: 10_000 + i, currency: 'CNY', termMonths: 3, method: 'EQUAL_PRINCIPAL' },
      });
      expect(draw.statusCode, draw.body).toBeLessThan(500);
      const body = draw.json();
      if (body.drawId) drawIds.push(body.drawId);
    }
  });
  afterAll(async () => t?.close());

  const get = (url: string) => t.server.inject({ method: 'GET', url, headers: adminHeaders() });

  it("pages through a line's draws without skipping or repeating one", async () => {
    const all = (await get(`/v1/lines/${lineId}/draws`)).json();
    expect(all.items).toHaveLength(5);
    expect(all.next).toBeNull();
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const res = await get(`/v1/lines/${lineId}/draws?limit=2${next ? `&after=${next}` : ''}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((d: { id: string }) => d.id));
      next = page.next;
    } while (next);
    expect(seen).toEqual(all.items.map((d: { id: string }) => d.id));
    expect(new Set(seen).size).toBe(5);
    expect(drawIds.length).toBeGreaterThan(0);
    expect(seen).toEqual(expect.arrayContaining(drawIds));
  });

  it("lists a line's loans and a borrower's lines, filtered by time", async () => {
    const draws = (await get(`/v1/lines/${lineId}/draws`)).json().items as { loanId: string | null }[];
    const loans = (await get(`/v1/lines/${lineId}/loans`)).json();
    expect(loans.items.map((l: { id: string }) => l.id).sort()).toEqual(
      draws.flatMap((d) => (d.loanId ? [d.loanId] : [])).sort(),
    );
    const lines = (await get(`/v1/borrowers/${borrowerId}/lines`)).json();
    expect(lines.items.map((l: { id: string }) => l.id)).toEqual([lineId]);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    expect((await get(`/v1/borrowers/${borrowerId}/lines?from=${future}`)).json().items).toEqual([]);
    expect((await get(`/v1/borrowers/${borrowerId}/lines?to=${future}`)).json().items).toHaveLength(1);
  });

  it('refuses a forged cursor, an unknown line and bad instants with 4xx', async () => {
    const forged = Buffer.from('not-a-time|x').toString('base64url');
    expect((await get(`/v1/lines/${lineId}/draws?after=${forged}`)).json().error.code).toBe('LG_VALIDATION');
    const unknown = await get('/v1/lines/00000000-0000-7000-8000-000000000000/draws');
    expect(unknown.statusCode).toBe(404);
    expect((await get(`/v1/lines/${lineId}/loans?from=yesterday`)).statusCode).toBe(400);
    expect((await get(`/v1/lines/${lineId}/loans?limit=100000`)).statusCode).toBe(400);
    // Text Date.parse would read as something else (12 → 2001-12-01, "x 2026" → 2026-01-01) and a date-time without
    // a time zone (read in the server's): a recovering client must get a 400, never a quietly wrong empty page. The
    // parser's own test (src/domain/clock.test.ts) has the full list; these show the route goes through it.
    for (const loose of ['12', 'x 2026', '2026-12-07T00:00:00']) {
      const answer = await get(`/v1/lines/${lineId}/draws?to=${encodeURIComponent(loose)}`);
      expect(answer.statusCode, loose).toBe(400);
      expect(answer.json().error.code, loose).toBe('LG_VALIDATION');
    }
    const offset = await get(
      `/v1/lines/${lineId}/draws?to=${encodeURIComponent('2999-01-01T08:00:00+08:00')}`,
    );
    expect(offset.statusCode).toBe(200);
    const anonymous = await t.server.inject({ method: 'GET', url: `/v1/lines/${lineId}/draws` });
    expect(anonymous.statusCode).toBe(401);
  });
});
