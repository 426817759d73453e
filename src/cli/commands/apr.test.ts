import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LgError } from '../../domain/index.js';
import { registerAprCommand, runAprFile } from './apr.js';

const ISSUE_EXAMPLE = {
  convention: 'EU_CCD',
  unitPeriod: 'MONTH',
  advances: [{ amount: 100000, date: '1994-01-01' }],
  payments: [{ amount: 120000, date: '1995-07-01' }],
};

function failure(text: string): { code: string; message: string; field?: string } {
  try {
    runAprFile(text);
  } catch (e) {
    if (!(e instanceof LgError)) throw e;
    return { code: e.code, message: e.message, field: (e.details as { field?: string } | undefined)?.field };
  }
  throw new Error('expected a failure');
}

describe('runAprFile', () => {
  it('computes the issue example (98/7/EC example 1 in the file format)', () => {
    // Measured in whole months, 1 Jan 1994 -> 1 Jul 1995 is 18/12 years: 12.92%.
    expect(runAprFile(JSON.stringify(ISSUE_EXAMPLE)).apr).toBe(12.92);
    // Measured in days (546/365), as the directive's annex did: the published 12.96%.
    const byDays = runAprFile(JSON.stringify({ ...ISSUE_EXAMPLE, unitPeriod: 'DAY' }));
    expect(byDays.apr).toBe(12.96);
    expect(byDays.convention).toBe('EU_CCD');
    expect(Object.keys(byDays)[0]).toBe('apr');
  });

  it('defaults unitPeriod to MONTH and handles Reg Z', () => {
    const r = runAprFile(
      JSON.stringify({
        convention: 'US_REGZ',
        advances: [{ amount: 100000, date: '1978-01-03' }],
        payments: [{ amount: 108000, date: '1978-09-15' }],
      }),
    );
    expect(r.apr).toBe(11.45);
    expect(r.unitPeriod).toBe('MONTH');
  });

  it('names the field that is wrong', () => {
    expect(failure('{not json').code).toBe('LG_BAD_JSON');
    expect(failure('[]').field).toBe('(root)');
    expect(failure(JSON.stringify({ ...ISSUE_EXAMPLE, convention: 'UK' })).field).toBe('convention');
    expect(failure(JSON.stringify({ ...ISSUE_EXAMPLE, unitPeriod: 'FORTNIGHT' })).field).toBe('unitPeriod');
    expect(failure(JSON.stringify({ ...ISSUE_EXAMPLE, extra: 1 })).field).toBe('extra');
    expect(failure(JSON.stringify({ ...ISSUE_EXAMPLE, advances: [] })).field).toBe('advances');
    expect(
      failure(JSON.stringify({ ...ISSUE_EXAMPLE, payments: [{ amount: 1.5, date: '1995-07-01' }] })).field,
    ).toBe('payments[0].amount');
    expect(
      failure(JSON.stringify({ ...ISSUE_EXAMPLE, payments: [{ amount: '100', date: '1995-07-01' }] })).field,
    ).toBe('payments[0].amount');
    expect(
      failure(JSON.stringify({ ...ISSUE_EXAMPLE, payments: [{ amount: 100, date: 19950701 }] })).field,
    ).toBe('payments[0].date');
    expect(
      failure(JSON.stringify({ ...ISSUE_EXAMPLE, payments: [{ amount: 100, date: '1995-02-30' }] })).code,
    ).toBe('LG_VALIDATION');
    expect(
      failure(JSON.stringify({ ...ISSUE_EXAMPLE, payments: [{ amount: 100, date: '1995-07-01', fee: 1 }] }))
        .field,
    ).toBe('payments[0].fee');
  });
});

describe('lineguard apr (command wiring)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  async function run(
    content: string,
  ): Promise<{ out: string; err: string; code: number | string | undefined }> {
    const dir = mkdtempSync(join(tmpdir(), 'lg-apr-'));
    const file = join(dir, 'flows.json');
    writeFileSync(file, content);
    let out = '';
    let err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
    const program = new Command('lineguard').exitOverride();
    registerAprCommand(program);
    await program.parseAsync(['apr', '--file', file, '--json'], { from: 'user' });
    const code = process.exitCode;
    vi.restoreAllMocks();
    return { out, err, code };
  }

  it('prints {"apr": ...} and exits 0', async () => {
    const r = await run(JSON.stringify({ ...ISSUE_EXAMPLE, unitPeriod: 'DAY' }));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ apr: 12.96, convention: 'EU_CCD' });
  });

  it('exits 2 naming the field on invalid input', async () => {
    const r = await run(JSON.stringify({ ...ISSUE_EXAMPLE, payments: [{ amount: -1, date: '1995-07-01' }] }));
    expect(r.code).toBe(2);
    expect(r.err).toContain('payments[0].amount');
  });

  it('exits 1 when no APR exists', async () => {
    const r = await run(
      JSON.stringify({ ...ISSUE_EXAMPLE, payments: [{ amount: 100000, date: '1994-01-01' }] }),
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain('LG_APR_NO_SOLUTION');
  });
});
