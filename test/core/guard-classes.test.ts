import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { actionClassOf, createBlastRadiusGuard, type BlastRadiusTrip } from '../../src/engine/guard.js';
import { STRONG_APPLICANT, startTestApp } from '../helpers/app.js';
import { ADULT, residentId } from './harness.js';

/**
 * Issue 12, "the blast-radius guard blocks the wrong things": one budget per action class, so delinquency actions
 * can never use up what a scam freeze needs, and a held protective action is escalated at once.
 */

const HOUR = 3_600_000;

describe('blast-radius guard budgets per action class', () => {
  it('classes actions by their reasons: protective (scam, takeover) > fraud > credit', () => {
    expect(actionClassOf(['R_DAYS_PAST_DUE'])).toBe('credit');
    expect(actionClassOf(['R_LOAN_STACKING', 'R_INQUIRY_VELOCITY'])).toBe('fraud');
    expect(actionClassOf(['R_DAYS_PAST_DUE', 'R_SCAM_TRANSFER_PATTERN'])).toBe('protective');
    expect(actionClassOf(['R_ACCOUNT_TAKEOVER'])).toBe('protective');
  });

  it('a spent credit budget never holds a protective action; a held protective action trips every time', () => {
    const clock = new ManualClock(0);
    const trips: BlastRadiusTrip[] = [];
    const guard = createBlastRadiusGuard({
      minPerWindow: 2,
      windowMs: HOUR,
      clock,
      onTrip: (t) => trips.push(t),
    });
    expect(guard.admit('SUSPEND', 10, 0, 'credit')).toBe(true);
    expect(guard.admit('SUSPEND', 10, 0, 'credit')).toBe(true);
    expect(guard.admit('SUSPEND', 10, 0, 'credit')).toBe(false);
    expect(guard.admit('SUSPEND', 10, 0, 'credit')).toBe(false);
    // Credit trips alert once per window…
    expect(trips).toMatchObject([{ actionClass: 'credit', critical: false }]);
    expect(guard.admit('FREEZE_DRAW', 10, 0, 'protective')).toBe(true);
    expect(guard.admit('FREEZE_DRAW', 10, 0, 'protective')).toBe(true);
    expect(guard.admit('FREEZE_DRAW', 10, 0, 'protective')).toBe(false);
    expect(guard.admit('FREEZE_DRAW', 10, 0, 'protective')).toBe(false);
    // …a held protective action is escalated each time.
    expect(trips.filter((t) => t.critical)).toHaveLength(2);
    expect(guard.status(10, 'credit')).toMatchObject({ admittedInWindow: 2, refusedInWindow: 2 });
    expect(guard.status(10, 'protective')).toMatchObject({ admittedInWindow: 2, refusedInWindow: 2 });
    // The fleet's count is per class too: other instances' credit actions do not count against fraud.
    expect(guard.admit('LIMIT_DECREASE', 10, 0, 'fraud')).toBe(true);
  });

  it('takes a class budget of its own from the options', () => {
    const guard = createBlastRadiusGuard({
      minPerWindow: 1,
      budgets: { protective: { minPerWindow: 3 } },
      clock: new ManualClock(0),
    });
    expect(guard.status(10, 'credit').ceiling).toBe(1);
    expect(guard.status(10, 'protective').ceiling).toBe(3);
  });
});

describe('blast-radius guard per class through the core and the app', () => {
  it('delinquency suspensions exhaust their budget and a scam freeze still applies; a held scam freeze raises a critical alert at once', async () => {
    const t = await startTestApp({
      LINEGUARD_GUARD_MAX_FRACTION: '0.0001',
      LINEGUARD_GUARD_MIN_PER_WINDOW: '2',
      LINEGUARD_GUARD_WINDOW_MS: String(HOUR),
    });
    try {
      const { app } = t;
      const lines: string[] = [];
      for (let i = 0; i < 6; i++) {
        const applicant = { ...ADULT, nationalId: residentId('19900307', 200 + i), phone: `1380000000${i}` };
        const applied = await app.core.submitApplication({ applicant, attributes: STRONG_APPLICANT });
        if (!applied.line) throw new Error(`not approved: ${applied.outcome}`);
        lines.push(applied.line.id);
      }
      const line = (i: number) => lines[i] as string;
      const suspend = {
        type: 'SUSPEND' as const,
        reasons: ['R_DAYS_PAST_DUE'],
        automated: true,
        actor: 'job:review',
      };
      expect((await app.core.applyLineAction(line(0), suspend)).outcome).toBe('APPLIED');
      expect((await app.core.applyLineAction(line(1), suspend)).outcome).toBe('APPLIED');
      // The credit budget (2 an hour) is spent: the next suspension waits for a person.
      expect((await app.core.applyLineAction(line(2), suspend)).outcome).toBe('REVIEW');
      const scamFreeze = {
        type: 'FREEZE_DRAW' as const,
        reasons: ['R_SCAM_TRANSFER_PATTERN'],
        automated: true,
        actor: 'monitor',
      };
      // The scam freeze has its own budget.
      const frozen = await app.core.applyLineAction(line(3), scamFreeze);
      expect(frozen).toMatchObject({ outcome: 'APPLIED', newStatus: 'DRAW_FROZEN' });
      expect((await app.core.applyLineAction(line(4), scamFreeze)).outcome).toBe('APPLIED');
      // Only once the protective budget itself is spent is one held, and then it is escalated as critical.
      const held = await app.core.applyLineAction(line(5), scamFreeze);
      expect(held.outcome).toBe('REVIEW');
      const criticalAlerts = async () =>
        (
          await app.store.db
            .selectFrom('monitor_alerts')
            .select(['evidence', 'severity'])
            .where('typology_id', '=', 'BLAST_RADIUS_GUARD')
            .execute()
        ).filter((a) => (JSON.parse(a.evidence) as { critical?: boolean }).critical === true);
      for (let waited = 0; (await criticalAlerts()).length === 0 && waited < 2_000; waited += 20)
        await new Promise((resolve) => setTimeout(resolve, 20));
      const [alert] = await criticalAlerts();
      expect(alert?.severity).toBe('critical');
      expect(JSON.parse(alert?.evidence ?? '{}')).toMatchObject({
        actionType: 'FREEZE_DRAW',
        actionClass: 'protective',
        critical: true,
      });
      const recorded = await app.store.db
        .selectFrom('line_actions')
        .select(['line_id', 'action_class', 'outcome'])
        .where('automated', '=', 1)
        .where('type', 'in', ['SUSPEND', 'FREEZE_DRAW'])
        .orderBy('created_at')
        .execute();
      expect(recorded.map((r) => `${r.action_class}:${r.outcome}`)).toEqual([
        'credit:APPLIED',
        'credit:APPLIED',
        'credit:REVIEW',
        'protective:APPLIED',
        'protective:APPLIED',
        'protective:REVIEW',
      ]);
    } finally {
      await t.close();
    }
  });
});
