import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { LgError } from '../../domain/index.js';
import { dataKeysGiven, type AppServices } from '../../app/index.js';
import type { Db } from '../../store/index.js';
import {
  CHECKPOINTS_LIST_MAX,
  fieldCryptoFromMasterKey,
  parsePublicKey,
  readWitnessDirectory,
  readWitnessUrl,
  verifyAgainstCheckpoints,
  type WitnessFile,
  type EvidenceVerification,
  type LedgerPublicKey,
  type FieldCrypto,
} from '../../compliance/index.js';
import { EXIT, printJson, runAction } from '../exit.js';
import { nonNegativeInt, positiveInt } from '../options.js';

/**
 * `lineguard ledger key|checkpoint|prove`, and the `--against` half of `ledger verify` (whose options live with the
 * command in main.ts). Exit 0 ok, 2 bad input, 3 verification failed, 4 sealed values no held key opens (and nothing
 * else found).
 */
export function registerLedgerCommands(ledger: Command, openApp: () => Promise<AppServices>): void {
  const withApp = async <T>(run: (app: AppServices) => Promise<T>): Promise<T> => {
    const app = await openApp();
    try {
      return await run(app);
    } finally {
      await app.close();
    }
  };

  ledger
    .command('key')
    .description('print the Ed25519 public key that signs checkpoints (give it to auditors and witnesses)')
    .option('--json', 'print JSON')
    .option('--pem', 'print the SubjectPublicKeyInfo PEM')
    .action((opts: { json?: boolean; pem?: boolean }) =>
      runAction(() =>
        withApp(async (app) => {
          const key = app.evidence.publicKey;
          if (opts.json) printJson({ keyId: key.keyId, ed25519: key.rawBase64, pem: key.pem });
          else if (opts.pem) process.stdout.write(key.pem);
          else process.stdout.write(`${key.rawBase64}\n`);
        }),
      ),
    );

  ledger
    .command('checkpoint')
    .description(
      'sign a checkpoint of the ledger as it is now and publish it to the witnesses (directory, URL)',
    )
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      runAction(() =>
        withApp(async (app) => {
          const cp = await app.evidence.checkpoint();
          const deliveries = (await app.evidence.deliveries({ limit: CHECKPOINTS_LIST_MAX })).filter(
            (d) => d.treeSize === cp.treeSize || d.state === 'pending',
          );
          if (opts.json) printJson({ ...cp, deliveries });
          else
            process.stdout.write(
              `checkpoint: ${cp.treeSize} entries in ${cp.chains?.length ?? 0} chains, root ${cp.rootHash}, key ${cp.keyId}\n${deliveries
                .map(
                  (d) =>
                    `  ${d.state} to ${d.witness}: checkpoint ${d.treeSize}, ${d.attempts} attempt(s)${d.lastError ? ` (${d.lastError})` : ''}\n`,
                )
                .join('')}`,
            );
        }),
      ),
    );

  const prove = ledger.command('prove').description('inclusion and consistency proofs (RFC 9162), as JSON');
  prove
    .command('entry')
    .description('inclusion proof of a ledger entry in a signed checkpoint')
    .option('--seq <n>', 'ledger sequence number', positiveInt)
    .option('--decision <id>', 'a decision id (its ledger entry)')
    .option('--tree-size <n>', 'prove against this checkpoint (default: the latest covering it)', positiveInt)
    .action((opts: { seq?: number; decision?: string; treeSize?: number }) =>
      runAction(async () => {
        if ((opts.seq === undefined) === (opts.decision === undefined))
          throw new LgError('LG_VALIDATION', 'give exactly one of --seq or --decision');
        await withApp(async (app) =>
          printJson(
            opts.decision !== undefined
              ? await app.evidence.decisionProof(opts.decision)
              : await app.evidence.inclusionProof(opts.seq as number, opts.treeSize),
          ),
        );
      }),
    );
  prove
    .command('consistency')
    .description('consistency proof between two checkpoints (tree sizes)')
    .requiredOption('--from <n>', 'the earlier checkpoint size', nonNegativeInt)
    .requiredOption('--to <n>', 'the later checkpoint size', nonNegativeInt)
    .action((opts: { from: number; to: number }) =>
      runAction(() => withApp(async (app) => printJson(await app.evidence.consistency(opts.from, opts.to)))),
    );
}

