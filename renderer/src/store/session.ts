import { create } from 'zustand';
import type { ProfileView } from '../../../shared/ipc/custodian';
import type { ApiClient } from '../api/client';

export interface SessionState {
  profiles: ProfileView[];
  active: ProfileView | null;
  loaded: boolean;
  /** Why the profiles could not be listed (e.g. no deployment, keychain locked), if they could not. */
  error: string | null;
  refresh(api: ApiClient): Promise<void>;
}

/** The profiles on this machine and the unlocked one the workspaces act for. */
export const useSession = create<SessionState>()((set) => ({
  profiles: [],
  active: null,
  loaded: false,
  error: null,
  async refresh(api) {
    const result = await api.call('profiles.list', {});
    if (!result.ok) {
      set({ loaded: true, error: result.error.message });
      return;
    }
    set({
      profiles: result.value,
      active: result.value.find((profile) => profile.active) ?? null,
      loaded: true,
      error: null,
    });
  },
}));
