// The rules of outgoing webhooks: which type an event is, what keeps its order, the retry schedule, and the
// addresses a receiver may not have.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_POLICY,
  blockedAddressClass,
  nextAttemptAt,
  orderingKeyOf,
  webhookTypeOf,
  webhookUrlProblem,
} from '../../src/domain/webhooks.js';
import { checkedAddress } from '../../src/webhooks/send.js';

describe('webhook types', () => {
  it('names status events by their status, and a slot by its closing only once', () => {
    expect(webhookTypeOf('order.status', { orderId: 'o', status: 'ready_for_collection' })).toBe(
      'order.ready_for_collection',
    );
    expect(webhookTypeOf('order.placed', { orderId: 'o', status: 'placed' })).toBe('order.placed');
    expect(webhookTypeOf('delivery.status', { orderId: 'o', deliveryStatus: 'assigned' })).toBe('delivery.assigned');
    expect(webhookTypeOf('slot.capacity', { slotId: 's', status: 'closed', statusChanged: true })).toBe('slot.closed');
    expect(webhookTypeOf('slot.capacity', { slotId: 's', status: 'closed' })).toBeNull();
    expect(webhookTypeOf('slot.capacity', { slotId: 's', status: 'open' })).toBe('slot.capacity');
    expect(webhookTypeOf('stock.discarded', { lotId: 1 })).toBe('stock.discarded');
    expect(webhookTypeOf('order.status', { orderId: 'o', status: 'teleported' })).toBeNull();
  });

  it('keeps an order’s events (and its delivery’s) in one ordering key', () => {
    expect(orderingKeyOf({ orderId: 'o1', status: 'confirmed' }, 1)).toBe('order:o1');
    expect(orderingKeyOf({ orderId: 'o1', deliveryStatus: 'assigned' }, 2)).toBe('order:o1');
    expect(orderingKeyOf({ slotId: 's1' }, 3)).toBe('slot:s1');
    expect(orderingKeyOf({ lotId: 7 }, 4)).toBe('lot:7');
    expect(orderingKeyOf({}, 5)).toBe('event:5');
  });
});

describe('the retry schedule', () => {
  it('waits 5 s, 1 min, 10 min, 1 h, 3 h, 6 h, 12 h (±20%), then tries last at 24 h and gives up', () => {
    const t0 = 1_000_000;
    let now = t0;
    const waits: number[] = [];
    for (let failures = 1; ; failures++) {
      const next = nextAttemptAt(failures, t0, now, DEFAULT_RETRY_POLICY, 0.5);
      if (next === null) break;
      waits.push(next - now);
      now = next;
    }
    expect(waits.slice(0, 7)).toEqual(DEFAULT_RETRY_POLICY.scheduleMs);
    expect(now - t0).toBe(24 * 3_600_000);
    expect(nextAttemptAt(1, t0, t0, DEFAULT_RETRY_POLICY, 0)).toBe(t0 + 4_000);
    expect(nextAttemptAt(1, t0, t0, DEFAULT_RETRY_POLICY, 0.999_999)).toBe(t0 + 6_000);
  });
});

describe('receiver addresses', () => {
  it('refuses loopback, private, link-local, metadata, multicast and unspecified addresses', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.100.100.200',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
    ])
      expect(blockedAddressClass(address), address).not.toBeNull();
    expect(blockedAddressClass('93.184.216.34')).toBeNull();
    expect(blockedAddressClass('2606:4700::1111')).toBeNull();
  });

  it('checks URLs when an endpoint is added: https, no credentials, no refused address literal', () => {
    expect(webhookUrlProblem('https://example.com/hooks', false)).toBeNull();
    expect(webhookUrlProblem('http://example.com/hooks', false)).toBe('must use https');
    expect(webhookUrlProblem('http://127.0.0.1:3000/hooks', true)).toBeNull();
    expect(webhookUrlProblem('https://a:b@example.com/', true)).toMatch(/credentials/);
    expect(webhookUrlProblem('https://2130706433/', false)).toMatch(/loopback/);
    expect(webhookUrlProblem('https://[::1]/', false)).toMatch(/loopback/);
    expect(webhookUrlProblem('not a url', true)).toMatch(/absolute URL/);
  });

  it('refuses at delivery a name that resolves to loopback', async () => {
    await expect(checkedAddress('localhost')).rejects.toThrow(/a loopback address/);
    await expect(checkedAddress('[::1]')).rejects.toThrow(/a loopback address/);
    await expect(checkedAddress('93.184.216.34')).resolves.toEqual({ address: '93.184.216.34', family: 4 });
  });
});
