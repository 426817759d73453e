import { CompiledQuery, PostgresAdapter, sql, type Insertable, type Kysely } from 'kysely';
import { appendToLedger, appendToLedgerSync, type LedgerAppend } from '../compliance/index.js';
import { canonicalJson, instantAfter } from '../domain/index.js';
import type {
  BookedLoan,
  CoreWrites,
  DrawRecord,
  DrawUnit,
  IdempotencyClaim,
  LineDebit,
  OutboxEvent,
  RecordedResponse,
  StoredLoan,
} from '../core/index.js';
import type { CoreTables } from './core-tables.js';
import type { Database } from './schema.js';
import { insertRows, runShaped, shapedText } from './shaped.js';
import type { DbTx, Store } from './store-types.js';
import type { SyncSql } from './sync.js';
import { bookShareInTx, bookShareSync } from './lending.js';
import { claimKeyInTx, claimKeySync, claimRow } from './idempotency-claim.js';
import { appendParams, appendSql, appendedInStatement, chainToReserve } from './ledger-chain.js';
import { keyPairsOf, type ListKeyPair } from '../monitor/index.js';
import { insertDecision } from './engine.js';
import { unitRefusal } from './faults.js';
import { COMMITS_ITS_TRANSACTION } from './prepared.js';
import { listedOnParams, listedOnSubquery, listsOfBits } from './monitor-lists.js';
import type { UnitGuard } from '../domain/index.js';

/**
 * The core's draw unit (core/ports.ts DrawUnit) on both engines. What a draw writes is described once, by the core's
 * plan (CoreWrites, in domain terms); the rows are made here, once, and written by one of two writers that differ
 * only in how a statement runs: synchronously on prepared statements (embedded SQLite, the hot path: no Kysely, one
 * turn of the event loop) or through Kysely (PostgreSQL, and SQLite without its synchronous face).
 */

type LineRow = CoreTables['credit_lines'];
type LoanRow = CoreTables['loans'];
type InstallmentRow = CoreTables['loan_installments'];
type DrawRow = CoreTables['draws'];
type OutboxRow = Insertable<Database['outbox']>;
type Planned = { readonly writes: CoreWrites };

/** The rows of a unit's writes, in the order they are written. */
interface UnitRows {
  readonly loan?: LoanRow;
  readonly installments: InstallmentRow[];
  readonly draw?: DrawRow;
  readonly outbox: OutboxRow[];
}

export function loanRow(loan: BookedLoan): LoanRow {
  return {
    id: loan.id,
    line_id: loan.lineId,
    borrower_id: loan.borrowerId,
    draw_id: loan.drawId,
    status: 'ACTIVE',
    // Aged by the daily job from its first run (core/jobs.ts).
    aged_for: null,
    currency: loan.currency,
    principal_minor: loan.principalMinor,
    outstanding_principal_minor: loan.principalMinor,
    annual_rate: loan.annualRate,
    term_months: loan.termMonths,
    method: loan.method,
    start_date: loan.startDate,
    upfront_fee_minor: loan.upfrontFeeMinor,
    periodic_fee_minor: loan.periodicFeeMinor,
    apr_us_regz: loan.apr.US_REGZ,
    apr_eu_ccd: loan.apr.EU_CCD,
    apr_cn_irr: loan.apr.CN_IRR,
    total_interest_minor: loan.totalInterestMinor,
    total_fees_minor: loan.totalFeesMinor,
    total_repayable_minor: loan.totalRepayableMinor,
    dpd: 0,
    bucket: loan.bucket,
    created_at: loan.createdAt,
    settled_at: null,
    product_id: loan.product.productId,
    product_version: loan.product.productVersion,
    terms: loan.product.terms,
    interest_through: loan.product.interestThrough,
    interest_unpaid_minor: loan.product.interestUnpaidMinor,
    penalty_through: loan.product.penaltyThrough,
    penalty_unpaid_minor: loan.product.penaltyUnpaidMinor,
    purpose: loan.product.purpose,
    quote_id: loan.product.quoteId,
  };
}

