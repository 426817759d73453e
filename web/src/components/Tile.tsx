import type { ReactNode } from 'react';

/** One headline figure with its label (the overview's and the portfolio's tiles). */
export function Tile({ label, value, testId }: { label: string; value: string; testId?: string }): ReactNode {
  return (
    <div className="tile">
      <div className="tile-label">{label}</div>
      <div className="tile-value" data-testid={testId}>
        {value}
      </div>
    </div>
  );
}
