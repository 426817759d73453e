import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { adminHeaders, startTestApp, STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';

/**
 * README "Personal data at rest": sealed — "a line action's note once applied (…; a grant's adjustments)", and "The
 * ledger holds commitments, not the data" (`noteHmac` in `line.action`). The borrower's birth date is sealed too. A grant's
 * adjustments name the age derived from the resident ID; they must not sit in clear beside the sealed note.
 */
describe("a grant's adjustments (the derived age) in clear in the ledger", () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 9));
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { clock, random: seededRandom(3) });
  });
  afterAll(async () => t?.close());

  it('no ledger entry holds the sealed GRANT note in clear', async () => {
    const applied = await t.server.inject({
      method: 'POST',
      url: '/v1/applications',
      headers: adminHeaders('gn-1'),
      payload: {
        applicant: { name: '王芳', nationalId: residentId('19800101', 95), phone: '13900003333' },
        attributes: { ...STRONG_APPLICANT, Age: 30 },
      },
    });
    expect(applied.statusCode, applied.body).toBe(201);
    const body = applied.json();
    const adjustment = (body.adjustments as string[]).find((a) => a.includes('derived from the resident ID'));
    expect(adjustment).toBe('Age replaced by the age derived from the resident ID (46)');
    // The GRANT's note is sealed in line_actions …
    const grant = await t.app.store.db
      .selectFrom('line_actions')
      .select('note')
      .where('line_id', '=', body.line.id)
      .where('type', '=', 'GRANT')
      .executeTakeFirstOrThrow();
    expect(grant.note).toMatch(/^lg1\./);
    // … yet the same text, with the applicant's age, is in the `application` ledger entry in clear.
    const entries = await t.app.store.db
      .selectFrom('ledger_entries')
      .select(['kind', 'payload'])
      .where('subject_id', '=', body.borrowerId)
      .execute();
    const clear = entries.filter((e) => e.payload.includes('derived from the resident ID'));
    // The `application` entry once held `adjustments` with the derived age in clear.
    expect(clear.map((e) => e.kind)).toEqual([]);
  });
});
