import type { PageDefinition } from '../../app/pages';

/** The Steward workspace's pages, in navigation order. */
export const stewardPages: PageDefinition[] = [];
