import { describe, expect, it } from 'vitest';
import { reconnectDelay } from '../../../src/mqtt/backoff';
import { errorResponse, okResponse } from '../../../src/mqtt/envelope';
import { commandOfTopic, topicsFor } from '../../../src/mqtt/topics';

describe('topics', () => {
  const t = topicsFor('twinvip/gw-a/');
  it('builds the tree under the prefix', () => {
    expect([t.status, t.state, t.event, t.telemetry, t.requestFilter]).toEqual([
      'twinvip/gw-a/status', 'twinvip/gw-a/state', 'twinvip/gw-a/event', 'twinvip/gw-a/telemetry', 'twinvip/gw-a/request/+',
    ]);
    expect(t.response('status')).toBe('twinvip/gw-a/response/status');
    expect(topicsFor('site1/gw-a').status).toBe('site1/gw-a/status');
  });
  it('extracts the command of a request topic, and nothing else', () => {
    expect(commandOfTopic(t, 'twinvip/gw-a/request/maintenance')).toBe('maintenance');
    expect(commandOfTopic(t, 'twinvip/gw-a/request/')).toBeUndefined();
    expect(commandOfTopic(t, 'twinvip/gw-a/request/a/b')).toBeUndefined();
    expect(commandOfTopic(t, 'twinvip/gw-b/request/status')).toBeUndefined();
    expect(commandOfTopic(t, 'twinvip/gw-a/response/status')).toBeUndefined();
  });
});

describe('response envelope', () => {
  it('has status, and data/error/transaction only when given', () => {
    expect(okResponse()).toEqual({ status: 'ok' });
    expect(okResponse({ a: 1 }, 'x')).toEqual({ status: 'ok', data: { a: 1 }, transaction: 'x' });
    expect(errorResponse('bad', 7)).toEqual({ status: 'error', error: 'bad', transaction: 7 });
    expect(errorResponse('bad', undefined, { errors: ['e'] })).toEqual({ status: 'error', error: 'bad', data: { errors: ['e'] } });
  });
});

describe('reconnect back-off', () => {
  it('doubles from min, caps at max, and jitters within the upper half', () => {
    expect(reconnectDelay(0, 1000, 60_000, () => 0)).toBe(500);
    expect(reconnectDelay(0, 1000, 60_000, () => 1)).toBe(1000);
    expect(reconnectDelay(3, 1000, 60_000, () => 1)).toBe(8000);
    expect(reconnectDelay(20, 1000, 60_000, () => 1)).toBe(60_000);
    expect(reconnectDelay(20, 1000, 60_000, () => 0)).toBe(30_000);
    expect(reconnectDelay(1000, 1000, 60_000, () => 0.5)).toBe(45_000);
  });
});
