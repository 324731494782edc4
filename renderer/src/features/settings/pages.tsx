import type { PageDefinition } from '../../app/pages';
import { SettingsPage } from './SettingsPage';

/** Pages every workspace shows below its own (settings). */
export const commonPages: PageDefinition[] = [
  { id: 'settings', label: 'Settings', description: 'network, services, data folder', component: SettingsPage },
];
