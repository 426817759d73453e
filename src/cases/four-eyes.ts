import { LgError } from '../domain/index.js';
import {
  appendToLedger,
  isSealedDataUnreadable,
  openChange,
  sealChangeProposal,
  sealDecisionNote,
  type FieldCrypto,
} from '../compliance/index.js';
import type { Clock, UnitGuard } from '../domain/index.js';
import type { IdGenerator } from '../domain/index.js';
import type { CaseKeyRecord, CaseRowsPort, CaseStore, CaseTx } from './ports.js';
import type { PendingChangeRow } from './records.js';

/**
 * Four eyes (maker-checker): an operation on this list does not happen when its maker asks; it becomes a pending
 * change (who, what, why, diff) that a different person with the supervisor or admin role approves or rejects before
 * it expires. The approval applies the change through the operation's registered apply function in the same dbTx as
 * the approval and its ledger entry. The separation of duties is the Basel Committee's "four-eyes principle"
 * (BCBS 2011 operational-risk principles) and what China's banking internal-control guideline asks for key operations.
 */
export const FOUR_EYES_OPERATIONS = [
  'strategy.activate',
  'overlay.change',
  // Registering a model changes no live scoring (a strategy or an alias must name it, both four-eyes operations), so
  // it is not one: a configuration naming it is refused rather than silently checking nothing.
  'model.activate',
  'line.limit_increase',
  'line.lift_fraud_restriction',
  // A person's raise of a line's rate: what the borrower pays on every new draw goes up on one word otherwise.
  'line.rate_change',
  'draw.release',
  'list.add',
  'list.remove',
  'api_key.create_admin',
] as const;
export type FourEyesOperation = (typeof FOUR_EYES_OPERATIONS)[number];

/** Who may check a change: a supervisor or an admin (the approve and reject routes' roles, CHECKERS). */
const SUPERVISORS_AND_ADMINS: readonly string[] = ['supervisor', 'admin'];

/**
 * The roles whose holder may approve or reject each operation's change. An admin's key carries the power to make
 * users and issue keys, so it waits for a second admin (POST /v1/keys): a supervisor is no check on it.
 */
export const CHECKER_ROLES: Readonly<Record<FourEyesOperation, readonly string[]>> = {
  'strategy.activate': SUPERVISORS_AND_ADMINS,
  'overlay.change': SUPERVISORS_AND_ADMINS,
  'model.activate': SUPERVISORS_AND_ADMINS,
  'line.limit_increase': SUPERVISORS_AND_ADMINS,
  'line.lift_fraud_restriction': SUPERVISORS_AND_ADMINS,
  'line.rate_change': SUPERVISORS_AND_ADMINS,
  'draw.release': SUPERVISORS_AND_ADMINS,
  'list.add': SUPERVISORS_AND_ADMINS,
  'list.remove': SUPERVISORS_AND_ADMINS,
  'api_key.create_admin': ['admin'],
};

/** The roles that may check a stored change's operation (an operation no longer listed: supervisors and admins). */
function checkerRolesOf(operation: string): readonly string[] {
  return Object.hasOwn(CHECKER_ROLES, operation)
    ? CHECKER_ROLES[operation as FourEyesOperation]
    : SUPERVISORS_AND_ADMINS;
}

export interface FourEyesConfig {
  /** Operations that need a second person (default: all of them). */
  readonly operations: ReadonlySet<string>;
  /** A manual limit increase to at least this limit needs a checker. */
  readonly limitIncreaseThresholdMinor: number;
  /** Releasing a held draw of at least this amount needs a checker. */
  readonly drawReleaseThresholdMinor: number;
  /**
   * A person's RATE_CHANGE that raises the line's rate by more than this many basis points needs a checker (0: any
   * raise). A cut never does: it only lowers what the borrower pays, within the product's range.
   */
  readonly rateRaiseThresholdBps: number;
  /** A pending change nobody decided within this long expires. */
  readonly ttlMs: number;
}

export const FOUR_EYES_DEFAULTS: FourEyesConfig = {
  operations: new Set(FOUR_EYES_OPERATIONS),
  limitIncreaseThresholdMinor: 5_000_000,
  drawReleaseThresholdMinor: 2_000_000,
  rateRaiseThresholdBps: 0,
  ttlMs: 3 * 24 * 3_600_000,
};

export interface ApplyContext {
  readonly changeId: string;
  readonly maker: string;
  readonly checker: string;
  readonly reason: string;
}

export interface ChangeOperation {
  /** Applies the approved change inside the approval's dbTx; a throw rolls the approval back (the change FAILS). */
  apply?(tx: CaseTx, payload: unknown, context: ApplyContext): Promise<unknown>;
  /**
   * For a module whose write runs its own unit of work (a strategy activation, a list entry): the approval commits
   * first (APPROVED, in the ledger), then this runs; its result is recorded, or the change is marked FAILED. A crash in
   * between leaves an APPROVED change without a result, which `changes list` shows.
   */
  applyAfterApproval?(payload: unknown, context: ApplyContext): Promise<unknown>;
  /** Work after commit that must not roll back the change (cache refresh, in-memory state). */
  afterCommit?(payload: unknown, result: unknown): Promise<void>;
  /**
   * The change will never apply (rejected, expired, or its approval failed): runs in the dbTx that records it, after
   * the change left PENDING there, so it runs once whichever of a rejection and an expiry wins (a case that proposed
   * it goes back to a person). `payload` is undefined when the change expired or was rejected with a proposal no held
   * key opens (`refusal.unreadable` says why; `refusal.subjectId` is what the change was about).
   */
  onRefused?(tx: CaseTx, payload: unknown, refusal: ChangeRefusal): Promise<void>;
}