export function installmentRows(loan: BookedLoan): InstallmentRow[] {
  return loan.installments.map((i) => ({
    loan_id: loan.id,
    period: i.period,
    due_date: i.dueDate,
    principal_minor: i.principalMinor,
    interest_minor: i.interestMinor,
    fee_minor: i.feeMinor,
    paid_principal_minor: 0,
    paid_interest_minor: 0,
    paid_fee_minor: 0,
    settled_at: null,
    late_fee_minor: 0,
  }));
}

function drawRow(draw: DrawRecord): DrawRow {
  return {
    id: draw.id,
    line_id: draw.lineId,
    borrower_id: draw.borrowerId,
    decision_id: draw.decisionId,
    status: draw.status,
    amount_minor: draw.amountMinor,
    currency: draw.currency,
    term_months: draw.termMonths,
    method: draw.method,
    purpose: draw.purpose ?? null,
    // Sealed together in `origin` (compliance/sealed-draws.ts); the clear columns are for draws stored before.
    device_id: null,
    ip: null,
    payee_id: null,
    origin: draw.origin ?? null,
    quote_id: draw.quoteId ?? null,
    reasons: JSON.stringify(draw.reasons),
    loan_id: draw.loanId,
    created_at: draw.createdAt,
  };
}

export function outboxRow(event: OutboxEvent): OutboxRow {
  return {
    id: event.id,
    topic: event.topic,
    payload: canonicalJson(event.payload),
    created_at: event.at,
    published_at: null,
  };
}

function unitRows(writes: CoreWrites): UnitRows {
  const loan = writes.loan;
  return {
    ...(loan ? { loan: loanRow(loan) } : {}),
    installments: loan ? installmentRows(loan) : [],
    ...(writes.draw ? { draw: drawRow(writes.draw) } : {}),
    outbox: writes.outbox.map(outboxRow),
  };
}

function ledgerOf(writes: CoreWrites) {
  return writes.decision ? [writes.decision.ledger, ...writes.ledger] : writes.ledger;
}

function storedOf(rows: UnitRows): StoredLoan | undefined {
  return rows.loan ? { loan: rows.loan, installments: rows.installments } : undefined;
}

function debitParams(debit: LineDebit): unknown[] {
  return [debit.amountMinor, debit.amountMinor, debit.at, debit.lineId, 'ACTIVE', debit.amountMinor];
}

// ---- the synchronous writer (embedded SQLite, prepared statements) ----

const FIND_LINE_SQL = 'select * from "credit_lines" where "id" = ?';
const VELOCITY_SQL =
  'select "created_at" from "loans" where "line_id" = ? and "created_at" > ? order by "created_at" desc limit ?';
const DEBIT_SQL =
  'update "credit_lines" set "available_minor" = available_minor - ?, "outstanding_minor" = outstanding_minor + ?, "updated_at" = ? where "id" = ? and "status" = ? and "available_minor" >= ?';

/** writeUnit (below) for a synchronous unit: the same writes in the same order, on prepared statements. */
function writeUnitSync(db: SyncSql, writes: CoreWrites, refused: (debit: LineDebit) => Error): UnitRows {
  if (writes.debit && db.run(DEBIT_SQL, debitParams(writes.debit)) !== 1) throw refused(writes.debit);
  const rows = unitRows(writes);
  if (rows.loan) {
    db.insert('loans', [rows.loan]);
    db.insert('loan_installments', rows.installments);
  }
  if (writes.decision) db.insert('decisions', [writes.decision.row]);
  if (rows.draw) db.insert('draws', [rows.draw]);
  appendToLedgerSync(db, ledgerOf(writes));
  if (rows.outbox.length > 0) db.insert('outbox', rows.outbox);
  return rows;
}