/** What this installation trusts and holds: its checkpoint key (from its signing key) and its data keys. */
export interface InstallationKeys {
  readonly publicKey: LedgerPublicKey;
  readonly crypto: FieldCrypto;
}

/** This installation's keys, read once (only the app knows where they are kept); the app is opened at the first call. */
export function installationKeys(openApp: () => Promise<AppServices>): () => Promise<InstallationKeys> {
  let keys: Promise<InstallationKeys> | undefined;
  return () =>
    (keys ??= (async () => {
      const app = await openApp();
      try {
        return { publicKey: app.evidence.publicKey, crypto: app.crypto };
      } finally {
        await app.close();
      }
    })());
}

/**
 * The data keys that open the sealed values the fact check proves (decision contexts, dispute claims and outcomes,
 * bureau submissions, appeals' and complaints' texts): the ones the environment gives (LINEGUARD_KEY, LINEGUARD_RETIRED_KEYS), else this
 * installation's when its own checkpoint key is trusted (no --key). An auditor with neither has the sealed values
 * counted as unchecked.
 */
export async function auditCrypto(
  keyOption: string | undefined,
  installation: () => Promise<InstallationKeys>,
): Promise<FieldCrypto | undefined> {
  const given = dataKeysGiven(process.env);
  if (given) return fieldCryptoFromMasterKey(given.masterKey, given.retiredKeys);
  return keyOption ? undefined : (await installation()).crypto;
}

/** The trusted key: --key (a file or the key text), else the one this installation signs with. */
async function trustedKey(
  installation: () => Promise<LedgerPublicKey>,
  keyOption: string | undefined,
): Promise<LedgerPublicKey> {
  // An auditor brings the key they trust (--key); without one, this installation's own key is used.
  if (!keyOption) return installation();
  const text = existsSync(keyOption) ? readFileSync(keyOption, 'utf8') : keyOption;
  const key = parsePublicKey(text);
  if (!key)
    throw new LgError('LG_VALIDATION', '--key must be an Ed25519 public key (PEM, or 32 bytes base64/hex)');
  return key;
}

/**
 * `ledger verify --against DIR|URL [--key K] [--facts]`: prints the report, returns the exit code. `crypto` opens the
 * sealed values the fact check proves (auditCrypto).
 */
export async function verifyAgainst(
  db: Db,
  installation: () => Promise<LedgerPublicKey>,
  opts: { against: string; key?: string; facts?: boolean; json?: boolean; crypto?: FieldCrypto },
): Promise<number> {
  const result = await verifyAgainstCheckpoints(db, {
    files: await witnessFiles(opts.against),
    trustedKey: await trustedKey(installation, opts.key),
    facts: opts.facts ?? true,
    ...(opts.crypto ? { crypto: opts.crypto } : {}),
  });
  if (opts.json) printJson(result);
  else process.stdout.write(describe(result));
  return exitCode(result);
}

/**
 * Tampering, or a check that could not be made (a forged checkpoint), fails; sealed values no held key opens, and nothing
 * else, are their own answer: not proven, yet no evidence of an edit (a key dropped before `keys rotate-data` ran).
 */
function exitCode(r: EvidenceVerification): number {
  if (r.ok) return EXIT.OK;
  return onlyUnverifiable(r) ? EXIT.UNVERIFIABLE : EXIT.VERIFICATION_FAILED;
}

function onlyUnverifiable(r: EvidenceVerification): boolean {
  const { chain, checkpoints, facts } = r;
  const found = checkpoints.rejected.length + checkpoints.contradicted.length;
  const disagree = (facts?.mismatches.length ?? 0) + (facts?.moreMismatches ?? 0);
  return chain.ok && found === 0 && disagree === 0 && (facts?.unverifiable.length ?? 0) > 0;
}

