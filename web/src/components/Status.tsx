import type { ReactNode } from 'react';
import type { ApiError } from '../api/client';
import { useI18n } from '../i18n';

export function ErrorNote({ error }: { error: ApiError | undefined }): ReactNode {
  if (!error) return null;
  return (
    <p role="alert" className="error">
      <code>{error.code}</code> {error.message}
    </p>
  );
}

export function Loading({ when }: { when: boolean }): ReactNode {
  const { t } = useI18n();
  return when ? <p aria-live="polite">{t('loading')}</p> : null;
}

const STATUS_CLASS: Record<string, string> = {
  ACTIVE: 'ok',
  APPROVE: 'ok',
  DRAW_FROZEN: 'warn',
  REVIEW: 'warn',
  HOLD: 'warn',
  COOLDOWN: 'warn',
  CHALLENGE: 'warn',
  SUSPENDED: 'bad',
  DECLINE: 'bad',
  CLOSED: 'muted',
  REVOKED: 'muted',
  critical: 'bad',
  high: 'bad',
  medium: 'warn',
  low: 'muted',
};

export function Badge({ value }: { value: string }): ReactNode {
  return <span className={`badge ${STATUS_CLASS[value] ?? ''}`}>{value}</span>;
}
