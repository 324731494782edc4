import { create } from 'zustand';
import type { ChannelResponse } from '../../../../shared/ipc/contract';

export interface FetchedFile {
  /** The profile (address) that fetched it. */
  owner: string;
  what: string;
  file: ChannelResponse<'objects.fetch'>;
}

/** Files fetched under tickets in this session, newest first (kept while the user moves between pages). */
export const useFetched = create<{ files: FetchedFile[]; add(file: FetchedFile): void }>()((set) => ({
  files: [],
  add: (file) => set((state) => ({ files: [file, ...state.files].slice(0, 50) })),
}));