function runDrawSync<P extends Planned>(db: SyncSql, kysely: Kysely<Database>, unit: DrawUnit<P>) {
  const asked = { withOpenAlerts: unit.readOpenAlerts === true, lists: listLookupOf(unit) };
  // The line, the borrower's open alerts and the lists the draw's keys are on: readLineForDraw's one statement.
  const read = lineForDraw(kysely, 'sqlite', unit.lineId, asked);
  const row = db.get<LineReadRow>(shapedText(kysely, read.shape, read.build, read.params), read.params);
  if (!row) throw unit.notFound();
  const { line, lastDrawAt, ...reads } = lineDrawReadsOf(row, asked);
  if (unit.bookShare) unit.bookShare.check(bookShareSync(db, unit.bookShare.partnerId));
  // The single writer runs units one after another; the time is taken when this one runs, not when it was queued,
  // and after the line's newest draw (instantAfter).
  const now = instantAfter(unit.now(), lastDrawAt);
  const recent = unit.velocity
    ? db.all<{ created_at: number }>(VELOCITY_SQL, [
        unit.lineId,
        now - unit.velocity.windowMs,
        unit.velocity.countMax,
      ])
    : [];
  const plan = unit.plan({
    line,
    recentDrawTimes: recent.map((r) => Number(r.created_at)),
    now,
    ...reads,
  });
  const rows = writeUnitSync(db, plan.writes, (debit) =>
    unit.refused(db.get<LineRow>(FIND_LINE_SQL, [unit.lineId]) ?? line, debit),
  );
  const stored = storedOf(rows);
  claimKeySync(db, unit.guard, unit.respond && (() => unit.respond?.(plan, stored)));
  return { plan, stored };
}

// ---- the Kysely writer (PostgreSQL; SQLite without its synchronous face) ----

/** The (type, key) pairs a unit's list keys ask for; undefined when it gave none. */
function listLookupOf<P extends Planned>(
  unit: DrawUnit<P>,
): { readonly pairs: ListKeyPair[]; readonly at: number } | undefined {
  const pairs = unit.lists ? keyPairsOf(unit.lists.probes) : [];
  return unit.lists && pairs.length > 0 ? { pairs, at: unit.lists.at } : undefined;
}

async function findLineForUpdate(tx: DbTx, store: Store, lineId: string): Promise<LineRow | undefined> {
  return (await readLineForDraw(tx, store, lineId, { withOpenAlerts: false }))?.line;
}

interface LineDrawReads {
  readonly line: LineRow;
  /** When the line's newest draw was created (any outcome): a draw's time is taken after it. */
  readonly lastDrawAt: number | null;
  readonly openAlerts?: number;
  readonly listedOn?: ReturnType<typeof listsOfBits>;
}

/**
 * The line, locked on PostgreSQL (draws on a line take turns), and when asked, in the same statement, the borrower's
 * open monitor alerts and the lists the draw's keys are on. Every draw runs it: its compiled SQL is reused (shaped.ts).
 */
async function readLineForDraw(
  tx: DbTx,
  store: Store,
  lineId: string,
  asked: LineReadsAsked,
): Promise<LineDrawReads | undefined> {
  const read = lineForDraw(tx, store.kind, lineId, asked);
  const result = await runShaped(tx, read.shape, read.build, read.params);
  const row = result.rows[0] as LineReadRow | undefined;
  return row ? lineDrawReadsOf(row, asked) : undefined;
}

/** What a draw's line read is asked besides the line. */
interface LineReadsAsked {
  readonly withOpenAlerts: boolean;
  readonly lists?: { readonly pairs: readonly ListKeyPair[]; readonly at: number } | undefined;
}

