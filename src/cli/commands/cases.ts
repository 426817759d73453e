import { InvalidArgumentError, type Command } from 'commander';
import { LgError } from '../../domain/index.js';
import type { AppServices } from '../../app/index.js';
import { createApiKey, createUser, createUserKey, FOUR_EYES_ROLES, revokeApiKey } from '../../api/index.js';
import { CASE_STATES, CASE_TYPES } from '../../cases/index.js';
import { findUser } from '../../store/index.js';
import { EXIT, printJson, runAction } from '../exit.js';
import { positiveInt } from '../options.js';

/**
 * `lineguard cases list|show|assign|resolve|jobs`, `lineguard changes list|approve|reject`, `lineguard users
 * create|list`, `lineguard keys revoke`. The CLI runs with the database's own authority, so it names the person acting
 * (`--as <user id>`) and checks that person's role as the HTTP API would.
 */
type OpenApp = () => Promise<AppServices>;

const CASE_ROLES = new Set(['admin', 'analyst', 'supervisor', 'risk_analyst']);
const CHECKER_ROLES = new Set(['admin', 'supervisor']);

async function withApp<T>(openApp: OpenApp, work: (app: AppServices) => Promise<T>): Promise<T> {
  const app = await openApp();
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}

/** The person acting: an existing, enabled user with one of the roles the action needs. */
async function actingUser(app: AppServices, userId: string, roles: ReadonlySet<string>): Promise<string> {
  const user = await findUser(app.store.db, userId);
  if (!user || user.disabled_at !== null) throw new LgError('LG_NOT_FOUND', `no active user ${userId}`);
  if (!roles.has(user.role))
    throw new LgError(
      'LG_FORBIDDEN',
      `role ${user.role} may not do this; needs one of ${[...roles].join(', ')}`,
    );
  return `user:${user.id}`;
}

function oneOf<T extends string>(values: readonly T[], name: string) {
  return (text: string): T => {
    if (!(values as readonly string[]).includes(text))
      throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')}`);
    return text as T;
  };
}

function out(json: boolean | undefined, value: unknown, text: () => string): void {
  if (json) printJson(value);
  else process.stdout.write(text());
}

export function registerCasesCommand(program: Command, openApp: OpenApp): void {
  const cases = program.command('cases').description('work the case queues (people in the loop)');
  registerCaseQueueCommands(cases, openApp);
  registerCaseResolveCommand(cases, openApp);
  registerCaseJobsCommand(cases, openApp);
  registerChangesCommand(program, openApp);
  registerUsersCommand(program, openApp);
}

/** `cases list|show|assign`: the queue, one case, and who works it. */
function registerCaseQueueCommands(cases: Command, openApp: OpenApp): void {
  cases
    .command('list')
    .description('cases, newest first, filtered by type, state, assignee')
    .option('--type <type>', CASE_TYPES.join(' | '), oneOf(CASE_TYPES, '--type'))
    .option('--state <state>', CASE_STATES.join(' | '), oneOf(CASE_STATES, '--state'))
    .option('--assignee <userId>', 'assigned to this user')
    .option('--limit <n>', 'page size', positiveInt, 50)
    .option('--cursor <id>', 'the nextCursor of the previous page')
    .option('--json', 'print JSON')
    .action(
      (o: {
        type?: string;
        state?: string;
        assignee?: string;
        limit: number;
        cursor?: string;
        json?: boolean;
      }) =>
        runAction(() =>
          withApp(openApp, async (app) => {
            const page = await app.cases.service.list({
              type: o.type,
              state: o.state,
              assignee: o.assignee,
              limit: Math.min(o.limit, 500),
              before: o.cursor,
            });
            out(
              o.json,
              page,
              () =>
                page.items
                  .map(
                    (c) =>
                      `${c.id}  ${c.type.padEnd(22)} ${c.state.padEnd(16)} p${c.priority} due ${c.slaDueAt}${c.assignee ? ` @${c.assignee}` : ''}\n`,
                  )
                  .join('') + (page.nextCursor ? `next: --cursor ${page.nextCursor}\n` : ''),
            );
          }),
        ),
    );
  cases
    .command('show <id>')
    .description('a case with its notes, history and evidence (JSON)')
    .action((id: string) =>
      runAction(() => withApp(openApp, async (app) => printJson(await app.cases.service.get(id)))),
    );
  cases
    .command('assign <id>')
    .description('assign a case to a user')
    .requiredOption('--to <userId>', 'the assignee')
    .requiredOption('--as <userId>', 'the person acting')
    .option('--json', 'print JSON')
    .action((id: string, o: { to: string; as: string; json?: boolean }) =>
      runAction(() =>
        withApp(openApp, async (app) => {
          const actor = await actingUser(app, o.as, CASE_ROLES);
          const view = await app.cases.service.assign(id, { assignee: o.to, actor });
          out(o.json, view, () => `${view.id} ${view.state} @${view.assignee}\n`);
        }),
      ),
    );
}

