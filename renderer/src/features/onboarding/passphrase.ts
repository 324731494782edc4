/** The minimum length of a backup passphrase (the core enforces it too). */
export const MIN_PASSPHRASE = 12;

/** Why a backup passphrase pair cannot be used yet, or null when it can. */
export function passphraseProblem(passphrase: string, confirmation: string): string | null {
  if (passphrase.length < MIN_PASSPHRASE) return `At least ${MIN_PASSPHRASE} characters`;
  if (passphrase !== confirmation) return 'The two passphrases differ';
  return null;
}