/** The line read's statement (locked on PostgreSQL), its shape key and its parameters in the order Kysely binds them. */
function lineForDraw(db: Kysely<Database>, kind: Store['kind'], lineId: string, asked: LineReadsAsked) {
  const { withOpenAlerts, lists } = asked;
  const locked = kind === 'postgres';
  const build = () => {
    const query = db
      .selectFrom('credit_lines')
      .selectAll('credit_lines')
      .select((eb) =>
        eb
          .selectFrom('draws')
          .select((d) => d.fn.max('draws.created_at').as('t'))
          .whereRef('draws.line_id', '=', 'credit_lines.id')
          .as('last_draw_at'),
      )
      .$if(withOpenAlerts, (q) =>
        q.select((eb) =>
          eb
            .selectFrom('monitor_alerts')
            .select((a) => a.fn.countAll<number>().as('n'))
            .whereRef('monitor_alerts.user_id', '=', 'credit_lines.borrower_id')
            .where('monitor_alerts.status', '=', 'OPEN')
            .as('open_alerts'),
        ),
      )
      .$if(lists !== undefined, (q) =>
        q.select(listedOnSubquery(lists?.pairs ?? [], lists?.at ?? 0).as('listed_on')),
      )
      .where('credit_lines.id', '=', lineId);
    return locked ? query.forUpdate('credit_lines') : query;
  };
  return {
    shape: `findLine ${kind} ${locked} ${withOpenAlerts} ${lists?.pairs.length ?? 0}`,
    build,
    params: [
      ...(withOpenAlerts ? ['OPEN'] : []),
      ...(lists ? listedOnParams(lists.pairs, lists.at) : []),
      lineId,
    ],
  };
}

/** The line's row as readLineForDraw's statement returns it: the line's columns and what else it was asked. */
type LineReadRow = LineRow & {
  last_draw_at?: number | string | null;
  open_alerts?: number | string | null;
  listed_on?: number | string | null;
};

function lineDrawReadsOf(row: LineReadRow, asked: LineReadsAsked): LineDrawReads {
  const { last_draw_at: lastDrawAt, open_alerts: openAlerts, listed_on: listedOn, ...line } = row;
  return {
    line,
    lastDrawAt: lastDrawAt === null || lastDrawAt === undefined ? null : Number(lastDrawAt),
    ...(asked.withOpenAlerts ? { openAlerts: Number(openAlerts ?? 0) } : {}),
    ...(asked.lists ? { listedOn: listsOfBits(listedOn) } : {}),
  };
}

/**
 * When the line's recent draws disbursed, newest first: its loans' creation times. A loan is created when the money
 * leaves, so a held draw counts from its release, not from when it was asked for (its draw row keeps that time).
 */
async function recentDrawTimes(tx: DbTx, lineId: string, since: number, countMax: number) {
  const rows = await tx
    .selectFrom('loans')
    .select('created_at')
    .where('line_id', '=', lineId)
    .where('created_at', '>', since)
    .orderBy('created_at', 'desc')
    .limit(countMax)
    .execute();
  return rows.map((r) => Number(r.created_at));
}

async function debitLine(tx: DbTx, debit: LineDebit): Promise<boolean> {
  const amount = debit.amountMinor;
  const debited = await runShaped(
    tx,
    'draw debit',
    () =>
      tx
        .updateTable('credit_lines')
        .set({
          available_minor: sql<number>`available_minor - ${amount}`,
          outstanding_minor: sql<number>`outstanding_minor + ${amount}`,
          updated_at: debit.at,
        })
        .where('id', '=', debit.lineId)
        .where('status', '=', 'ACTIVE')
        .where('available_minor', '>=', amount),
    debitParams(debit),
  );
  return Number(debited.numAffectedRows ?? 0) === 1;
}

/** How writeUnit finishes its transaction. */
export interface UnitEnd {
  readonly guard?: UnitGuard;
  /** The response stored with the idempotency key, when the unit can say it. */
  readonly respond?: (rows: UnitRows) => RecordedResponse | undefined;
  /**
   * Nothing follows the unit in its transaction: on PostgreSQL its statement may then be sent with the COMMIT
   * behind it (prepared.ts), a round trip fewer; the transaction is over when writeUnit returns.
   */
  readonly endsTransaction?: boolean;
}

/**
 * Writes a unit's writes in an open transaction: the conditional debit first (a refused debit throws before anything
 * is written), then the rows, the ledger entries (the decision's first) and the outbox rows. On PostgreSQL the debit,
 * the rows, the outbox rows, the caller's idempotency claim and (when the transaction holds no chain head yet) the
 * ledger entries go in one statement (writeRowsPostgres); a refused debit or a claim taken elsewhere throws, and the
 * transaction rolls back what it wrote.
 */