/** How a change ended without applying, as its operation's onRefused hears it. */
export interface ChangeRefusal {
  readonly changeId: string;
  readonly operation: string;
  /** What the change is about (a case, a line, …), as proposed. */
  readonly subjectId: string;
  readonly maker: string;
  readonly state: 'REJECTED' | 'EXPIRED' | 'FAILED';
  /** Who rejected it, or whose approval failed (null: it expired). */
  readonly checker: string | null;
  /** The checker's note, or what the failure said. */
  readonly note: string | null;
  /**
   * The commitment to the checker's note (a rejection with one): it is sealed at rest, so a record of the refusal
   * carries this instead of the note (what a failure said is the system's words, not a person's).
   */
  readonly noteHmac?: string;
  readonly at: number;
  /** Why the proposal could not be opened (an expiry or a rejection: neither needs it); absent when it was. */
  readonly unreadable?: string;
}

export interface PendingChangeView {
  readonly id: string;
  readonly operation: string;
  readonly subjectId: string;
  readonly payload: unknown;
  readonly diff: unknown;
  /** null (with payload, diff and decisionNote) when the change is listed `unreadable`. */
  readonly reason: string | null;
  readonly maker: string;
  readonly state: string;
  readonly checker: string | null;
  readonly decidedAt: string | null;
  readonly decisionNote: string | null;
  readonly result: unknown;
  readonly expiresAt: string;
  readonly createdAt: string;
  /** Why a listed change's sealed texts are not shown: no data key held opens them. */
  readonly unreadable?: string;
}

