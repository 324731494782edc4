import { describe, expect, it } from 'vitest';
import { syncLabel } from './sync';

describe('syncLabel', () => {
  it('says Synced once the cursor reaches the head', () => {
    expect(syncLabel({ cursorBlock: 5678, headBlock: 5678 })).toEqual({ label: 'Synced', synced: true, percent: 100 });
    expect(syncLabel({ cursorBlock: 5679, headBlock: 5678 }).synced).toBe(true);
  });
  it('counts blocks while behind', () => {
    expect(syncLabel({ cursorBlock: 1234, headBlock: 5678 })).toEqual({
      label: 'Syncing 1,234/5,678',
      synced: false,
      percent: 21,
    });
  });
  it('waits for the first report', () => {
    expect(syncLabel(null)).toEqual({ label: 'Sync pending', synced: false, percent: 0 });
  });
});
