import { describe, expect, it } from 'vitest';
import { redactUrl, redactUrlsIn } from '../../../src/lib/redact';

describe('credentials in URLs', () => {
  it('are replaced, the rest of the URL kept', () => {
    expect(redactUrl('mqtts://fleet:s3cret@broker.example.net:8883')).toBe('mqtts://***@broker.example.net:8883');
    expect(redactUrl('mqtt://user@broker')).toBe('mqtt://***@broker');
    expect(redactUrl('mqtt://broker:1883')).toBe('mqtt://broker:1883');
    expect(redactUrl('wss://a:b@host/mqtt?x=y@z')).toBe('wss://***@host/mqtt?x=y@z');
  });
  it('inside a longer message', () => {
    expect(redactUrlsIn('connect ECONNREFUSED "mqtt://u:p@10.0.0.1:1883" and http://x:y@h/')).toBe('connect ECONNREFUSED "mqtt://***@10.0.0.1:1883" and http://***@h/');
  });
});
