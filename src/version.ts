declare const TWINVIP_VERSION: string | undefined;

// Replaced at bundle time by esbuild's define; tests and tsx-style runs read package.json's value.
export const VERSION: string = typeof TWINVIP_VERSION === 'string' ? TWINVIP_VERSION : '0.1.0-dev';