export async function writeUnit(
  tx: DbTx,
  writes: CoreWrites,
  refused: (debit: LineDebit) => Promise<Error>,
  end: UnitEnd = {},
): Promise<UnitRows> {
  const { guard, respond } = end;
  const claim = guard?.idempotency;
  if (tx.getExecutor().adapter instanceof PostgresAdapter) {
    const rows = unitRows(writes);
    const pending = claim?.pending() ? claim : undefined;
    const response = pending && respond ? respond(rows) : undefined;
    const ledger = ledgerOf(writes);
    // The ledger entries ride on the same statement when this transaction holds no chain head yet (one head per
    // transaction): one round trip fewer per unit.
    const chain = chainToReserve(tx, ledger);
    const append = chain === undefined ? undefined : { chain, entries: ledger };
    const written = await writeRowsPostgres(tx, {
      debit: writes.debit,
      parts: rowParts(writes, rows),
      claim: pending && { claim: pending, response },
      append,
      // Only when the statement writes everything: ledger entries appended after it would be outside the COMMIT.
      commits: end.endsTransaction === true && (append !== undefined || ledger.length === 0),
    });
    if (writes.debit && !written.debited) throw await refused(writes.debit);
    pending?.claimed(written.claimed, response);
    if (append) appendedInStatement(tx, append.chain, written.ledgerHead ?? {});
    else await appendToLedger(tx, ledger);
    return rows;
  }
  if (writes.debit && !(await debitLine(tx, writes.debit))) throw await refused(writes.debit);
  const rows = unitRows(writes);
  if (rows.loan) {
    await insertRows(tx, 'loans', [rows.loan]);
    await insertRows(tx, 'loan_installments', rows.installments);
  }
  if (writes.decision) await insertDecision(tx, writes.decision.row);
  if (rows.draw) await insertRows(tx, 'draws', [rows.draw]);
  await appendToLedger(tx, ledgerOf(writes));
  if (rows.outbox.length > 0) await insertRows(tx, 'outbox', rows.outbox);
  await claimKeyInTx(tx, guard, respond && (() => respond(rows)));
  return rows;
}

// ---- PostgreSQL: a unit's rows in one statement ----

interface RowPart {
  readonly table: string;
  readonly rows: readonly object[];
}

function rowParts(writes: CoreWrites, rows: UnitRows): RowPart[] {
  const parts: RowPart[] = [];
  if (rows.loan)
    parts.push(
      { table: 'loans', rows: [rows.loan] },
      { table: 'loan_installments', rows: rows.installments },
    );
  if (writes.decision) parts.push({ table: 'decisions', rows: [writes.decision.row] });
  if (rows.draw) parts.push({ table: 'draws', rows: [rows.draw] });
  if (rows.outbox.length > 0) parts.push({ table: 'outbox', rows: rows.outbox });
  return parts.filter((p) => p.rows.length > 0);
}

/** The SQL of each statement shape (tables, columns, row counts, debit, claim); values are always bound. */
const combinedTexts = new Map<string, string>();
const COMBINED_TEXTS_MAX = 256;

const DEBIT_PG =
  'update "credit_lines" set "available_minor" = available_minor - $1, "outstanding_minor" = outstanding_minor + $2, ' +
  '"updated_at" = $3 where "id" = $4 and "status" = $5 and "available_minor" >= $6 returning 1';

/** What one unit statement does (writeRowsPostgres). */
interface UnitStatement {
  readonly debit: LineDebit | undefined;
  readonly parts: readonly RowPart[];
  /** The idempotency key, and the response stored with it when the unit could say it. */
  readonly claim: { readonly claim: IdempotencyClaim; readonly response?: RecordedResponse } | undefined;
  /** Append these ledger entries to this chain (store/ledger-chain.ts appendSql). */
  readonly append: { readonly chain: number; readonly entries: readonly LedgerAppend[] } | undefined;
  /**
   * The statement ends the transaction: it is sent with the COMMIT behind it (COMMITS_ITS_TRANSACTION), so instead
   * of answering a debit or claim that did not take it fails (lineguard_unit_refused), which rolls it all back.
   */
  readonly commits: boolean;
}

