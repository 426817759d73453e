import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { openStore } from '../../src/store/db.js';
import { verifyInclusion } from '../../src/compliance/merkle.js';
import { STRONG_APPLICANT, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';

/** The `lineguard ledger …` and `lineguard report monthly` commands as a script runs them: output and exit codes. */
const ROOT = join(import.meta.dirname, '..', '..');
const hex = (text: string) => Buffer.from(text, 'hex');

// Each command starts the CLI through tsx (seconds on a shared machine): generous timeouts, no timing asserted.
describe('lineguard ledger and report commands', { timeout: 240_000 }, () => {
  const witness = mkdtempSync(join(tmpdir(), 'lg-cli-witness-'));
  let t: TestApp;
  let dataDir = '';
  let publicKey = '';
  const cliWith = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        LINEGUARD_DATA_DIR: dataDir,
        LINEGUARD_KEY: 'ab'.repeat(32),
        LINEGUARD_WITNESS_DIR: witness,
        LINEGUARD_BUREAU: 'off',
        LINEGUARD_DATABASE_URL: '',
        ...env,
      },
    });
  const cli = (...args: string[]) => cliWith({}, ...args);

  beforeAll(async () => {
    t = await startTestApp(
      { LINEGUARD_WITNESS_DIR: witness },
      { clock: new ManualClock(Date.UTC(2026, 10, 5)), random: seededRandom(3) },
    );
    dataDir = t.dataDir;
    publicKey = t.app.evidence.publicKey.rawBase64;
    const res = await t.server.inject({
      method: 'POST',
      url: '/v1/applications',
      headers: adminHeaders('cli-1'),
      payload: {
        applicant: { name: '周杰', nationalId: residentId('19790909', 77), phone: '13900005555' },
        attributes: STRONG_APPLICANT,
      },
    });
    expect(res.json().outcome).toBe('APPROVE');
    await t.close();
  });
  afterAll(async () => undefined);

  it('checkpoint, key, prove and verify --against on an intact ledger', () => {
    const cp = cli('ledger', 'checkpoint', '--json');
    expect(cp.status, cp.stderr).toBe(0);
    const checkpoint = JSON.parse(cp.stdout);
    expect(checkpoint.treeSize).toBeGreaterThan(0);
    expect(cli('ledger', 'key').stdout.trim()).toBe(publicKey);
    const proof = JSON.parse(cli('ledger', 'prove', 'entry', '--seq', '1').stdout);
    expect(
      verifyInclusion(
        hex(proof.leafHash),
        proof.leafIndex,
        proof.treeSize,
        proof.path.map(hex),
        hex(checkpoint.rootHash),
      ),
    ).toBe(true);
    const verify = cli('ledger', 'verify', '--against', witness);
    expect(verify.stdout).toContain('VERIFIED');
    // With the data key the decision's sealed context is opened and proven against its ledger commitment.
    expect(verify.stdout).toMatch(/facts: 1 decisions, .* checked; 0 disagree/);
    expect(verify.stdout).not.toContain('not proven');
    expect(verify.status).toBe(0);
    // An auditor who trusts the published key and holds no data key: the decision's sealed context and result, and the
    // grant's note (its adjustments), are counted, not proven.
    const auditor = cliWith(
      { LINEGUARD_KEY: '' },
      'ledger',
      'verify',
      '--against',
      witness,
      '--key',
      publicKey,
    );
    expect(auditor.stdout).toContain('3 sealed values not proven');
    expect(auditor.stdout).toContain('VERIFIED');
    expect(auditor.status).toBe(0);
  });

  it('exit 3 naming the fact row an edit made disagree; exit 2 for a missing witness directory', async () => {
    const store = await openStore({ sqlitePath: join(dataDir, 'lineguard.db') });
    await store.db.updateTable('credit_lines').set({ limit_minor: 1 }).execute();
    await store.close();
    const verify = cli('ledger', 'verify', '--against', witness);
    expect(verify.stdout).toMatch(/FACT credit_lines \S+ limit_minor/);
    expect(verify.status).toBe(3);
    // The plain chain check cannot see it: the edit touched no ledger entry.
    expect(cli('ledger', 'verify').status).toBe(0);
    expect(cli('ledger', 'verify', '--against', join(witness, 'nope')).status).toBe(2);
  });

  it('report monthly: CSV and JSON, exit 2 for a bad month', () => {
    const csv = cli('report', 'monthly', '--month', '2026-11', '--format', 'csv');
    expect(csv.status, csv.stderr).toBe(0);
    expect(csv.stdout.split('\r\n')[0]).toBe('section,key,detail,value');
    const json = JSON.parse(cli('report', 'monthly', '--month', '2026-11').stdout);
    expect(json.linesByStatus).toEqual([{ status: 'ACTIVE', lines: 1 }]);
    expect(cli('report', 'monthly', '--month', '2026-13').status).toBe(2);
  });
});
