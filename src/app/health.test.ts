import { describe, expect, it } from 'vitest';
import { healthReport, statusProbe } from './health.js';

/**
 * /health is public (a load balancer's check): what it says of a dependency that is down must not be the driver's
 * message, which names the database's or Redis's address and port, a user or a database (OWASP API8).
 */
describe('healthReport', () => {
  it('names a dependency that is down with a fixed phrase, never the error it failed with', async () => {
    const report = await healthReport([
      {
        name: 'store',
        check: () => Promise.reject(new Error('connect ECONNREFUSED 10.20.0.7:5432')),
      },
      statusProbe('redis', {
        status: () => ({
          ok: false,
          detail: 'WRONGPASS invalid username-password pair for lineguard@10.20.0.9',
        }),
      }) ?? { name: 'redis', check: () => ({ ok: true }) },
      { name: 'nats', check: () => ({ ok: true }) },
    ]);
    expect(report.down).toEqual(['store', 'redis']);
    expect(report.dependencies.nats).toEqual({ ok: true });
    const text = JSON.stringify(report);
    for (const secret of ['10.20.0.7', '5432', 'ECONNREFUSED', 'lineguard@', 'WRONGPASS'])
      expect(text).not.toContain(secret);
    expect(report.dependencies.store).toEqual({ ok: false, detail: 'not available' });
    expect(report.dependencies.redis).toEqual({ ok: false, detail: 'not available' });
  });
});
