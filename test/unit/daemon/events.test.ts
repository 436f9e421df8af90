import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/daemon';

describe('EventBus', () => {
  it('delivers typed payloads in subscription order, and off() unsubscribes', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    const off = bus.on('transition', (e) => seen.push(`a:${e.instance}:${e.from}->${e.to}`));
    bus.on('transition', (e) => seen.push(`b:${e.cause}`));
    bus.emit('transition', { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', cause: 'master down, 1204 ms', at: 1 });
    off();
    bus.emit('transition', { instance: 'VI_1', from: 'MASTER', to: 'BACKUP', cause: 'higher priority', at: 2 });
    expect(seen).toEqual(['a:VI_1:BACKUP->MASTER', 'b:master down, 1204 ms', 'b:higher priority']);
  });

  it('once() fires a single time', () => {
    const bus = new EventBus();
    let n = 0;
    bus.once('stopping', () => n++);
    bus.emit('stopping', { cause: 'x', at: 0 });
    bus.emit('stopping', { cause: 'y', at: 0 });
    expect(n).toBe(1);
    expect(bus.listenerCount('stopping')).toBe(0);
  });

  it('a throwing listener is reported and does not stop the others', () => {
    const errors: string[] = [];
    const bus = new EventBus((event, err) => errors.push(`${event}: ${(err as Error).message}`));
    let reached = false;
    bus.on('alarm', () => {
      throw new Error('feature broke');
    });
    bus.on('alarm', () => {
      reached = true;
    });
    expect(() => bus.emit('alarm', { id: 'serial-heartbeat-lost', active: true, severity: 'warning', message: 'm', at: 0 })).not.toThrow();
    expect(reached).toBe(true);
    expect(errors).toEqual(['alarm: feature broke']);
  });
});
