import type { PageDefinition } from '../../app/pages';
import { MyDatasets } from './MyDatasets';
import { Royalties } from './Royalties';
import { Uses } from './Uses';

/** The Donor workspace's pages, in navigation order. */
export const donorPages: PageDefinition[] = [
  { id: 'donor-datasets', label: 'My datasets', description: 'receipts, purposes, consent', component: MyDatasets },
  { id: 'donor-uses', label: 'Uses of my records', description: 'audited events', component: Uses },
  { id: 'donor-royalties', label: 'My royalties', description: 'share and claim', component: Royalties },
];
