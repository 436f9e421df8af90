// The VRRP core: re-exports only.
export * from './types';
export * from './events';
export * from './timers';
export * from './instance';
export * from './sync-group';