/** `cases resolve`: an outcome that acts through the core (pending when four eyes apply). */
function registerCaseResolveCommand(cases: Command, openApp: OpenApp): void {
  cases
    .command('resolve <id>')
    .description('resolve a case with an outcome that acts through the core (pending when four eyes apply)')
    .requiredOption(
      '--outcome <outcome>',
      'APPROVE | DECLINE | RELEASE | CANCEL | APPLY | DISMISS | CONFIRMED_FRAUD | FALSE_POSITIVE | ...',
    )
    .requiredOption('--as <userId>', 'the person acting')
    .option('--note <text>', 'why')
    .option('--reason <code...>', 'reason codes (DECLINE, CANCEL)')
    .option('--limit <minor>', 'limit in minor units (APPROVE, lower reinstatement)', positiveInt)
    .option('--rate <decimal>', 'annual rate, e.g. 0.18 (APPROVE)', Number)
    .option('--text-zh <text>', 'the borrower-facing outcome in Chinese (appeals, complaints)')
    .option('--text-en <text>', 'the borrower-facing outcome in English')
    .option('--json', 'print JSON')
    .action(
      (
        id: string,
        o: {
          outcome: string;
          as: string;
          note?: string;
          reason?: string[];
          limit?: number;
          rate?: number;
          textZh?: string;
          textEn?: string;
          json?: boolean;
        },
      ) =>
        runAction(() =>
          withApp(openApp, async (app) => {
            if (o.rate !== undefined && !(o.rate >= 0 && o.rate <= 1))
              throw new LgError('LG_VALIDATION', '--rate must be a decimal between 0 and 1');
            const actor = await actingUser(app, o.as, CASE_ROLES);
            const result = await app.cases.service.resolve(
              id,
              {
                outcome: o.outcome,
                note: o.note,
                reasons: o.reason,
                limitMinor: o.limit,
                annualRate: o.rate,
                textZh: o.textZh,
                textEn: o.textEn,
              },
              // The CLI acts as the user it names, with no API key: nobody else was shown a secret for it.
              { actor, keyId: null },
            );
            out(o.json, result, () =>
              result.state === 'RESOLVED'
                ? `${id} RESOLVED ${result.case.outcome}\n`
                : `${id} ESCALATED: pending change ${result.pendingChange.id} waits for a second person\n`,
            );
          }),
        ),
    );
}

/** `cases jobs`: the case jobs, once. */
function registerCaseJobsCommand(cases: Command, openApp: OpenApp): void {
  cases
    .command('jobs')
    .description('run the case jobs once: intake sweep, SLA escalation, cooling-off releases, change expiry')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) =>
      runAction(() =>
        withApp(openApp, async (app) => {
          const result = await app.cases.runJobs();
          out(
            o.json,
            result,
            () =>
              `${Object.entries(result)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')}\n`,
          );
        }),
      ),
    );
}

