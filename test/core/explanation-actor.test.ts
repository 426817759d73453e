import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import { makeCore, openLine, type Harness } from './harness.js';

/**
 * README: an explanation's specifics name "by whom — automation with its actor and decision, a person, or the
 * borrower's own request". The borrower is told that a person acted, never which staff member (the partner's view of
 * the same action strips the actor too): their user id is ours, not theirs to read.
 */
describe('who acted, as the borrower is told', () => {
  let store: Store;
  let h: Harness;
  beforeEach(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    h = makeCore(store);
  });
  afterEach(async () => store.close());

  it('a person: by "person", no staff member named, in either language', async () => {
    const lineId = await openLine(h);
    await h.core.applyLineAction(lineId, {
      type: 'FREEZE_DRAW',
      reasons: ['R_UTILISATION_HIGH'],
      automated: false,
      actor: 'user:0190aaaa-staff-risk-analyst',
      note: 'internal: called the employer',
    });
    for (const lang of ['zh', 'en'] as const) {
      const told = await h.core.explainLine(lineId, lang);
      expect(told.specifics.action).toMatchObject({ type: 'FREEZE_DRAW', by: 'person', actor: null });
      expect(JSON.stringify(told)).not.toContain('0190aaaa-staff-risk-analyst');
      expect(JSON.stringify(told)).not.toContain('called the employer');
    }
    // The staff view of the line still says who (the console's line page).
    const line = await h.core.getLine(lineId);
    expect(line.recentActions[0]?.actor).toBe('user:0190aaaa-staff-risk-analyst');
  });

  it('a person applying what automation decided keeps the decision it applied, not the person', async () => {
    const lineId = await openLine(h);
    await h.core.applyLineAction(lineId, {
      type: 'SUSPEND',
      reasons: ['R_DAYS_PAST_DUE'],
      automated: false,
      actor: 'user:collections-lead',
      traceId: 'decision-held-9',
    });
    const told = await h.core.explainLine(lineId, 'en');
    expect(told.specifics.action).toMatchObject({ by: 'person', actor: null, decisionId: 'decision-held-9' });
  });

  it('automation keeps its actor and decision', async () => {
    const lineId = await openLine(h);
    await h.core.applyLineAction(lineId, {
      type: 'FREEZE_DRAW',
      reasons: ['R_SCAM_TRANSFER_PATTERN'],
      automated: true,
      actor: 'monitor',
      traceId: 'decision-42',
    });
    const told = await h.core.explainLine(lineId, 'en');
    expect(told.specifics.action).toMatchObject({
      by: 'automated',
      actor: 'monitor',
      decisionId: 'decision-42',
    });
  });

  it("the borrower's own request is still theirs; the staff member who keyed it in is not named", async () => {
    const lineId = await openLine(h);
    await h.core.applyLineAction(lineId, {
      type: 'CLOSE',
      reasons: ['R_BORROWER_REQUEST'],
      automated: false,
      actor: 'user:call-centre-agent-7',
    });
    const told = await h.core.explainLine(lineId, 'en');
    expect(told.specifics.action).toMatchObject({ type: 'CLOSE', by: 'borrower', actor: null });
    expect(JSON.stringify(told)).not.toContain('call-centre-agent-7');
    expect(told.statusText).toContain('at your request');
  });
});
