import type { PageDefinition } from '../../app/pages';

/** Pages every workspace shows below its own (settings). */
export const commonPages: PageDefinition[] = [];