interface LedgerHeadRow {
  readonly ledger_length?: number | string | null;
  readonly ledger_hash?: string | null;
}

interface UnitStatementResult {
  readonly debited: boolean;
  readonly claimed: boolean;
  /** The chain's head after the append, when the statement appended. */
  readonly ledgerHead?: LedgerHeadRow;
}

/**
 * The conditional debit, every row insert, the idempotency claim and the ledger head's lock of a unit as ONE statement
 * (data-modifying WITH clauses): each statement of a unit is a round trip to PostgreSQL, and the socket writes and
 * reads of a round trip cost more of a draw's CPU than anything LineGuard computes. PostgreSQL runs every
 * data-modifying WITH clause exactly once, referenced or not; the statement answers how many rows the debit changed,
 * whether the claim row was inserted and the head and seqs reserved, so the caller refuses exactly as it did
 * statement by statement. Every row of a table must have the same keys in the same order, none undefined (as on the
 * synchronous writer).
 */
async function writeRowsPostgres(tx: DbTx, unit: UnitStatement): Promise<UnitStatementResult> {
  const { debit, parts, claim, append } = unit;
  const params: unknown[] = debit ? debitParams(debit) : [];
  const shapes: string[] = [
    debit ? 'debit' : 'no debit',
    `ledger x${append?.entries.length ?? 0}`,
    unit.commits ? 'commits' : 'open',
  ];
  const columnsOf: string[][] = [];
  const all = claim
    ? [...parts, { table: 'idempotency_keys', rows: [claimRow(claim.claim, claim.response)] }]
    : parts;
  for (const part of all) {
    const columns = Object.keys(part.rows[0]!);
    columnsOf.push(columns);
    for (const row of part.rows) pushRowParams(params, part.table, columns, row as Record<string, unknown>);
    shapes.push(`${part.table}(${columns.join(',')})x${part.rows.length}`);
  }
  const shape = shapes.join(' ');
  let text = combinedTexts.get(shape);
  if (text === undefined) {
    text = unitStatementText(unit, all, columnsOf, params.length);
    if (combinedTexts.size >= COMBINED_TEXTS_MAX) combinedTexts.clear();
    combinedTexts.set(shape, text);
  }
  if (append) params.push(...appendParams(append.chain, append.entries));
  let row: ({ debited: number | string; claimed: number | string } & LedgerHeadRow) | undefined;
  try {
    const result = await tx.executeQuery<
      { debited: number | string; claimed: number | string } & LedgerHeadRow
    >(CompiledQuery.raw(text, params));
    row = result.rows[0];
  } catch (error) {
    const refusal = unitRefusal(error);
    if (refusal === undefined) throw error;
    // The transaction is over (rolled back): the caller refuses as it would on the counts.
    return { debited: refusal !== 'debit', claimed: refusal !== 'claim' };
  }
  return {
    debited: Number(row?.debited ?? 0) === 1,
    claimed: Number(row?.claimed ?? 0) === 1,
    ...(append ? { ledgerHead: row ?? {} } : {}),
  };
}

function pushRowParams(
  params: unknown[],
  table: string,
  columns: readonly string[],
  row: Record<string, unknown>,
) {
  if (Object.keys(row).length !== columns.length)
    throw new Error(`insert into ${table}: rows of different shapes`);
  for (const column of columns) {
    const value = row[column];
    if (value === undefined) throw new Error(`insert into ${table}: column ${column} is undefined`);
    params.push(value);
  }
}

