/** FHE formats shared by the custodian app and the orchestrator: parameters, layouts, manifest, aggregates. */
export * from './aggregate';
export * from './canonical';
export * from './errors';
export * from './frames';
export * from './key-bundles';
export * from './layout';
export * from './manifest';
export * from './parameters';
export * from './seal';
