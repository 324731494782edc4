import type { PageDefinition } from '../../app/pages';

/** The Lab workspace's pages, in navigation order. */
export const labPages: PageDefinition[] = [];
