import type { PageDefinition } from '../../app/pages';

/** The Donor workspace's pages, in navigation order. */
export const donorPages: PageDefinition[] = [];
