import type { ComponentType } from 'react';
import type { Workspace } from '../../../shared/ipc/contract';

/** One page of a workspace: its navigation entry and what it shows. */
export interface PageDefinition {
  id: string;
  label: string;
  /** A short line under the label in the navigation. */
  description?: string;
  component: ComponentType;
}

export type WorkspacePages = Record<Workspace, PageDefinition[]>;
