// The VRRP core: re-exports only.
export * from './types';
export * from './events';
export * from './timers';
export * from './instance';
export * from './sync-group';
export * from './packet';
export * from './validate';
export * from './checksum';
export * from './drop-reasons';
export { compareAddresses, canonicalIp } from '../lib/ip';
