import type { PageDefinition } from '../../app/pages';
import { Bundles } from './Bundles';
import { Jobs } from './Jobs';
import { MyGrants } from './MyGrants';
import { RequestAccess } from './RequestAccess';
import { Tickets } from './Tickets';

/** The Lab workspace's pages, in navigation order. */
export const labPages: PageDefinition[] = [
  { id: 'lab-request', label: 'Request access', description: 'purpose and DUO codes', component: RequestAccess },
  { id: 'lab-grants', label: 'Requests and grants', description: 'status, usage, funding', component: MyGrants },
  { id: 'lab-tickets', label: 'Tickets', description: 'fetch encrypted objects', component: Tickets },
  { id: 'lab-jobs', label: 'Compute jobs', description: 'permits and results', component: Jobs },
  { id: 'lab-bundles', label: 'Result bundles', description: 'decrypt offline, verify', component: Bundles },
];
