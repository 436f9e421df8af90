export * from './body';
export * from './extension';
export * from './fence';
export * from './release-policy';
export * from './status';
