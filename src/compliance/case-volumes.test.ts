import { describe, expect, it } from 'vitest';
import { caseVolume, type VolumeRow } from './case-volumes.js';

const row = (over: Partial<VolumeRow>): VolumeRow => ({
  kind: 'FEES_PRICING',
  state: 'OPEN',
  createdAt: 0,
  resolvedAt: null,
  deadlineAt: 50,
  ...over,
});

describe('complaint and appeal volumes over [from, to)', () => {
  it('counts arrivals, settlements (late or not) and what is open and overdue at the end, at the bounds exactly', () => {
    const v = caseVolume(
      [
        row({ createdAt: 10 }), // before the window, still open and overdue at its end
        row({ createdAt: 100, resolvedAt: 150, state: 'RESOLVED', deadlineAt: 160 }), // in and out on time
        row({ createdAt: 120, resolvedAt: 200, state: 'RESOLVED', deadlineAt: 300 }), // settled at `to`: still open
        row({ createdAt: 10, resolvedAt: 100, state: 'UPHELD', kind: 'line_action' }), // settled at `from`, late
        row({ createdAt: 200, kind: 'decision' }), // created at `to`: not in this window
      ],
      100,
      200,
    );
    expect(v).toEqual({
      received: 2,
      receivedByKind: { FEES_PRICING: 2 },
      settled: { RESOLVED: 1, UPHELD: 1 },
      settledLate: 1,
      openAtEnd: 2,
      overdueAtEnd: 1,
    });
  });
});