/** `changes list|approve|reject`: four eyes from the command line. */
function registerChangesCommand(program: Command, openApp: OpenApp): void {
  const changes = program
    .command('changes')
    .description('four eyes: pending changes a second person approves');
  changes
    .command('list')
    .option(
      '--state <state>',
      'PENDING | APPROVED | REJECTED | EXPIRED | FAILED',
      oneOf(['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'FAILED'] as const, '--state'),
    )
    .option('--limit <n>', 'page size', positiveInt, 50)
    .option('--json', 'print JSON')
    .action((o: { state?: string; limit: number; json?: boolean }) =>
      runAction(() =>
        withApp(openApp, async (app) => {
          const page = await app.cases.service.fourEyes.list({
            state: o.state,
            limit: Math.min(o.limit, 500),
          });
          out(o.json, page, () =>
            page.items
              .map(
                (c) => `${c.id}  ${c.operation.padEnd(28)} ${c.state.padEnd(9)} by ${c.maker}: ${c.reason}\n`,
              )
              .join(''),
          );
        }),
      ),
    );
  const decide = (name: 'approve' | 'reject') =>
    changes
      .command(`${name} <id>`)
      .description(`${name} a pending change (a different person from its maker)`)
      .requiredOption('--as <userId>', 'the checker (supervisor or admin)')
      .option('--note <text>', name === 'reject' ? 'why (required)' : 'a note')
      .option('--json', 'print JSON')
      .action((id: string, o: { as: string; note?: string; json?: boolean }) =>
        runAction(() =>
          withApp(openApp, async (app) => {
            const checker = await actingUser(app, o.as, CHECKER_ROLES);
            if (name === 'reject' && !o.note) throw new LgError('LG_VALIDATION', 'a rejection needs --note');
            const view =
              name === 'approve'
                ? await app.cases.service.fourEyes.approve(id, { actor: checker, keyId: null }, o.note)
                : await app.cases.service.fourEyes.reject(id, { actor: checker, keyId: null }, o.note ?? '');
            out(o.json, view, () => `${view.id} ${view.state}\n`);
          }),
        ),
      );
  decide('approve');
  decide('reject');
}

/** `users create`. */
function registerUsersCommand(program: Command, openApp: OpenApp): void {
  const users = program.command('users').description('people who operate LineGuard');
  users
    .command('create')
    .requiredOption('--name <name>', 'the person')
    .requiredOption('--role <role>', 'admin | risk_analyst | analyst | supervisor | service | auditor')
    .option('--json', 'print JSON')
    .action((o: { name: string; role: string; json?: boolean }) =>
      runAction(() =>
        withApp(openApp, async (app) => {
          const user = await createUser(app.store, app, { name: o.name, role: o.role, actor: 'cli' });
          out(o.json, user, () => `${user.id}\n`);
        }),
      ),
    );
}

/** `lineguard keys create` (a key that belongs to a person, or an unowned one) and `lineguard keys revoke`. */
export function registerKeyCommands(keys: Command, openApp: OpenApp): void {
  registerKeyCreate(keys, openApp);
  keys
    .command('revoke <keyId>')
    .description('revoke a key: every instance refuses it within one second')
    .action((keyId: string) =>
      runAction(() =>
        withApp(openApp, async (app) => {
          const revoked = await revokeApiKey(app.store, app, { keyId, actor: 'cli' });
          process.stdout.write(`revoked ${revoked.keyId} at ${revoked.revokedAt}\n`);
          return EXIT.OK;
        }),
      ),
    );
}

/** `lineguard keys create`: the key is printed once and stored only as a hash. */
function registerKeyCreate(keys: Command, openApp: OpenApp): void {
  keys
    .command('create')
    .description('create an API key; the key is printed once and stored only as a hash')
    .option('--user <id>', 'the person the key belongs to (it carries their role)')
    .option(
      '--role <role>',
      'an unowned key, for a role that neither proposes nor approves changes: service | auditor',
    )
    .option('--label <text>', 'who or what the key is for', '')
    .option('--json', 'print JSON')
    .action((opts: { user?: string; role?: string; label: string; json?: boolean }) =>
      runAction(() =>
        withApp(openApp, async (app) => {
          const created = await createKeyFromCli(app, opts);
          if (opts.json) printJson(created);
          else process.stdout.write(`${created.key}\n`);
        }),
      ),
    );
}

/**
 * The key `keys create` asks for: a person's (it carries their role and is a ledger entry), or an unowned one for a
 * role that neither proposes nor approves a change that needs a second person. Four eyes compares people: an unowned
 * key of such a role binds no one (one person could hold two), so it is refused here, and four eyes refuses one
 * issued before (LG_KEY_UNOWNED).
 */
async function createKeyFromCli(app: AppServices, opts: { user?: string; role?: string; label: string }) {
  if (opts.user) return createUserKey(app.store, app, { userId: opts.user, label: opts.label, actor: 'cli' });
  if (!opts.role) throw new LgError('LG_VALIDATION', 'give --user <id> (or --role for an unowned key)');
  if ((FOUR_EYES_ROLES as readonly string[]).includes(opts.role))
    throw new LgError(
      'LG_VALIDATION',
      `a ${opts.role} key can propose or approve a change that needs a second person, so it must belong to a ` +
        `person: lineguard users create --name <name> --role ${opts.role}, then keys create --user <id>`,
      { role: opts.role },
    );
  return createApiKey(app.store.db, app, opts.role, opts.label);
}
