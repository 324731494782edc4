import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import type { Workspace } from '../../../shared/ipc/contract';

export interface UiState {
  workspace: Workspace;
  /** The page id within the workspace (see app/pages.ts). */
  page: string;
  setWorkspace(workspace: Workspace): void;
  setPage(page: string): void;
}

export const useUiStore = create<UiState>()(
  persist(
    (set) => ({
      workspace: 'steward',
      page: 'overview',
      setWorkspace: (workspace) => set({ workspace }),
      setPage: (page) => set({ page }),
    }),
    { name: 'cos.ui' },
  ),
);