/** `row` holds its texts as written (openChange opens a stored one: they are sealed at rest). */
export function changeView(row: PendingChangeRow): PendingChangeView {
  return {
    id: row.id,
    operation: row.operation,
    subjectId: row.subject_id,
    payload: JSON.parse(row.payload) as unknown,
    diff: JSON.parse(row.diff) as unknown,
    reason: row.reason,
    maker: row.maker,
    state: row.state,
    checker: row.checker,
    decidedAt: row.decided_at === null ? null : new Date(Number(row.decided_at)).toISOString(),
    decisionNote: row.decision_note,
    result: row.result === null ? null : (JSON.parse(row.result) as unknown),
    expiresAt: new Date(Number(row.expires_at)).toISOString(),
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}

/**
 * A change as a list shows it: opened; or, when no held key opens its texts, without them and marked `unreadable`, so
 * that a list never fails for one row, nor shows another row's texts.
 */
function listedChange(crypto: FieldCrypto, row: PendingChangeRow): PendingChangeView {
  try {
    return changeView(openChange(crypto, row));
  } catch (error) {
    if (!isSealedDataUnreadable(error)) throw error;
    const unread = { ...row, payload: 'null', diff: 'null', reason: '', decision_note: null };
    return { ...changeView(unread), reason: null, unreadable: error.message };
  }
}

function expiredError(changeId: string): LgError {
  return new LgError('LG_CHANGE_EXPIRED', 'the change expired before anyone decided it; propose it again', {
    changeId,
  });
}

/** The guard's idempotency key without its answer: for a unit whose value is not the request's answer. */
function keyAlone(guard: Pick<UnitGuard, 'idempotency'> | undefined): UnitGuard<void> | undefined {
  return guard?.idempotency ? { idempotency: guard.idempotency } : undefined;
}

/**
 * Who proposes or decides a change: the actor every record names (`user:<id>`), and the API key the request came with
 * (null: the CLI, which acts as a user with no key). Four eyes needs the key: whoever issued it was shown its secret.
 */
export interface FourEyesParty {
  readonly actor: string;
  readonly keyId: string | null;
}

export interface Proposal {
  readonly operation: FourEyesOperation;
  readonly subjectId: string;
  readonly payload: unknown;
  readonly diff: unknown;
  readonly reason: string;
  readonly maker: string;
  /** The key the maker proposed with (null: the CLI). */
  readonly makerKeyId: string | null;
}

/** Refusals of the decision, not failures of the change: it stays pending for someone else to decide. */
const KEEPS_PENDING: ReadonlySet<string> = new Set([
  'LG_CHANGE_NOT_PENDING',
  'LG_SELF_APPROVAL',
  'LG_KEY_UNOWNED',
]);

/**
 * The keys behind a decision and who issued each (as api_keys.issued_by says: null for a legacy key, its holder's own;
 * an issuer that is no person binds no one), as the independence rule read them. The decision's ledger entry records
 * them, so an auditor can re-check the rule from the ledger alone (a key's holder is its side's actor).
 */
export interface DecisionKeys {
  readonly makerKeyId: string | null;
  readonly makerKeyIssuer: string | null;
  /** The people who issued the keys the maker's key was made with (rotation), nearest first; [] for none. */
  readonly makerKeyEarlierIssuers: readonly string[];
  readonly checkerKeyId: string | null;
  readonly checkerKeyIssuer: string | null;
  readonly checkerKeyEarlierIssuers: readonly string[];
}

/**
 * One side of a decision as the independence rule reads it: its issuer (a person, or null), who issued it as recorded,
 * the people it is (actor, key holder, issuer), and the people who issued the keys its key was made with.
 */
interface DecisionSide {
  readonly issuer: string | null;
  readonly issuedBy: string | null;
  readonly people: ReadonlySet<string>;
  readonly earlier: readonly string[];
}

/** Why two sides are not independent, or undefined when they are. */
function dependence(maker: DecisionSide, decider: DecisionSide): string | undefined {
  if ([...decider.people].some((p) => maker.people.has(p)))
    return decider.issuer !== null && decider.issuer === maker.issuer
      ? "one person issued both the maker's and the checker's keys"
      : decider.issuer !== null && maker.people.has(decider.issuer)
        ? "the checker's key was issued by the maker"
        : maker.issuer !== null && decider.people.has(maker.issuer)
          ? "the maker's key was issued by the checker"
          : 'the maker and the checker are the same person';
  // A key made by rotation is no more the holder's alone than the key it was made with: whoever issued that key could
  // have rotated it. Two keys that go back to one third person are the model four-eyes-keys.test.ts keeps (each holder
  // rotated a key that person issued them); a chain that goes back to the other side is not.
  if (decider.earlier.some((p) => maker.people.has(p)))
    return "the checker's key was made with a key the maker issued";
  if (maker.earlier.some((p) => decider.people.has(p)))
    return "the maker's key was made with a key the checker issued";
  return undefined;
}

/** A person, as records name one: an issuer that is no person (a bootstrap key, the CLI) binds no one. */
const isPersonActor = (actor: string | null | undefined): actor is string =>
  actor !== null && actor !== undefined && actor.startsWith('user:');

/**
 * The issuer recorded on the installation's own key (LINEGUARD_ADMIN_KEY, or the key a development first start
 * prints): the installation's authority, outside four eyes as the CLI is, since whoever holds it can make users and
 * issue their keys. Every other key that belongs to no person is refused four eyes (LG_KEY_UNOWNED).
 */
export const INSTALLATION_ISSUER = 'installation';

/** A key as four eyes reads it: who holds it and who issued it. */
interface KeyHolder {
  readonly user_id: string | null;
  readonly issued_by: string | null;
}

/** How far back a chain of rotations is followed: far past any real one; a longer chain is refused (fail closed). */
const ROTATION_CHAIN_MAX = 1_000;

function unknownIssuerError(changeId: string, subject = 'this change'): LgError {
  return new LgError('LG_SELF_APPROVAL', `who issued a key of ${subject} is unknown; a second person must`, {
    changeId,
  });
}

/** A key that belongs to no person and is not the installation's own: it binds no one, so it takes no part. */
const isUnownedKey = (key: KeyHolder): boolean =>
  key.user_id === null && key.issued_by !== INSTALLATION_ISSUER;

function unownedKeyError(side: 'maker' | 'checker', details: Record<string, unknown>): LgError {
  const what =
    side === 'maker'
      ? 'a change that needs a second person is proposed with a key that belongs to a person'
      : 'a change is approved or rejected with a key that belongs to a person';
  return new LgError(
    'LG_KEY_UNOWNED',
    `${what}: four eyes compares people, and a key that belongs to no one binds no one (one person could hold two). ` +
      'Issue a key to a user (lineguard keys create --user <id>, POST /v1/keys) and use that.',
    details,
  );
}

/**
 * The ledger entry of an approval: who made and who checked the change, with the keys and issuers the rule read, and
 * the commitment to the checker's note (sealed in the change's row), null without one.
 */
function approvedEntry(
  row: PendingChangeRow,
  decided: { checker: string; keys: DecisionKeys; note: SealedNote | null; now: number },
) {
  return {
    entryId: `${row.id}:approved`,
    kind: 'change.approved',
    subjectId: row.id,
    recordedAt: decided.now,
    payload: {
      changeId: row.id,
      operation: row.operation,
      maker: row.maker,
      checker: decided.checker,
      ...decided.keys,
      noteHmac: decided.note?.hmac ?? null,
    },
  };
}

/** A checker's note as stored (sealed) and the commitment its decision's ledger entry carries. */
interface SealedNote {
  readonly sealed: string;
  readonly hmac: string;
}

export interface FourEyesDeps {
  readonly store: CaseStore;
  readonly rows: CaseRowsPort;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly config: FourEyesConfig;
  /** Seals what a change proposes and the checker's note at rest (compliance/sealed-case-work.ts). */
  readonly crypto: FieldCrypto;
}

export class FourEyes {
  private readonly operations = new Map<string, ChangeOperation>();

  constructor(private readonly deps: FourEyesDeps) {}

  register(name: FourEyesOperation, operation: ChangeOperation): void {
    this.operations.set(name, operation);
  }

  operation(name: FourEyesOperation): ChangeOperation | undefined {
    return this.operations.get(name);
  }

  /** True when the operation is on the configured list (and can be applied by an approval). */
  requires(name: FourEyesOperation): boolean {
    return this.deps.config.operations.has(name) && this.operations.has(name);
  }

  get config(): FourEyesConfig {
    return this.deps.config;
  }

  /**
   * Whether a maker's change waits for a checker: a person's does ('person'); the installation's own key, or an actor
   * with no key at all (the CLI names a user; jobs and automation), stays outside four eyes ('exempt'); any other key
   * that belongs to no person is refused (LG_KEY_UNOWNED) rather than let act alone. A gate asks it only once it knows
   * the operation needs a second person, so such a key still does what needs none.
   */
  async admitMaker(maker: FourEyesParty, tx?: CaseTx): Promise<'person' | 'exempt'> {
    if (isPersonActor(maker.actor)) return 'person';
    if (maker.keyId === null) return 'exempt';
    const [key] = await this.deps.rows.keyIssuers(tx ?? this.deps.store.db, [maker.keyId]);
    if (key && !isUnownedKey(key)) return 'exempt';
    throw unownedKeyError('maker', { keyId: maker.keyId });
  }

  /**
   * Records the maker's request; in the caller's dbTx when given (a case step that escalates with it, whose unit holds
   * the request's guard), else in a unit of its own whose value is the change, so that a guard that says the response
   * stores it with the key.
   */
  async propose(
    proposal: Proposal,
    tx?: CaseTx,
    guard?: UnitGuard<PendingChangeView>,
  ): Promise<PendingChangeView> {
    if (!this.operations.has(proposal.operation))
      throw new Error(`no apply function registered for ${proposal.operation}`);
    if (proposal.reason.trim().length === 0)
      throw new LgError('LG_VALIDATION', 'a change that needs a second person needs a reason');
    await this.admitMaker({ actor: proposal.maker, keyId: proposal.makerKeyId }, tx);
    const now = this.deps.clock.now();
    const id = this.deps.ids.next();
    const clear = {
      payload: JSON.stringify(proposal.payload ?? null),
      diff: JSON.stringify(proposal.diff ?? null),
      reason: proposal.reason,
    };
    const { payloadHmac, reasonHmac, ...sealed } = sealChangeProposal(this.deps.crypto, id, clear);
    const row: PendingChangeRow = {
      id,
      operation: proposal.operation,
      subject_id: proposal.subjectId,
      ...sealed,
      maker: proposal.maker,
      maker_key_id: proposal.makerKeyId,
      state: 'PENDING',
      checker: null,
      checker_key_id: null,
      decided_at: null,
      decision_note: null,
      result: null,
      expires_at: now + this.deps.config.ttlMs,
      created_at: now,
    };
    const view = changeView({ ...row, ...clear });
    const write = async (t: CaseTx): Promise<PendingChangeView> => {
      await this.deps.rows.insertPendingChange(t, row);
      await appendToLedger(t, [
        {
          entryId: `${row.id}:proposed`,
          kind: 'change.proposed',
          subjectId: row.id,
          recordedAt: now,
          payload: {
            changeId: row.id,
            operation: row.operation,
            subjectId: row.subject_id,
            // Commitments to what is proposed (payload and diff) and why, sealed in the row: never the texts.
            payloadHmac,
            reasonHmac,
            maker: row.maker,
            makerKeyId: row.maker_key_id,
          },
        },
      ]);
      return view;
    };
    return tx ? write(tx) : this.deps.store.transaction(write, guard);
  }

  async list(filter: { state?: string; limit: number; before?: string }) {
    const page = await this.deps.rows.listPendingChanges(this.deps.store.db, filter);
    return { items: page.rows.map((row) => listedChange(this.deps.crypto, row)), nextCursor: page.next };
  }

  /** Throws LG_SEALED_DATA_UNREADABLE when no held key opens the change's texts. */
  async get(id: string): Promise<PendingChangeView> {
    return this.viewOf(await this.deps.rows.findPendingChange(this.deps.store.db, this.deps.store.kind, id));
  }

  /** The stored row with its texts as written (LG_SEALED_DATA_UNREADABLE when no held key opens them). */
  private opened(row: PendingChangeRow): PendingChangeRow {
    return openChange(this.deps.crypto, row);
  }

  private viewOf(row: PendingChangeRow): PendingChangeView {
    return changeView(this.opened(row));
  }

  /** The checker's note sealed in the change's row, and its commitment; null without a note. */
  private sealNote(id: string, note: string | undefined): SealedNote | null {
    return note === undefined ? null : sealDecisionNote(this.deps.crypto, id, note);
  }

  /** The change a checker decides: still pending, not the checker's own, and not expired (expired now if due). */
  private async pendingForChecker(id: string, checker: string): Promise<PendingChangeRow> {
    // What the approval applies is what was proposed, opened: a change no held key opens is refused here
    // (LG_SEALED_DATA_UNREADABLE) and stays pending, never failed for want of a key.
    return this.opened(await this.undecidedForChecker(id, checker));
  }

  /** pendingForChecker's checks, the row as stored (its texts sealed). */
  private async undecidedForChecker(id: string, checker: string): Promise<PendingChangeRow> {
    const row = await this.deps.rows.findPendingChange(this.deps.store.db, this.deps.store.kind, id);
    if (row.state !== 'PENDING')
      throw new LgError('LG_CHANGE_NOT_PENDING', `the change is ${row.state}`, {
        changeId: id,
        state: row.state,
      });
    this.checkChecker(row, checker);
    await this.checkCheckerRole(row, checker);
    await this.expireIfDue(row);
    return row;
  }

  /** The checker's role must be one the change's operation allows (CHECKER_ROLES): 403 LG_FORBIDDEN otherwise. */
  private async checkCheckerRole(row: PendingChangeRow, checker: string): Promise<void> {
    const checkerRoles = checkerRolesOf(row.operation);
    // The person's role, not the key's: the CLI decides as a user with no key.
    const user = await this.deps.rows.userById(this.deps.store.db, checker.slice('user:'.length));
    if (user && checkerRoles.includes(user.role)) return;
    throw new LgError(
      'LG_FORBIDDEN',
      `a change of ${row.operation} is approved or rejected by a person with the role ${checkerRoles.join(' or ')}`,
      { changeId: row.id, operation: row.operation, checkerRoles },
    );
  }

  /**
   * The change a checker rejects, opened; or, when no held key opens its proposal, as stored with why: a rejection
   * applies nothing, so a checker may refuse what nobody can read rather than leave it pending until it expires.
   */
  private async rejectable(
    id: string,
    checker: string,
  ): Promise<{ row: PendingChangeRow; unreadable?: string }> {
    const row = await this.undecidedForChecker(id, checker);
    try {
      return { row: this.opened(row) };
    } catch (error) {
      if (!isSealedDataUnreadable(error)) throw error;
      return { row, unreadable: error.message };
    }
  }

  /** A checker must be a known person: an unowned key cannot prove it is not the maker's other key (LG_KEY_UNOWNED). */
  private checkChecker(row: PendingChangeRow, checker: string): void {
    if (!isPersonActor(checker)) throw unownedKeyError('checker', { changeId: row.id });
    if (checker === row.maker)
      throw new LgError(
        'LG_SELF_APPROVAL',
        'the maker of a change cannot approve or reject it; a second person must',
        {
          changeId: row.id,
        },
      );
  }

  /**
   * Whoever was shown a key's secret could have acted with it: an admin who issued a supervisor's key could approve
   * their own change with it. The people who could have made the change are its maker and whoever issued the maker's
   * key; those who could be deciding it are the checker and whoever issued the checker's key. The two must not meet.
   * A key a user made themselves (POST /v1/session/keys) was made with a key they held, so whoever issued that one
   * (and so on back) could have made it: neither side may go back so to the other. A key with no issuer (one made
   * before migration 502) counts as its holder's own; an issuer that is no person (the installation's key, the CLI)
   * binds no one. A change whose maker's key belongs to no person is never approved (LG_KEY_UNOWNED): nobody can be
   * told apart from its maker. Read in the decision's dbTx; returns the keys and issuers it read, for the decision's
   * records.
   */
  private async checkIndependent(
    tx: CaseTx,
    row: PendingChangeRow,
    checker: FourEyesParty,
    decision: 'approve' | 'reject',
  ): Promise<DecisionKeys> {
    const ids = [row.maker_key_id, checker.keyId].filter((id): id is string => id !== null);
    const keys = new Map((await this.deps.rows.keyIssuers(tx, ids)).map((k) => [k.id, k]));
    // A change proposed with a key that belongs to no one (before such keys were refused a proposal) names no maker a
    // checker can be told apart from: it is never approved. Rejecting it applies nothing, so a person may clear it.
    const makerKey = row.maker_key_id === null ? undefined : keys.get(row.maker_key_id);
    if (decision === 'approve' && makerKey && isUnownedKey(makerKey))
      throw unownedKeyError('maker', { changeId: row.id, makerKeyId: row.maker_key_id });
    const maker = await this.sideOf(tx, row.id, { actor: row.maker, keyId: row.maker_key_id }, keys);
    const decider = await this.sideOf(tx, row.id, checker, keys);
    const why = dependence(maker, decider);
    if (why === undefined)
      return {
        makerKeyId: row.maker_key_id,
        makerKeyIssuer: maker.issuedBy,
        makerKeyEarlierIssuers: maker.earlier,
        checkerKeyId: checker.keyId,
        checkerKeyIssuer: decider.issuedBy,
        checkerKeyEarlierIssuers: decider.earlier,
      };
    throw new LgError(
      'LG_SELF_APPROVAL',
      `${why}: whoever was shown a key could have acted with it, so a second, independent person must decide ` +
        '(a key its holder issued to themselves, POST /v1/session/keys, is theirs alone only if no one else was ' +
        'shown the key it was made with)',
      { changeId: row.id },
    );
  }

  /**
   * Everyone who could have acted with the party's key: the party, the key's holder and issuer, and the issuers of the
   * keys it was made with (as four eyes tells a checker from a maker). An appeal's second look asks it of its decider;
   * a key the store does not know is refused (403 LG_SELF_APPROVAL), as a checker's is.
   */
  async peopleBehind(db: CaseTx, party: FourEyesParty, caseId: string): Promise<ReadonlySet<string>> {
    const keys = new Map(
      (await this.deps.rows.keyIssuers(db, party.keyId === null ? [] : [party.keyId])).map((k) => [k.id, k]),
    );
    const side = await this.sideOf(db, caseId, party, keys, 'this case');
    return new Set([...side.people, ...side.earlier]);
  }

  /** One side of a decision: its person, its key's holder and issuer, and the issuers of the keys it was made with. */
  private async sideOf(
    tx: CaseTx,
    changeId: string,
    party: FourEyesParty,
    keys: ReadonlyMap<string, CaseKeyRecord>,
    subject?: string,
  ): Promise<DecisionSide> {
    const key = party.keyId === null ? undefined : keys.get(party.keyId);
    // A key the store does not know cannot be vouched for: refused (fail closed), never waved through.
    if (party.keyId !== null && !key) throw unknownIssuerError(changeId, subject);
    const issuer = isPersonActor(key?.issued_by) ? key.issued_by : null;
    const people = [party.actor, issuer, key?.user_id ? `user:${key.user_id}` : null].filter(isPersonActor);
    return {
      issuer,
      issuedBy: key?.issued_by ?? null,
      people: new Set(people),
      earlier: await this.earlierIssuers(tx, changeId, key, subject),
    };
  }

  /**
   * The people who issued the keys `key` was made with, following the chain of rotations back, nearest first: each was
   * shown a secret from which the next key could be made. A link the store does not know, or a chain past
   * ROTATION_CHAIN_MAX, is refused (fail closed).
   */
  private async earlierIssuers(
    tx: CaseTx,
    changeId: string,
    key: CaseKeyRecord | undefined,
    subject?: string,
  ): Promise<string[]> {
    const issuers: string[] = [];
    const seen = new Set<string>();
    let next = key?.issued_with_key_id ?? null;
    while (next !== null && !seen.has(next)) {
      if (seen.size >= ROTATION_CHAIN_MAX) throw unknownIssuerError(changeId, subject);
      seen.add(next);
      const [earlier] = await this.deps.rows.keyIssuers(tx, [next]);
      if (!earlier) throw unknownIssuerError(changeId, subject);
      if (isPersonActor(earlier.issued_by) && !issuers.includes(earlier.issued_by))
        issuers.push(earlier.issued_by);
      next = earlier.issued_with_key_id;
    }
    return issuers;
  }

  private async expireIfDue(row: PendingChangeRow): Promise<void> {
    if (row.state !== 'PENDING' || Number(row.expires_at) > this.deps.clock.now()) return;
    await this.recordExpiry(row.id);
    throw expiredError(row.id);
  }

  /** Marks a change past its time EXPIRED, with its ledger entry; a change decided or expired meanwhile stays as is. */
  private async recordExpiry(id: string): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.store
      .transaction(async (tx) => {
        const locked = await this.deps.rows.findPendingChange(tx, this.deps.store.kind, id, true);
        if (locked.state !== 'PENDING' || Number(locked.expires_at) > now) return;
        await this.settleExpired(tx, locked, now);
      })
      .catch((error: unknown) => {
        if (!(error instanceof LgError && error.code === 'LG_CHANGE_NOT_PENDING')) throw error;
      });
  }

  /** EXPIRED with its ledger entry, and its operation told, in the caller's dbTx (LG_CHANGE_NOT_PENDING if decided). */
  private async settleExpired(tx: CaseTx, row: PendingChangeRow, now: number): Promise<void> {
    await this.deps.rows.settlePendingChange(tx, row.id, { state: 'EXPIRED', decided_at: now });
    await appendToLedger(tx, [
      {
        entryId: `${row.id}:expired`,
        kind: 'change.expired',
        subjectId: row.id,
        recordedAt: now,
        payload: { changeId: row.id },
      },
    ]);
    const how = { state: 'EXPIRED', checker: null, note: null, at: now } as const;
    // An expiry applies nothing, so a proposal no held key opens (sealed under a key dropped before `keys rotate-data`,
    // or altered) expires too: otherwise it stayed PENDING for ever, its case waiting on it, and the job retried it
    // on every run. Its operation hears of it without the payload.
    let opened: PendingChangeRow;
    try {
      opened = this.opened(row);
    } catch (error) {
      if (!isSealedDataUnreadable(error)) throw error;
      return this.refusedUnread(tx, row, { ...how, unreadable: error.message });
    }
    await this.refused(tx, opened, how);
  }

  /** refused (below) for a change whose proposal no held key opens: its operation hears of it without the payload. */
  private async refusedUnread(
    tx: CaseTx,
    row: PendingChangeRow,
    how: Pick<ChangeRefusal, 'state' | 'checker' | 'note' | 'noteHmac' | 'at' | 'unreadable'>,
  ): Promise<void> {
    await this.operations.get(row.operation)?.onRefused?.(tx, undefined, this.refusalOf(row, how));
  }

  /** Tells the change's operation it will never apply (in the dbTx that settled it); `row` is opened (openChange). */
  private async refused(
    tx: CaseTx,
    row: PendingChangeRow,
    how: Pick<ChangeRefusal, 'state' | 'checker' | 'note' | 'noteHmac' | 'at'>,
  ): Promise<void> {
    const onRefused = this.operations.get(row.operation)?.onRefused;
    if (!onRefused) return;
    await onRefused(tx, JSON.parse(row.payload) as unknown, this.refusalOf(row, how));
  }

  private refusalOf(
    row: PendingChangeRow,
    how: Pick<ChangeRefusal, 'state' | 'checker' | 'note' | 'noteHmac' | 'at' | 'unreadable'>,
  ): ChangeRefusal {
    return {
      changeId: row.id,
      operation: row.operation,
      subjectId: row.subject_id,
      maker: row.maker,
      ...how,
    };
  }

  /**
   * The change under its row lock, in the decision's dbTx, with the time of the decision: still pending and not yet
   * expired then. The check before the transaction is not enough: a decision whose transaction begins (or waits for a
   * lock) past the expiry would otherwise apply a change that had expired, with a decision time before its expiry.
   */
  private async lockedPending(
    tx: CaseTx,
    id: string,
    checker: FourEyesParty,
    decision: 'approve' | 'reject',
  ): Promise<{ row: PendingChangeRow; now: number; keys: DecisionKeys }> {
    const row = await this.deps.rows.findPendingChange(tx, this.deps.store.kind, id, true);
    if (row.state !== 'PENDING')
      throw new LgError('LG_CHANGE_NOT_PENDING', `the change is ${row.state}`, {
        changeId: id,
        state: row.state,
      });
    const now = this.deps.clock.now();
    if (Number(row.expires_at) <= now) throw expiredError(id);
    const keys = await this.checkIndependent(tx, row, checker, decision);
    return { row, now, keys };
  }

  /** A decision refused because the change expired first: the expiry is recorded (the decision's unit rolled back). */
  private async expiredInstead(id: string, error: unknown): Promise<never> {
    if (error instanceof LgError && error.code === 'LG_CHANGE_EXPIRED') await this.recordExpiry(id);
    throw error;
  }

  /**
   * Approves and applies a change. An operation applied in the approval's dbTx answers with the change as that unit
   * leaves it (the guard may store it with the key); one applied after the approval commits answers with what that
   * later work recorded, which the approval's unit cannot know, so its key commits alone (approveThenApply).
   */
  async approve(
    id: string,
    by: FourEyesParty,
    note?: string,
    guard?: UnitGuard<PendingChangeView>,
  ): Promise<PendingChangeView> {
    const checker = by.actor;
    const row = await this.pendingForChecker(id, checker);
    const operation = this.operations.get(row.operation);
    if (!operation) throw new Error(`no apply function registered for ${row.operation}`);
    const payload = JSON.parse(row.payload) as unknown;
    if (operation.applyAfterApproval) return this.approveThenApply(row, operation, by, note, keyAlone(guard));
    const apply = operation.apply;
    if (!apply) throw new Error(`operation ${row.operation} has no apply function`);
    // What the operation returned, for its afterCommit; the unit's value is the answer.
    let applied: unknown;
    try {
      const approved = await this.deps.store.transaction(async (tx): Promise<PendingChangeView> => {
        const { now, keys } = await this.lockedPending(tx, id, by, 'approve');
        applied = await apply(tx, payload, {
          changeId: id,
          maker: row.maker,
          checker,
          reason: row.reason,
        });
        const sealedNote = this.sealNote(id, note);
        await this.deps.rows.settlePendingChange(tx, id, {
          state: 'APPROVED',
          checker,
          checker_key_id: by.keyId,
          decided_at: now,
          decision_note: sealedNote?.sealed ?? null,
          result: JSON.stringify(applied ?? null),
        });
        await appendToLedger(tx, [approvedEntry(row, { checker, keys, note: sealedNote, now })]);
        return this.viewOf(await this.deps.rows.findPendingChange(tx, this.deps.store.kind, id));
      }, guard);
      // Cache refreshes and in-memory state: they never touch the change's row, so the answer stands.
      await operation.afterCommit?.(payload, applied).catch(() => undefined);
      return approved;
    } catch (error) {
      if (error instanceof LgError && error.code === 'LG_CHANGE_EXPIRED')
        return this.expiredInstead(id, error);
      // A checker refused (not independent of the maker) leaves the change pending for another; it did not fail.
      if (error instanceof LgError && !KEEPS_PENDING.has(error.code)) await this.fail(row, by, error);
      throw error;
    }
  }

  private async approveThenApply(
    row: PendingChangeRow,
    operation: ChangeOperation,
    by: FourEyesParty,
    note: string | undefined,
    guard?: UnitGuard<void>,
  ): Promise<PendingChangeView> {
    const checker = by.actor;
    // The request's key commits with the approval; what the operation then applies runs after it. The answer carries
    // that result, so it is stored after the commit (the route's generic path), not with the key.
    await this.deps.store
      .transaction(async (tx) => {
        const { now, keys } = await this.lockedPending(tx, row.id, by, 'approve');
        const sealedNote = this.sealNote(row.id, note);
        await this.deps.rows.settlePendingChange(tx, row.id, {
          state: 'APPROVED',
          checker,
          checker_key_id: by.keyId,
          decided_at: now,
          decision_note: sealedNote?.sealed ?? null,
        });
        await appendToLedger(tx, [approvedEntry(row, { checker, keys, note: sealedNote, now })]);
      }, guard)
      .catch((error: unknown) => this.expiredInstead(row.id, error));
    const context = { changeId: row.id, maker: row.maker, checker, reason: row.reason };
    try {
      const result = await operation.applyAfterApproval?.(JSON.parse(row.payload) as unknown, context);
      await this.deps.rows.setPendingChangeResult(this.deps.store.db, row.id, {
        result: JSON.stringify(result ?? null),
      });
    } catch (error) {
      const lg =
        error instanceof LgError
          ? error
          : new LgError('LG_INTERNAL', 'the approved change could not be applied');
      await this.deps.store.transaction(async (tx) => {
        await this.deps.rows.setPendingChangeResult(tx, row.id, {
          state: 'FAILED',
          result: JSON.stringify({ code: lg.code, message: lg.message }),
        });
        await appendToLedger(tx, [
          {
            entryId: `${row.id}:failed`,
            kind: 'change.failed',
            subjectId: row.id,
            recordedAt: this.deps.clock.now(),
            payload: { changeId: row.id, checker, code: lg.code },
          },
        ]);
      });
      throw error;
    }
    return this.get(row.id);
  }

  /** The approval could not be applied (the world changed since the maker asked): recorded, never half-applied. */
  private async fail(row: PendingChangeRow, by: FourEyesParty, error: LgError): Promise<void> {
    const now = this.deps.clock.now();
    const checker = by.actor;
    await this.deps.store.transaction(async (tx) => {
      await this.deps.rows.settlePendingChange(tx, row.id, {
        state: 'FAILED',
        checker,
        checker_key_id: by.keyId,
        decided_at: now,
        result: JSON.stringify({ code: error.code, message: error.message }),
      });
      await appendToLedger(tx, [
        {
          entryId: `${row.id}:failed`,
          kind: 'change.failed',
          subjectId: row.id,
          recordedAt: now,
          payload: { changeId: row.id, checker, checkerKeyId: by.keyId, code: error.code },
        },
      ]);
      await this.refused(tx, row, {
        state: 'FAILED',
        checker,
        note: `${error.code}: ${error.message}`,
        at: now,
      });
    });
  }

  async reject(
    id: string,
    by: FourEyesParty,
    note: string,
    guard?: UnitGuard<PendingChangeView>,
  ): Promise<PendingChangeView> {
    const checker = by.actor;
    const { row, unreadable } = await this.rejectable(id, checker);
    // The unit's value is the answer, read in the unit: a guard that says the response stores it with the key.
    return this.deps.store
      .transaction(async (tx): Promise<PendingChangeView> => {
        const { now, keys } = await this.lockedPending(tx, id, by, 'reject');
        const sealedNote = sealDecisionNote(this.deps.crypto, id, note);
        await this.deps.rows.settlePendingChange(tx, id, {
          state: 'REJECTED',
          checker,
          checker_key_id: by.keyId,
          decided_at: now,
          decision_note: sealedNote.sealed,
        });
        await appendToLedger(tx, [
          {
            entryId: `${id}:rejected`,
            kind: 'change.rejected',
            subjectId: id,
            recordedAt: now,
            payload: {
              changeId: id,
              operation: row.operation,
              maker: row.maker,
              checker,
              ...keys,
              noteHmac: sealedNote.hmac,
            },
          },
        ]);
        const how = { state: 'REJECTED', checker, note, noteHmac: sealedNote.hmac, at: now } as const;
        if (unreadable === undefined) await this.refused(tx, row, how);
        else await this.refusedUnread(tx, row, { ...how, unreadable });
        // Listed: a change no held key opens answers marked unreadable (its texts null), as a list shows it.
        return listedChange(
          this.deps.crypto,
          await this.deps.rows.findPendingChange(tx, this.deps.store.kind, id),
        );
      }, guard)
      .catch((error: unknown) => this.expiredInstead(id, error));
  }

  /** Expires every pending change past its time (the jobs call it); returns how many expired. */
  async expireDue(): Promise<number> {
    const now = this.deps.clock.now();
    const due = await this.deps.rows.pendingChangesDue(this.deps.store.db, now, 1_000);
    let expired = 0;
    for (const id of due) {
      try {
        await this.deps.store.transaction(async (tx) => {
          // Under the change's lock: a rejection committed since the list was read is seen (NOT_PENDING below).
          const row = await this.deps.rows.findPendingChange(tx, this.deps.store.kind, id, true);
          await this.settleExpired(tx, row, now);
        });
        expired += 1;
      } catch (error) {
        // Decided meanwhile by a checker: nothing to expire.
        if (!(error instanceof LgError)) throw error;
      }
    }
    return expired;
  }
}
