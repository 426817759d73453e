import { describe, expect, it } from 'vitest';
import { appendToLedger, verifyLedger } from './ledger.js';

// This file loads src/compliance alone, as a module that never opened a store would: nothing installed the ledger's
// storage (src/store/ledger-chain.ts does when it loads), so an append must fail loudly, never drop the entry.
describe('ledger storage port', () => {
  it('refuses to append or verify before a store installed the ledger storage', async () => {
    const entry = { entryId: 'e1', kind: 'test', subjectId: 's1', payload: {}, recordedAt: 0 };
    await expect(appendToLedger({}, [entry])).rejects.toThrow(/no ledger storage installed/);
    await expect(verifyLedger({})).rejects.toThrow(/no ledger storage installed/);
  });
});