/** The SQL of a unit statement's shape; the reservation's two parameters come after the rows' `rowParams`. */
function unitStatementText(
  unit: UnitStatement,
  all: readonly RowPart[],
  columnsOf: readonly string[][],
  rowParams: number,
): string {
  let n = unit.debit ? 6 : 0;
  const clauses: string[] = unit.debit ? [`"debit" as (${DEBIT_PG})`] : [];
  all.forEach((part, i) => {
    const columns = columnsOf[i]!;
    const tuples = part.rows.map(() => `(${columns.map(() => `$${++n}`).join(', ')})`);
    const insert = `insert into "${part.table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${tuples.join(', ')}`;
    clauses.push(
      unit.claim && i === all.length - 1
        ? `"claim" as (${insert} on conflict ("scope", "idem_key") do nothing returning 1)`
        : `"w${i}" as (${insert})`,
    );
  });
  const debited = '(select count(*) from "debit")';
  const claimed = '(select count(*) from "claim")';
  const answers = [
    `${unit.debit ? debited : '0'} as "debited"`,
    `${unit.claim ? claimed : '0'} as "claimed"`,
  ];
  if (unit.commits && (unit.debit || unit.claim)) {
    const took = [...(unit.debit ? [`${debited} = 1`] : []), ...(unit.claim ? [`${claimed} = 1`] : [])];
    const what = unit.debit ? `case when ${debited} = 1 then 'claim' else 'debit' end` : `'claim'`;
    answers.push(
      `case when ${took.join(' and ')} then 0 else lineguard_unit_refused(${what}) end as "refused"`,
    );
  }
  if (unit.append) {
    const appended = appendSql(rowParams + 1, unit.append.entries.length);
    clauses.push(...appended.withClauses);
    answers.push(appended.columns);
  }
  const statement = `${clauses.length > 0 ? `with ${clauses.join(', ')} ` : ''}select ${answers.join(', ')}`;
  return unit.commits ? COMMITS_ITS_TRANSACTION + statement : statement;
}

async function runDrawAsync<P extends Planned>(tx: DbTx, store: Store, unit: DrawUnit<P>) {
  const read = await readLineForDraw(tx, store, unit.lineId, {
    withOpenAlerts: unit.readOpenAlerts === true,
    lists: listLookupOf(unit),
  });
  if (!read) throw unit.notFound();
  const { line, lastDrawAt, openAlerts, listedOn } = read;
  if (unit.bookShare) unit.bookShare.check(await bookShareInTx(tx, store.kind, unit.bookShare.partnerId));
  // Taken after the lock: the facts the decision reads are those every earlier draw on the line left behind; and
  // after the newest of those draws, whatever this process's clock says (instantAfter).
  const now = instantAfter(unit.now(), lastDrawAt);
  const recent = unit.velocity
    ? await recentDrawTimes(tx, unit.lineId, now - unit.velocity.windowMs, unit.velocity.countMax)
    : [];
  const plan = unit.plan({
    line,
    recentDrawTimes: recent,
    now,
    ...(openAlerts === undefined ? {} : { openAlerts }),
    ...(listedOn === undefined ? {} : { listedOn }),
  });
  const rows = await writeUnit(
    tx,
    plan.writes,
    // After a refusal sent with its COMMIT the transaction is over: the line is then read as it stands.
    async (debit) => unit.refused((await findLineForUpdate(tx, store, unit.lineId)) ?? line, debit),
    {
      ...(unit.guard ? { guard: unit.guard } : {}),
      ...(unit.respond ? { respond: (written: UnitRows) => unit.respond?.(plan, storedOf(written)) } : {}),
      endsTransaction: true,
    },
  );
  return { plan, stored: storedOf(rows) };
}

/** Runs a draw unit on whichever engine the store offers: synchronous SQLite when it can, Kysely otherwise. */
export function runDraw<P extends Planned>(
  store: Store,
  unit: DrawUnit<P>,
): Promise<{ readonly plan: P; readonly stored?: StoredLoan }> {
  const sync = store.sync;
  return sync
    ? sync.transaction((db) => runDrawSync(db, store.db, unit))
    : store.transaction((tx) => runDrawAsync(tx, store, unit));
}
