/** Per-result public-key switching (issue 7): RNS/NTT arithmetic over SEAL bytes, shares, result bundles. */
export * from './bundle';
export * from './errors';
export * from './rns';
export * from './seal-io';
export * from './serialized';
export * from './share';
export * from './verify';
