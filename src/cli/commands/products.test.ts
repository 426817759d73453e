import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CoreServices } from '../../core/index.js';
import { registerProductsCommand } from './products.js';

const TERMS = {
  name: 'Daily',
  currency: 'CNY',
  rateMin: 0.05,
  rateMax: 0.1825,
  dayCount: 'ACT_365',
  termsMonths: [12],
  methods: ['DAILY_INTEREST'],
  amountMinMinor: 100,
  amountMaxMinor: 1_000_000,
};

function program(core: Partial<CoreServices>) {
  const p = new Command('lineguard').exitOverride();
  registerProductsCommand(p, async () => ({ core: core as CoreServices, close: async () => undefined }));
  return p;
}

function file(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'lg-product-')), 'terms.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe('lineguard products', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it('creates a product from a file, with the defaults a client may leave out', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const createProduct = vi.fn(async (input: Parameters<CoreServices['createProduct']>[0]) => ({
      id: input.id,
      version: 1,
      status: 'ACTIVE',
      terms: input.terms,
      createdBy: 'cli',
      createdAt: '2025-03-01T00:00:00.000Z',
    }));
    await program({ createProduct }).parseAsync([
      'node',
      'lg',
      'products',
      'create',
      'daily',
      '--file',
      file(TERMS),
    ]);
    expect(process.exitCode).toBe(0);
    expect(createProduct.mock.calls[0]?.[0].terms).toMatchObject({
      penaltyMultiplier: 1.5,
      aprCapPercent: 24,
    });
  });

  it('refuses a bad file with exit 2 and never calls the core', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const createProduct = vi.fn();
    for (const bad of [
      { ...TERMS, rateMax: 0.5 },
      { ...TERMS, methods: 'DAILY_INTEREST' },
      { ...TERMS, extra: 1 },
      'x',
    ]) {
      process.exitCode = undefined;
      await program({ createProduct }).parseAsync([
        'node',
        'lg',
        'products',
        'create',
        'd',
        '--file',
        file(bad),
      ]);
      expect(process.exitCode).toBe(2);
    }
    expect(createProduct).not.toHaveBeenCalled();
  });
});
