import { Fragment, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, errorOf, idempotencyKey, type ApiError } from '../api/client';
import type { CaseDetail } from '../api/views';
import { formatMoney, useI18n } from '../i18n';
import { href } from '../router';
import { ErrorNote } from './Status';
import {
  EMPTY_DRAFT,
  MAX_REASONS,
  outcomeFields,
  parsePercentToRate,
  parseYuanToFen,
  resolveBody,
  type DraftField,
  type DraftIssue,
  type OutcomeDraft,
  type OutcomeFields,
  type ReasonCategory,
  type ResolveBody,
} from './outcome-input';
import { loadReasonCatalogue, type Catalogue } from './reason-catalogue';

/** The outcomes each case type takes (the API's OUTCOMES_BY_TYPE; a wrong one is refused with its list anyway). */
export const OUTCOMES: Record<string, readonly string[]> = {
  REVIEW_APPLICATION: ['APPROVE', 'DECLINE'],
  HELD_DRAW: ['RELEASE', 'CANCEL'],
  GUARD_HELD_ACTION: ['APPLY', 'DISMISS'],
  ALERT: ['CONFIRMED_FRAUD', 'FALSE_POSITIVE', 'CUSTOMER_ERROR', 'INCONCLUSIVE'],
  APPEAL: ['UPHELD', 'REJECTED'],
  COMPLAINT: ['RESOLVED'],
  CREDIT_REPORT_DISPUTE: ['CORRECTED', 'REJECTED'],
  REINSTATEMENT: ['REINSTATE', 'KEEP'],
};

const CATEGORIES: readonly ReasonCategory[] = [
  'application',
  'draw',
  'line',
  'fraud',
  'engine',
  'compliance',
];

/** The reason catalogue, read from the API once an outcome asks for reasons. */
function useReasonCatalogue(wanted: boolean): { catalogue?: Catalogue; failed: boolean } {
  const [catalogue, setCatalogue] = useState<Catalogue>();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!wanted || catalogue) return undefined;
    let live = true;
    loadReasonCatalogue().then(
      (loaded) => live && setCatalogue(loaded),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [wanted, catalogue]);
  return { catalogue, failed };
}

/** The pending change a case waits on (its outcome proposed under four eyes), from the case as the API shows it. */
function waitingOn(item: CaseDetail): { changeId: string; outcome?: string } | undefined {
  if (item.state !== 'ESCALATED') return undefined;
  const detail = item.outcomeDetail as { pendingChangeId?: unknown; proposedOutcome?: unknown } | null;
  if (typeof detail?.pendingChangeId !== 'string') return undefined;
  return {
    changeId: detail.pendingChangeId,
    ...(typeof detail.proposedOutcome === 'string' ? { outcome: detail.proposedOutcome } : {}),
  };
}

/** The borrower's two texts an outcome may need, each in its language. */
const BORROWER_TEXTS = [
  { field: 'textZh', lang: 'zh-CN', label: 'textZhLabel' },
  { field: 'textEn', lang: 'en', label: 'textEnLabel' },
] as const;

const FIELD_IDS: Record<DraftField, string> = {
  limit: 'outcome-limit',
  rate: 'outcome-rate',
  reasons: 'outcome-reasons',
  textZh: 'outcome-text-zh',
  textEn: 'outcome-text-en',
  note: 'case-note',
};

/**
 * A case's outcomes: one button per outcome the case type takes. An outcome that is only a label (an alert's
 * disposition, RELEASE, KEEP…) is sent in one click with the note; one that takes more (a limit and a rate, reasons,
 * the borrower's texts in Chinese and English) opens its form, checked here before anything is sent. The API's refusal
 * is shown as it came; an outcome that waits for a second person (202, the case ESCALATED with a pending change) is
 * shown as waiting, never as done.
 */