/** The witness's checkpoints: an http(s) URL it serves them at, or a directory of checkpoint files. */
async function witnessFiles(against: string): Promise<WitnessFile[]> {
  if (/^https?:\/\//i.test(against)) {
    try {
      return await readWitnessUrl(against);
    } catch (error) {
      throw new LgError(
        'LG_VALIDATION',
        `--against: could not read checkpoints from ${against}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  if (!existsSync(against) || !statSync(against).isDirectory())
    throw new LgError(
      'LG_VALIDATION',
      `--against must be a directory of published checkpoints or an http(s) URL of a witness: ${against}`,
    );
  return readWitnessDirectory(against);
}

function describe(r: EvidenceVerification): string {
  const lines: string[] = [];
  const bad = r.chain.firstBad;
  lines.push(
    r.chain.ok
      ? `chain intact: ${r.chain.entriesChecked} entries`
      : `chain BROKEN at seq ${bad?.seq} (${bad?.entryId ?? '-'}): ${bad?.problem}`,
  );
  const c = r.checkpoints;
  lines.push(
    `checkpoints: ${c.files} files, ${c.matched} match the ledger (up to ${c.largestMatchedSize} entries)`,
  );
  for (const f of c.contradicted) lines.push(`TAMPERED (${f.problem}) ${f.file}: ${f.detail}`);
  for (const f of c.rejected) lines.push(`REJECTED checkpoint (${f.problem}) ${f.file}: ${f.detail}`);
  if (r.facts) {
    const f = r.facts;
    lines.push(
      `facts: ${f.checked.decisions} decisions, ${f.checked.lines} lines, ${f.checked.lineActions} line actions, ${f.checked.loans} loans, ${f.checked.disputes} disputes, ${f.checked.submissions} bureau submissions, ${f.checked.appeals} appeals, ${f.checked.complaints} complaints, ${f.checked.notes} case notes, ${f.checked.changes} pending changes, ${f.checked.consents} consents, ${f.checked.inquiries} credit-report inquiries checked; ${f.mismatches.length + f.moreMismatches} disagree with the ledger`,
    );
    if (f.sealedUnchecked > 0)
      lines.push(`facts: ${f.sealedUnchecked} sealed values not proven (no data key: set LINEGUARD_KEY)`);
    if (f.withoutCommitment > 0)
      lines.push(
        `facts: ${f.withoutCommitment} appeal, complaint, pending change and line action texts recorded before the ledger committed to them, or consent and inquiry subject hashes re-keyed before the ledger named the moves (nothing to prove them against)`,
      );
    if (f.unrecordedNotes > 0)
      lines.push(
        `facts: ${f.unrecordedNotes} case notes no ledger entry names (written by a resolution, a refused change, a failed outcome or a move before their entries named them: nothing to prove them against)`,
      );
    for (const m of f.mismatches)
      lines.push(
        `FACT ${m.table} ${m.id} ${m.field}: row ${JSON.stringify(m.row)}, ledger ${JSON.stringify(m.ledger)}`,
      );
    if (f.unverifiable.length > 0)
      lines.push(
        `facts: ${f.unverifiable.length + f.moreUnverifiable} sealed values under data keys not given cannot be proven (LINEGUARD_RETIRED_KEYS)`,
      );
    for (const u of f.unverifiable)
      lines.push(`UNVERIFIABLE ${u.table} ${u.id} ${u.field}: sealed under key ${u.keyId}, not held`);
  }
  lines.push(verdict(r));
  return `${lines.join('\n')}\n`;
}

function verdict(r: EvidenceVerification): string {
  if (r.ok) return 'VERIFIED';
  return onlyUnverifiable(r) ? 'NOT VERIFIED: some sealed values cannot be proven' : 'VERIFICATION FAILED';
}
