/** The status bar's words for the chain cache's progress (from `chain.sync` events). */
export interface SyncProgress {
  cursorBlock: number;
  headBlock: number;
}

export function syncLabel(progress: SyncProgress | null): { label: string; synced: boolean; percent: number } {
  if (!progress) return { label: 'Sync pending', synced: false, percent: 0 };
  if (progress.cursorBlock >= progress.headBlock) return { label: 'Synced', synced: true, percent: 100 };
  const percent = progress.headBlock === 0 ? 0 : Math.floor((progress.cursorBlock / progress.headBlock) * 100);
  return {
    label: `Syncing ${progress.cursorBlock.toLocaleString('en')}/${progress.headBlock.toLocaleString('en')}`,
    synced: false,
    percent,
  };
}
