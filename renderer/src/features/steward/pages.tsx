import type { PageDefinition } from '../../app/pages';
import { AuditPage } from '../audit/AuditPage';
import { BudgetsPage } from './BudgetsPage';
import { DatasetsPage } from './DatasetsPage';
import { GrantsPage } from './GrantsPage';
import { JobsPage } from './JobsPage';
import { RequestsPage } from './RequestsPage';
import { RoyaltiesPage } from './RoyaltiesPage';

/** The Steward workspace's pages, in navigation order. */
export const stewardPages: PageDefinition[] = [
  { id: 'datasets', label: 'Datasets', description: 'import, register, consent', component: DatasetsPage },
  { id: 'requests', label: 'Requests', description: 'inbox and clauses', component: RequestsPage },
  { id: 'grants', label: 'Grants', description: 'usage and revocation', component: GrantsPage },
  { id: 'budgets', label: 'Privacy budgets', description: 'ε and δ per grant', component: BudgetsPage },
  { id: 'jobs', label: 'Jobs and results', description: 'permits, GWAS views', component: JobsPage },
  { id: 'royalties', label: 'Royalties', description: 'settle and claim', component: RoyaltiesPage },
  { id: 'audit', label: 'Audit', description: 'every event, verifiable', component: AuditPage },
];
