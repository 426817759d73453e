import { describe, expect, it } from 'vitest';
import { STRONG_APPLICANT, startTestApp } from '../helpers/app.js';
import { ADULT } from './harness.js';

const HOUR = 3_600_000;

describe('blast-radius guard across instances', () => {
  it('counts the automated restrictions other instances committed in the window (line_actions), not only its own', async () => {
    // A ceiling of 2 per hour: the fraction is far below one line, so minPerWindow rules.
    const t = await startTestApp({
      LINEGUARD_GUARD_MAX_FRACTION: '0.0001',
      LINEGUARD_GUARD_MIN_PER_WINDOW: '2',
      LINEGUARD_GUARD_WINDOW_MS: String(HOUR),
    });
    try {
      const { app } = t;
      const applied = await app.core.submitApplication({ applicant: ADULT, attributes: STRONG_APPLICANT });
      const lineId = applied.line?.id;
      if (!lineId) throw new Error(`the application was not approved: ${applied.outcome}`);
      const now = app.clock.now();
      // Two automated freezes another instance committed: 30 minutes ago (in the window) and 2 hours ago (not).
      const otherInstance = (id: string, at: number) => ({
        id,
        line_id: `other-line-${id}`,
        type: 'FREEZE_DRAW',
        outcome: 'APPLIED',
        reasons: '["R_SCAM_TRANSFER_PATTERN"]',
        trace_id: null,
        automated: 1,
        actor: 'monitor@other-instance',
        appealable: 1,
        notice_at: at,
        prev_status: 'ACTIVE',
        new_status: 'DRAW_FROZEN',
        prev_limit_minor: 100,
        new_limit_minor: 100,
        prev_rate: 0.1,
        new_rate: 0.1,
        requested_limit_minor: null,
        note: null,
        created_at: at,
        action_class: 'protective',
      });
      await app.store.db
        .insertInto('line_actions')
        .values([otherInstance('x1', now - HOUR / 2), otherInstance('x2', now - 2 * HOUR)])
        .execute();
      const freeze = {
        type: 'FREEZE_DRAW' as const,
        reasons: ['R_SCAM_TRANSFER_PATTERN'],
        automated: true,
        actor: 'monitor',
      };
      // This instance has admitted nothing; with the fleet's one, a first freeze still fits under 2…
      expect((await app.core.applyLineAction(lineId, freeze)).outcome).toBe('APPLIED');
      await app.core.applyLineAction(lineId, {
        type: 'UNFREEZE',
        reasons: ['R_RISK_RESOLVED'],
        automated: false,
        actor: 'analyst',
      });
      // …but the fleet has now restricted twice in the hour, so the next one waits for a person.
      const held = await app.core.applyLineAction(lineId, freeze);
      expect(held.outcome).toBe('REVIEW');
      expect(held.reasons[0]).toBe('R_BLAST_RADIUS_GUARD');
      // The trip is recorded as a system alert, although it happened inside the held action's unit of work.
      const guardAlerts = async () =>
        app.store.db
          .selectFrom('monitor_alerts')
          .select('evidence')
          .where('typology_id', '=', 'BLAST_RADIUS_GUARD')
          .execute();
      for (let waited = 0; (await guardAlerts()).length === 0 && waited < 2_000; waited += 20)
        await new Promise((resolve) => setTimeout(resolve, 20));
      const [alert] = await guardAlerts();
      expect(JSON.parse(alert?.evidence ?? '{}')).toMatchObject({ actionType: 'FREEZE_DRAW', ceiling: 2 });
    } finally {
      await t.close();
    }
  });
});
