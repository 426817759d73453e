import { Command } from 'commander';
import type { ManualClock } from '../../src/domain/clock.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerCasesCommand, registerKeyCommands } from '../../src/cli/commands/cases.js';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { client, person, startCaseApp, type Person } from './helpers.js';

/** `lineguard cases|changes|users|keys revoke` over the same app (its close is deferred to the suite's end). */
describe('lineguard cases, changes, users, keys revoke', () => {
  let t: TestApp;
  let clock: ManualClock;
  let analyst: Person;
  let supervisor: Person;

  beforeAll(async () => {
    ({ t, clock } = await startCaseApp());
    analyst = await person(t, 'cli analyst', 'analyst');
    supervisor = await person(t, 'cli supervisor', 'supervisor');
  });
  afterAll(async () => t?.close());
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  async function run(args: string[]): Promise<{ out: string; err: string; code: number | undefined }> {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
    const program = new Command('lineguard').exitOverride();
    // The commands close the app they open: hand them the test's app with a close that leaves it running.
    const openApp = async () => ({ ...t.app, close: async () => undefined });
    registerCasesCommand(program, openApp);
    registerKeyCommands(program.command('keys'), openApp);
    await program.parseAsync(['node', 'lineguard', ...args]);
    const code = process.exitCode === undefined ? undefined : Number(process.exitCode);
    vi.restoreAllMocks();
    return { out: out.join(''), err: err.join(''), code };
  }

  it('lists, assigns and resolves a case as a named person', async () => {
    const referred = (
      await client(t).post('/v1/applications', {
        applicant: { name: '王五', nationalId: residentId('19820202', 61), phone: '13900006666' },
        attributes: { ...STRONG_APPLICANT, inquiries30d: 4 },
      })
    ).json();
    const listed = JSON.parse((await run(['cases', 'list', '--type', 'REVIEW_APPLICATION', '--json'])).out);
    const item = listed.items.find((c: { subjectId: string }) => c.subjectId === referred.applicationId);
    expect(item.state).toBe('OPEN');
    const assigned = await run([
      'cases',
      'assign',
      item.id,
      '--to',
      analyst.userId,
      '--as',
      supervisor.userId,
    ]);
    expect(assigned.out).toContain('ASSIGNED');
    const refused = await run(['cases', 'resolve', item.id, '--outcome', 'DECLINE', '--as', analyst.userId]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('LG_VALIDATION');
    const declined = await run([
      'cases',
      'resolve',
      item.id,
      '--outcome',
      'DECLINE',
      '--reason',
      'R_INQUIRY_VELOCITY',
      '--as',
      analyst.userId,
    ]);
    expect(declined.out).toContain('RESOLVED DECLINE');
    const shown = JSON.parse((await run(['cases', 'show', item.id])).out);
    expect(shown.resolvedBy).toBe(`user:${analyst.userId}`);
    // A usage error (commander exits 2 in the real program; here its exitOverride throws).
    await expect(run(['cases', 'list', '--type', 'NOPE'])).rejects.toThrow(/--type must be one of/);
  });

  it('creates users, approves changes as a checker and revokes keys', async () => {
    const created = await run(['users', 'create', '--name', 'new analyst', '--role', 'analyst', '--json']);
    expect(JSON.parse(created.out)).toMatchObject({ role: 'analyst' });
    const maker = await person(t, 'cli maker', 'risk_analyst');
    const asked = await client(t, maker.key).post('/v1/lists', {
      list: 'black',
      entityType: 'payee',
      value: 'mule-1',
      reason: 'mule account',
      source: 'analyst',
    });
    const changeId = asked.json().pendingChange.id as string;
    expect((await run(['changes', 'list', '--state', 'PENDING'])).out).toContain(changeId);
    const notChecker = await run(['changes', 'approve', changeId, '--as', analyst.userId]);
    expect(notChecker.code).toBe(2);
    expect((await run(['changes', 'approve', changeId, '--as', supervisor.userId])).out).toContain(
      'APPROVED',
    );
    const revoked = await run(['keys', 'revoke', maker.keyId]);
    expect(revoked.out).toContain(`revoked ${maker.keyId}`);
    clock.advance(1_000);
    expect((await client(t, maker.key).get('/v1/cases')).statusCode).toBe(401);
  });
});
