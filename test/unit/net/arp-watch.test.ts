// Passive RFC 5227 conflict detection's pure parts and its socket logic (issue 22): the BPF
// filter lets the kernel queue only received ARP whose sender is one of our addresses (a host
// that asks for our address, a probe from 0.0.0.0, our own frames and everything else are
// dropped before the daemon wakes), and ArpWatch reads at most so many frames a second (a flood
// closes the socket for a while, counted).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ETH_P_ARP, buildGratuitousArp, parseArpFrame } from '../../../src/net/arp';
import { ArpWatch } from '../../../src/net/arp-watch';
import { arpSenderFilter, encodeBpf, runBpf } from '../../../src/net/bpf';
import type { NativeHandle } from '../../../src/net/native';

const OURS = ['10.0.0.1', '10.0.0.100'];
const STRANGER = '52:54:00:00:00:99';

/** An ARP frame: op 1 request / 2 reply, sender and target addresses. */
function arp(op: 1 | 2, senderMac: string, senderIp: string, targetIp: string): Uint8Array {
  const f = buildGratuitousArp(senderMac, senderIp, op === 1 ? 'request' : 'reply');
  new DataView(f.buffer).setUint16(20, op);
  f.set(targetIp.split('.').map(Number), 38);
  return f;
}

describe('arpSenderFilter', () => {
  const prog = arpSenderFilter(OURS);
  it('passes a received ARP request or reply whose sender is one of our addresses', () => {
    expect(runBpf(prog, arp(1, STRANGER, '10.0.0.100', '10.0.0.100'), 1)).toBeGreaterThanOrEqual(42);
    expect(runBpf(prog, arp(2, STRANGER, '10.0.0.1', '10.0.0.7'), 0)).toBeGreaterThanOrEqual(42);
  });
  it('drops a host asking for our address, a probe from 0.0.0.0, other senders, our own frames and non-ARP', () => {
    expect(runBpf(prog, arp(1, STRANGER, '10.0.0.7', '10.0.0.100'), 1)).toBe(0);
    expect(runBpf(prog, arp(1, STRANGER, '0.0.0.0', '10.0.0.100'), 1)).toBe(0);
    expect(runBpf(prog, arp(2, STRANGER, '10.0.0.2', '10.0.0.1'), 0)).toBe(0);
    expect(runBpf(prog, arp(1, STRANGER, '10.0.0.100', '10.0.0.100'), 4)).toBe(0);
    const ip = arp(1, STRANGER, '10.0.0.100', '10.0.0.100');
    new DataView(ip.buffer).setUint16(12, 0x0800);
    expect(runBpf(prog, ip, 1)).toBe(0);
    expect(runBpf(prog, ip.subarray(0, 20), 1)).toBe(0);
  });
  it('no address: drops everything; bad input is refused', () => {
    expect(runBpf(arpSenderFilter([]), arp(1, STRANGER, '10.0.0.100', '10.0.0.100'), 1)).toBe(0);
    expect(() => arpSenderFilter(['10.0.0'])).toThrow(/bad IPv4/);
    expect(() => arpSenderFilter(Array.from({ length: 65 }, (_, i) => `10.1.0.${i}`))).toThrow(/at most 64/);
  });
  it('encodes 8-byte instructions in the byte order asked for', () => {
    const b = encodeBpf([{ code: 0x15, jt: 2, jf: 3, k: 0x0a000001 }], true);
    expect([...b]).toEqual([0x15, 0, 2, 3, 1, 0, 0, 0x0a]);
    expect([...encodeBpf([{ code: 0x15, jt: 2, jf: 3, k: 0x0a000001 }], false)]).toEqual([0, 0x15, 2, 3, 0x0a, 0, 0, 1]);
  });
  it('parseArpFrame reads the four addresses; anything else is null', () => {
    expect(parseArpFrame(arp(2, STRANGER, '10.0.0.1', '10.0.0.7'))).toEqual({ op: 'reply', senderMac: STRANGER, senderIp: '10.0.0.1', targetMac: STRANGER, targetIp: '10.0.0.7' });
    expect(parseArpFrame(new Uint8Array(41))).toBeNull();
  });
});

function fakeAddon() {
  const opened: { ifname: string; protocol?: number; filter?: Uint8Array }[] = [];
  let cb: ((err: null, frame: Buffer) => void) | undefined;
  let open = 0;
  const addon = {
    openPacket: (ifname: string, protocol?: number, filter?: Uint8Array) => {
      opened.push({ ifname, protocol, filter });
      open++;
      return {} as NativeHandle;
    },
    setFilter: vi.fn(),
    recvStart: (_h: NativeHandle, c: unknown) => void (cb = c as typeof cb),
    close: () => void open--,
  };
  return { addon, opened, open: () => open, send: (f: Uint8Array) => cb!(null, Buffer.from(f)) };
}

describe('ArpWatch', () => {
  afterEach(() => void vi.useRealTimers());

  it('opens an ARP socket with the filter, replaces the filter when the addresses change, and reports sightings of ours', () => {
    const f = fakeAddon();
    const seen: string[] = [];
    const w = new ArpWatch('eth0', (s) => seen.push(`${s.senderIp} ${s.senderMac} ${s.op}`), { addon: f.addon, now: () => 0 });
    w.setAddresses(['10.0.0.1', 'fe80::1']);
    expect(f.opened).toHaveLength(1);
    expect(f.opened[0]!.protocol).toBe(ETH_P_ARP);
    expect(f.opened[0]!.filter).toEqual(encodeBpf(arpSenderFilter(['10.0.0.1'])));
    w.setAddresses(['10.0.0.1']);
    expect(f.addon.setFilter).not.toHaveBeenCalled();
    w.setAddresses(['10.0.0.1', '10.0.0.100']);
    expect(f.addon.setFilter).toHaveBeenCalledOnce();
    f.send(arp(1, STRANGER, '10.0.0.100', '10.0.0.100'));
    expect(seen).toEqual([`10.0.0.100 ${STRANGER} request`]);
    w.setAddresses([]);
    expect(f.open()).toBe(0);
  });

  it('a flood of ARP for our address: at most maxPerSecond read, then the socket is closed for pauseMs and opened again', () => {
    vi.useFakeTimers();
    let now = 0;
    const f = fakeAddon();
    let seen = 0;
    const w = new ArpWatch('eth0', () => seen++, { addon: f.addon, maxPerSecond: 10, pauseMs: 5000, now: () => now });
    w.setAddresses(['10.0.0.100']);
    for (let i = 0; i < 11; i++) f.send(arp(1, STRANGER, '10.0.0.100', '10.0.0.100'));
    expect(seen).toBe(10);
    expect(w.counters.floods).toBe(1);
    expect(f.open()).toBe(0);
    vi.advanceTimersByTime(4999);
    expect(f.open()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(f.open()).toBe(1);
    now = 6000;
    f.send(arp(1, STRANGER, '10.0.0.100', '10.0.0.100'));
    expect(seen).toBe(11);
    w.close();
    expect(f.open()).toBe(0);
  });

  it('a socket that cannot be opened is an error string, not a throw', () => {
    const w = new ArpWatch('eth9', () => undefined, {
      addon: { ...fakeAddon().addon, openPacket: () => { throw Object.assign(new Error('if_nametoindex ENODEV'), { code: 'ENODEV' }); } },
    });
    w.setAddresses(['10.0.0.1']);
    expect(w.error).toMatch(/ENODEV/);
    expect(w.counters.errors).toBe(1);
  });
});