export function CaseOutcomes({
  item,
  canWork,
  onSettled,
}: {
  item: CaseDetail;
  canWork: boolean;
  onSettled: () => void;
}): ReactNode {
  const { t } = useI18n();
  const [picked, setPicked] = useState<string>();
  const [draft, setDraft] = useState<OutcomeDraft>(EMPTY_DRAFT);
  const [issues, setIssues] = useState<readonly DraftIssue[]>([]);
  const [error, setError] = useState<ApiError>();
  const [sending, setSending] = useState(false);
  const [proposed, setProposed] = useState<{ changeId: string; outcome: string }>();
  const fields = picked === undefined ? undefined : outcomeFields(item.type, picked);
  const { catalogue, failed } = useReasonCatalogue(fields?.reasons !== undefined);
  const formRef = useRef<HTMLFormElement>(null);

  // A form just opened: focus its first input, so a keyboard user is where the outcome's inputs are.
  useEffect(() => {
    formRef.current?.querySelector<HTMLElement>('input, textarea')?.focus();
  }, [picked]);

  // The 202's pending change is shown until the case read again shows it; from then on the case says whether it still
  // waits (a change rejected or expired sends the case back to its maker, and the outcomes are offered again).
  const shown = waitingOn(item);
  useEffect(() => {
    if (proposed && shown?.changeId === proposed.changeId) setProposed(undefined);
  }, [proposed, shown?.changeId]);
  const waiting = shown ?? proposed;
  const rules = catalogue && {
    isKnown: (code: string) => catalogue.byCode.has(code),
    personMayGive: (code: string) => catalogue.byCode.get(code)?.personMayGive === true,
    saysWhy: (code: string) => catalogue.byCode.get(code)?.saysWhy === true,
  };

  const send = async (body: ResolveBody): Promise<void> => {
    setSending(true);
    try {
      const { data, error: failure } = await api.POST('/v1/cases/{id}/resolve', {
        params: { path: { id: item.id }, header: { 'idempotency-key': idempotencyKey() } },
        body,
      });
      if (failure !== undefined || data === undefined) {
        setError(errorOf(failure));
        return;
      }
      setError(undefined);
      setPicked(undefined);
      setDraft(EMPTY_DRAFT);
      if (data.state === 'ESCALATED' && data.pendingChange)
        setProposed({ changeId: data.pendingChange.id, outcome: body.outcome });
    } catch {
      setError({ code: 'LG_NETWORK', message: 'network error' });
    } finally {
      setSending(false);
      // A refused outcome leaves a note on the case saying why; a taken one changes its state: read it again.
      onSettled();
    }
  };

  const submit = (outcome: string): void => {
    const checked = resolveBody(item.type, outcome, draft, rules);
    if (checked.issues) {
      setIssues(checked.issues);
      setError(undefined);
      const first = checked.issues[0];
      if (first) document.getElementById(FIELD_IDS[first.field])?.focus();
      return;
    }
    setIssues([]);
    void send(checked.body);
  };

  const pick = (outcome: string): void => {
    setIssues([]);
    setError(undefined);
    if (outcomeFields(item.type, outcome)) setPicked(picked === outcome ? undefined : outcome);
    else {
      setPicked(undefined);
      submit(outcome);
    }
  };

  const invalid = (field: DraftField) => issues.some((i) => i.field === field);
  const problemOf = (field: DraftField): ReactNode => {
    const mine = issues.filter((i) => i.field === field);
    return mine.length === 0 ? null : (
      <p id={`${FIELD_IDS[field]}-error`} className="error">
        {mine.map((i) => t(i.problem)).join(' ')}
      </p>
    );
  };
  const describedBy = (field: DraftField, hint?: string) =>
    [hint, invalid(field) ? `${FIELD_IDS[field]}-error` : undefined].filter(Boolean).join(' ') || undefined;
  // An edited input's problems are gone from view until the next submit checks it again.
  const set = (patch: Partial<OutcomeDraft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    setIssues((now) => now.filter((i) => !(i.field in patch)));
  };

  if (waiting)
    return (
      <p role="status" data-testid="four-eyes-waiting">
        <strong>{t('waitingSecondPerson')}</strong> {t('pendingChangeWord')}:{' '}
        <a href={href('changes')}>
          <code data-testid="pending-change-id">{waiting.changeId}</code>
        </a>
        {waiting.outcome && (
          <>
            {' '}
            · {t('proposedOutcome')}: <code>{waiting.outcome}</code>
          </>
        )}
      </p>
    );
  if (!canWork) return null;

  return (
    <div className="outcomes">
      <p>
        <label htmlFor={FIELD_IDS.note}>{t('noteOptional')}</label>{' '}
        <input
          id={FIELD_IDS.note}
          value={draft.note}
          onChange={(e) => set({ note: e.target.value })}
          aria-invalid={invalid('note') || undefined}
          aria-describedby={describedBy('note')}
        />
      </p>
      {problemOf('note')}
      <div className="buttons" role="group" aria-label={t('outcomes')}>
        {(OUTCOMES[item.type] ?? []).map((outcome) => {
          const opens = outcomeFields(item.type, outcome) !== undefined;
          return (
            <button
              key={outcome}
              type="button"
              disabled={sending}
              onClick={() => pick(outcome)}
              {...(opens ? { 'aria-expanded': picked === outcome, 'aria-controls': 'outcome-form' } : {})}
            >
              {opens ? `${outcome}…` : outcome}
            </button>
          );
        })}
      </div>
      {issues.length > 0 && (
        <div role="alert" className="error" data-testid="outcome-issues">
          {t('notSent')}
          <ul>
            {issues.map((i) => (
              <li key={`${i.field}-${i.problem}`}>{t(i.problem)}</li>
            ))}
          </ul>
        </div>
      )}
      <ErrorNote error={error} />
      {picked !== undefined && fields && (
        <form
          id="outcome-form"
          ref={formRef}
          noValidate
          aria-labelledby="outcome-form-title"
          data-testid="outcome-form"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            submit(picked);
          }}
        >
          <h2 id="outcome-form-title">
            {t('outcomeForm')} <code>{picked}</code>
          </h2>
          {fields.limit && (
            <LimitInput fields={fields} draft={draft} set={set} {...{ invalid, describedBy }} />
          )}
          {problemOf('limit')}
          {fields.rate && <RateInput draft={draft} set={set} {...{ invalid, describedBy }} />}
          {problemOf('rate')}
          {fields.reasons && (
            <ReasonPicker
              key={picked}
              fields={fields}
              chosen={draft.reasons}
              onChange={(reasons) => set({ reasons })}
              catalogue={catalogue}
              failed={failed}
              describedBy={describedBy('reasons', 'outcome-reasons-hint')}
            />
          )}
          {problemOf('reasons')}
          {fields.texts && (
            <>
              <p id="outcome-texts-hint" className="hint">
                {t('textsHint')}
              </p>
              {BORROWER_TEXTS.map(({ field, lang, label }) => (
                <Fragment key={field}>
                  <p>
                    <label htmlFor={FIELD_IDS[field]}>
                      {t(label)} ({t('required')})
                    </label>
                    <textarea
                      id={FIELD_IDS[field]}
                      lang={lang}
                      rows={3}
                      value={draft[field]}
                      onChange={(e) => set({ [field]: e.target.value })}
                      aria-required="true"
                      aria-invalid={invalid(field) || undefined}
                      aria-describedby={describedBy(field, 'outcome-texts-hint')}
                    />
                  </p>
                  {problemOf(field)}
                </Fragment>
              ))}
            </>
          )}
          <div className="buttons">
            <button type="submit" disabled={sending}>
              {sending ? t('sending') : `${t('submitOutcome')}: ${picked}`}
            </button>
            <button type="button" className="link" onClick={() => (setPicked(undefined), setIssues([]))}>
              {t('cancel')}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

interface InputProps {
  readonly draft: OutcomeDraft;
  readonly set: (patch: Partial<OutcomeDraft>) => void;
  readonly invalid: (field: DraftField) => boolean;
  readonly describedBy: (field: DraftField, hint?: string) => string | undefined;
}

/** A limit in yuan; beneath it, the amount it will be sent as (integer fen), once it parses. */
function LimitInput({ fields, draft, set, invalid, describedBy }: InputProps & { fields: OutcomeFields }) {
  const { t, lang } = useI18n();
  const parsed = parseYuanToFen(draft.limit);
  const hint =
    fields.limitMeaning === 'lowerOrRestore'
      ? t('limitHintLowerOrRestore')
      : fields.limitMeaning === 'lower'
        ? t('limitHintLower')
        : t('limitHintGrant');
  return (
    <p>
      <label htmlFor={FIELD_IDS.limit}>
        {t('limitYuan')} ({fields.limit === 'required' ? t('required') : t('optional')})
      </label>{' '}
      <input
        id={FIELD_IDS.limit}
        inputMode="decimal"
        autoComplete="off"
        value={draft.limit}
        onChange={(e) => set({ limit: e.target.value })}
        aria-required={fields.limit === 'required' || undefined}
        aria-invalid={invalid('limit') || undefined}
        aria-describedby={describedBy('limit', 'outcome-limit-hint')}
      />{' '}
      <span className="hint" id="outcome-limit-hint">
        {hint}
        {parsed.ok && parsed.value > 0 && (
          <>
            {' '}
            {t('limitIs')}{' '}
            <output data-testid="limit-fen">
              {formatMoney(parsed.value, 'CNY', lang)} = {parsed.value} {t('fen')}
            </output>
          </>
        )}
      </span>
    </p>
  );
}

/** An annual rate in percent; beneath it, the decimal it will be sent as. */
function RateInput({ draft, set, invalid, describedBy }: InputProps) {
  const { t } = useI18n();
  const parsed = parsePercentToRate(draft.rate);
  return (
    <p>
      <label htmlFor={FIELD_IDS.rate}>
        {t('ratePercent')} ({t('required')})
      </label>{' '}
      <input
        id={FIELD_IDS.rate}
        inputMode="decimal"
        autoComplete="off"
        value={draft.rate}
        onChange={(e) => set({ rate: e.target.value })}
        aria-required="true"
        aria-invalid={invalid('rate') || undefined}
        aria-describedby={describedBy('rate', 'outcome-rate-hint')}
      />{' '}
      <span className="hint" id="outcome-rate-hint">
        {t('rateHint')}
        {parsed.ok && (
          <>
            {' '}
            {t('limitIs')} <output data-testid="rate-decimal">annualRate {parsed.value}</output>
          </>
        )}
      </span>
    </p>
  );
}

/**
 * Reasons chosen from the catalogue, grouped by its categories: those this outcome is about open first, the others
 * folded. Codes only automation gives are not offered. At most eight (the API's limit).
 */
function ReasonPicker({
  fields,
  chosen,
  onChange,
  catalogue,
  failed,
  describedBy,
}: {
  fields: OutcomeFields;
  chosen: readonly string[];
  onChange: (reasons: string[]) => void;
  catalogue: Catalogue | undefined;
  failed: boolean;
  describedBy: string | undefined;
}): ReactNode {
  const { t, lang } = useI18n();
  const first = fields.reasonCategories ?? [];
  const order = [...first, ...CATEGORIES.filter((c) => !first.includes(c))];
  // Open at first: the groups this outcome is about when reasons are required (folded when optional); after that, as
  // the analyst opens and folds them (a group does not fold itself when its last reason is unchosen).
  const [opened, setOpened] = useState<ReadonlySet<string>>(
    () => new Set<string>(fields.reasons === 'required' ? first : []),
  );
  const offered = catalogue ? catalogue.codes.filter((d) => d.personMayGive) : [];
  const full = chosen.length >= MAX_REASONS;
  const toggle = (code: string, on: boolean) =>
    onChange(on ? [...chosen.filter((c) => c !== code), code] : chosen.filter((c) => c !== code));
  const hint =
    fields.limitMeaning !== undefined
      ? t('reasonsHintLower')
      : fields.reasons === 'optional'
        ? t('reasonsHintCancel')
        : '';
  return (
    <fieldset id={FIELD_IDS.reasons} tabIndex={-1} aria-describedby={describedBy} data-testid="reason-picker">
      <legend>
        {t('reasonsPick')} ({fields.reasons === 'required' ? t('required') : t('optional')}) ·{' '}
        {t('reasonsChosen')} {chosen.length}/{MAX_REASONS}
      </legend>
      <p id="outcome-reasons-hint" className="hint">
        {hint} {fields.adverse || fields.limitMeaning !== undefined ? t('reasonsHintAdverse') : ''}
      </p>
      {failed && <p className="error">{t('reasonsUnavailable')}</p>}
      {!catalogue && !failed && <p aria-live="polite">{t('loading')}</p>}
      {catalogue &&
        order.map((category) => {
          const codes = offered.filter((d) => d.category === category);
          if (codes.length === 0) return null;
          const picked = codes.filter((d) => chosen.includes(d.code)).length;
          return (
            <details
              key={category}
              open={opened.has(category)}
              onToggle={(e) => {
                const open = e.currentTarget.open;
                setOpened((now) => {
                  if (open === now.has(category)) return now;
                  const next = new Set(now);
                  if (open) next.add(category);
                  else next.delete(category);
                  return next;
                });
              }}
            >
              <summary>
                {t(`category.${category}`)} ({picked}/{codes.length})
              </summary>
              {codes.map((d) => {
                const on = chosen.includes(d.code);
                return (
                  <div key={d.code}>
                    <label>
                      <input
                        type="checkbox"
                        value={d.code}
                        checked={on}
                        disabled={!on && full}
                        onChange={(e) => toggle(d.code, e.target.checked)}
                      />{' '}
                      <code>{d.code}</code> {lang === 'zh' ? d.zh : d.en}
                      {!d.appealable && <small> ({t('notAppealable')})</small>}
                    </label>
                  </div>
                );
              })}
            </details>
          );
        })}
    </fieldset>
  );
}
