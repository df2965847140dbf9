// The config module: defaults that run the embedded stack, and clear errors for bad values.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('defaults to the embedded stack', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.temporal.address).toBeUndefined();
    expect(config.temporal.uiPort).toBe(8233);
    expect(config.paymentTimeoutMs).toBe(600_000);
    expect(config.webhooks.waker).toBe(true);
  });

  it('lets a worker sharing its database run without the webhook waker', () => {
    expect(loadConfig({ WEBHOOK_WAKER: 'false' }).webhooks.waker).toBe(false);
    expect(() => loadConfig({ WEBHOOK_WAKER: 'sometimes' })).toThrow(/WEBHOOK_WAKER/);
  });

  it('reads overrides and splits the webhook secrets for rotation', () => {
    const config = loadConfig({ PORT: '8080', DATABASE_URL: 'postgres://x/y', BANK_WEBHOOK_SECRETS: 'new, old' });
    expect(config.port).toBe(8080);
    expect(config.databaseUrl).toBe('postgres://x/y');
    expect(config.bank.webhookSecrets).toEqual(['new', 'old']);
  });

  it('names the variable that is malformed', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/PORT/);
    expect(() => loadConfig({ PAYMENT_TIMEOUT_MS: '-1' })).toThrow(/PAYMENT_TIMEOUT_MS/);
    expect(() => loadConfig({ RATE_LIMIT_STORE: 'redis' })).toThrow(/RATE_LIMIT_STORE/);
    expect(() => loadConfig({ TRUST_PROXY: 'the load balancer' })).toThrow(/TRUST_PROXY/);
    expect(() => loadConfig({ METRICS_TOKEN: 'two words' })).toThrow(/METRICS_TOKEN/);
    expect(() => loadConfig({ METRICS_TOKEN: 'x'.repeat(201) })).toThrow(/METRICS_TOKEN/);
    expect(loadConfig({ METRICS_TOKEN: 'scrape-secret' }).metricsToken).toBe('scrape-secret');
  });

  it('reads which proxies to trust: none by default, all, a hop count, or addresses and ranges', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7, fd00::/8' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      'fd00::/8',
    ]);
    expect(loadConfig({}).rateLimits.store).toBe('memory');
  });
});
