import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  APR_CONVENTIONS,
  UNIT_PERIODS,
  computeApr,
  type AprConvention,
  type AprInput,
  type AprResult,
  type CashFlow,
  type UnitPeriod,
} from '../../domain/index.js';
import { LgError, isLgError } from '../../domain/index.js';
import { EXIT, printJson, runAction } from '../exit.js';

/** Cash-flow files are small; refuse anything that is clearly not one. */
export const APR_FILE_BYTES_MAX = 1_000_000;
const FLOWS_MAX = 10_000;
const KEYS = ['convention', 'unitPeriod', 'advances', 'payments'];

function fieldError(field: string, problem: string): LgError {
  return new LgError('LG_VALIDATION', `${field} ${problem}`, { field });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseFlows(value: unknown, field: 'advances' | 'payments'): CashFlow[] {
  if (!Array.isArray(value) || value.length === 0) throw fieldError(field, 'must be a non-empty array');
  if (value.length > FLOWS_MAX) throw fieldError(field, `must have at most ${FLOWS_MAX} entries`);
  return value.map((flow: unknown, index) => {
    const at = `${field}[${index}]`;
    if (!isRecord(flow)) throw fieldError(at, 'must be an object {"amount", "date"}');
    const extra = Object.keys(flow).filter((k) => k !== 'amount' && k !== 'date');
    if (extra.length > 0) throw fieldError(`${at}.${extra[0] ?? ''}`, 'is not a known field (amount, date)');
    const { amount, date } = flow;
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
      throw fieldError(`${at}.amount`, 'must be a positive integer in minor units (cents, fen)');
    }
    if (typeof date !== 'string') throw fieldError(`${at}.date`, 'must be a date string YYYY-MM-DD');
    return { amount, date };
  });
}

/** Parses and validates a cash-flow file's text (the edge: every problem names its field). */
export function parseAprFile(text: string): AprInput {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new LgError(
      'LG_BAD_JSON',
      `the file is not valid JSON: ${error instanceof Error ? error.message : ''}`,
    );
  }
  if (!isRecord(data)) throw fieldError('(root)', 'must be a JSON object');
  const unknown = Object.keys(data).filter((k) => !KEYS.includes(k));
  if (unknown.length > 0) throw fieldError(unknown[0] ?? '', `is not a known field (${KEYS.join(', ')})`);
  const { convention, unitPeriod } = data;
  if (typeof convention !== 'string' || !(APR_CONVENTIONS as readonly string[]).includes(convention)) {
    throw fieldError('convention', `must be one of ${APR_CONVENTIONS.join(', ')}`);
  }
  if (
    unitPeriod !== undefined &&
    (typeof unitPeriod !== 'string' || !(UNIT_PERIODS as readonly string[]).includes(unitPeriod))
  ) {
    throw fieldError('unitPeriod', `must be one of ${UNIT_PERIODS.join(', ')}`);
  }
  return {
    convention: convention as AprConvention,
    ...(unitPeriod === undefined ? {} : { unitPeriod: unitPeriod as UnitPeriod }),
    advances: parseFlows(data.advances, 'advances'),
    payments: parseFlows(data.payments, 'payments'),
  };
}

/** The command's pure core: file text in, APR out (throws LgError on bad input or no solution). */
export function runAprFile(text: string): AprResult {
  return computeApr(parseAprFile(text));
}

export function registerAprCommand(program: Command): void {
  program
    .command('apr')
    .description(
      'annualised cost of a cash-flow file: {"convention":"US_REGZ|EU_CCD|CN_IRR","unitPeriod":"MONTH",' +
        '"advances":[{"amount":100000,"date":"1994-01-01"}],"payments":[{"amount":120000,"date":"1995-07-01"}]} ' +
        '(amounts in minor units). Prints {"apr": <percent>, ...}. Exit 2 on invalid input, 1 when no APR exists.',
    )
    .requiredOption('--file <path>', 'cash-flow JSON file')
    .option('--json', 'print JSON (the default output is JSON too)')
    .action((opts: { file: string; json?: boolean }) =>
      runAction(async () => {
        const text = await readFile(opts.file, 'utf8');
        if (Buffer.byteLength(text) > APR_FILE_BYTES_MAX) {
          throw new LgError('LG_PAYLOAD_TOO_LARGE', `the file is larger than ${APR_FILE_BYTES_MAX} bytes`);
        }
        try {
          printJson(runAprFile(text));
          return EXIT.OK;
        } catch (error) {
          // No rate solves the flows: the input was well-formed, so this is a failure, not invalid input.
          if (isLgError(error) && error.code === 'LG_APR_NO_SOLUTION') {
            process.stderr.write(`error ${error.code}: ${error.message}\n`);
            return EXIT.FAILURE;
          }
          throw error;
        }
      }),
    );
}
