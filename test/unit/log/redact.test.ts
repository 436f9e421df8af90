import { describe, expect, it } from 'vitest';
import { Logger, memorySink, redactUrlCredentials } from '../../../src/log';

describe('credentials in URLs never reach a log line', () => {
  it('hides the password of any scheme, keeps the user and the rest', () => {
    expect(redactUrlCredentials('connected to mqtts://gw:s3cret@broker.example.net:8883')).toBe('connected to mqtts://gw:***@broker.example.net:8883');
    expect(redactUrlCredentials('http://u:p@10.0.0.5/health?x=1 and wss://a:b@h/')).toBe('http://u:***@10.0.0.5/health?x=1 and wss://a:***@h/');
    // An unescaped '@' in the password is still hidden up to the last '@' of the authority.
    expect(redactUrlCredentials('mqtt://gw:p@ss@broker:1883')).toBe('mqtt://gw:***@broker:1883');
    expect(redactUrlCredentials('mqtt://broker:1883 user@example.net http://h/a:b@c')).toBe('mqtt://broker:1883 user@example.net http://h/a:b@c');
  });

  it('the sink, the ring behind the console\'s `log` and the listeners see it redacted, fields included', () => {
    const sink = memorySink();
    const logger = new Logger({ sink, format: 'text' });
    const heard: string[] = [];
    logger.onRecord((r, line) => heard.push(JSON.stringify(r), line));
    logger.for('mqtt').info('broker mqtt://gw:hunter22@broker:1883 unreachable', { url: 'mqtt://gw:hunter22@broker:1883', nested: { list: ['http://a:hunter22@h/'] } });
    const all = [...sink.lines, ...logger.recent(), ...heard].join('\n');
    expect(all).not.toContain('hunter22');
    expect(logger.recent()[0]).toContain('mqtt://gw:***@broker:1883 unreachable');
    const json = new Logger({ sink: memorySink(), format: 'json' });
    json.for('mqtt').warn('x', { err: new Error('connect mqtt://gw:hunter22@b failed') });
    expect(json.recent().join('')).not.toContain('hunter22');
  });
});
