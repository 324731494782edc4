import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import type { Workspace } from '../../../shared/ipc/contract';

export interface UiState {
  workspace: Workspace;
  setWorkspace(workspace: Workspace): void;
}

export const useUiStore = create<UiState>()(
  persist((set) => ({ workspace: 'steward', setWorkspace: (workspace) => set({ workspace }) }), { name: 'cos.ui' }),
);
