import { describe, expect, it } from 'vitest';
import { passphraseProblem } from './passphrase';

describe('backup passphrase', () => {
  it('needs 12 characters and a matching confirmation', () => {
    expect(passphraseProblem('short', 'short')).toBe('At least 12 characters');
    expect(passphraseProblem('correct horse battery', 'correct horse batterY')).toBe('The two passphrases differ');
    expect(passphraseProblem('correct horse battery', 'correct horse battery')).toBeNull();
  });
});
