import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_APPLICANT, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { splitBucket } from '../../src/engine/index.js';

/**
 * strategies/README.md: `split` is "champion/challenger by FNV-1a of subject key + strategy id"; the decision records
 * "the key the split node hashed (usually the borrower id), so a replay takes the same arm". With the real engine and
 * a 50/50 split on the application strategy: two concurrent first applications of one person (a double tap) take one
 * arm, the arm their recorded subject key gives, and replaying the version that decided changes nothing.
 */
type Doc = { version?: number; nodes: { id: string; [k: string]: unknown }[]; [k: string]: unknown };

describe('champion/challenger split is per borrower and replays', () => {
  let t: TestApp;
  let n = 0;
  const post = (url: string, payload: object) =>
    t.server.inject({ method: 'POST', url, headers: adminHeaders(`ssk-${++n}`), payload });
  const get = (url: string) => t.server.inject({ method: 'GET', url, headers: adminHeaders() });

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it("concurrent first applications of one person: one arm, the recorded key's, and replay = live", async () => {
    const live = (await get('/v1/strategies/application/versions/1')).json().document as Doc;
    const { version: _v, ...doc } = live;
    const candidate = {
      ...doc,
      nodes: [
        {
          id: 'ab',
          type: 'split',
          arms: [
            { name: 'champion', percent: 50, next: 'eligibility' },
            { name: 'challenger', percent: 50, next: 'challenge' },
          ],
        },
        ...live.nodes.map((node) => (node.id === 'grant' ? { ...node, next: 'end' } : node)),
        {
          id: 'challenge',
          type: 'ruleSet',
          mode: 'first-hit',
          next: 'end',
          rules: [{ id: 'CHALLENGER', when: 'true', outcome: 'REVIEW', reasons: ['R_MANUAL_REVIEW'] }],
        },
      ],
    };
    const saved = await post('/v1/strategies', candidate);
    expect(saved.statusCode, saved.body).toBe(201);
    const version = saved.json().version as number;
    expect((await post(`/v1/strategies/application/versions/${version}/activate`, {})).statusCode).toBe(200);

    const from = new Date(Date.now() - 1).toISOString();
    const seen: { borrowerId: string; arm: string; keyArm: string; subjectKey: string }[] = [];
    for (let i = 0; i < 12; i++) {
      const applicant = { name: '周八', nationalId: residentId('19850101', 900 + i), phone: '13900003333' };
      const answers = await Promise.all(
        [0, 1].map(() => post('/v1/applications', { applicant, attributes: STRONG_APPLICANT })),
      );
      for (const res of answers) {
        expect(res.statusCode, res.body).toBe(201);
        const body = res.json();
        const stored = (await get(`/v1/decisions/${body.decisionId}`)).json();
        seen.push({
          borrowerId: body.borrowerId,
          subjectKey: stored.subjectKey,
          arm: stored.decision.values.abArm,
          keyArm: splitBucket(stored.subjectKey, 'application') < 5000 ? 'champion' : 'challenger',
        });
      }
    }
    const to = new Date(Date.now() + 1000).toISOString();
    const sim = await post('/v1/strategies/application/simulate', { from, to, version });
    await post('/v1/strategies/application/versions/1/activate', {});
    expect(sim.statusCode, sim.body).toBe(200);

    const arms = new Map<string, Set<string>>();
    for (const s of seen) arms.set(s.borrowerId, (arms.get(s.borrowerId) ?? new Set()).add(s.arm));
    expect({
      borrowers: arms.size,
      borrowersInBothArms: [...arms.values()].filter((a) => a.size > 1).length,
      decisionsWhoseRecordedKeyGivesAnotherArm: seen.filter((s) => s.arm !== s.keyArm).length,
      decisionsNotKeyedByTheirBorrower: seen.filter((s) => s.subjectKey !== s.borrowerId).length,
      decisions: sim.json().decisions,
      replayChanged: sim.json().strategy.changed,
    }).toEqual({
      borrowers: 12,
      borrowersInBothArms: 0,
      decisionsWhoseRecordedKeyGivesAnotherArm: 0,
      decisionsNotKeyedByTheirBorrower: 0,
      decisions: 24,
      replayChanged: 0,
    });
  });
});
