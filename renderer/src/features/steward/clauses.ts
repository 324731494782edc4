import { ALGORITHMS } from '../../../../shared/contracts/constants';
import type { GrantTermsInput } from '../../../../shared/ipc/custodian';
import { makeOutputTerms, termsHash, type OutputTerms } from '../../../../shared/terms/terms';
import { deltaAtto, epsilonMicro, parseCos } from '../../components/format';

/** The clause editor's fields as typed (numbers may be '' while being edited). */
export interface ClauseForm {
  opMask: number;
  /** datetime-local strings (local time). */
  notBefore: string;
  expiry: string;
  maxRuns: number | string;
  /** Rate limit: at most rateMaxRuns runs per rateWindowHours (0 = no limit). */
  rateWindowHours: number | string;
  rateMaxRuns: number | string;
  region: string;
  /** ε cap as a real number, δ cap in scientific or decimal notation. */
  epsilonCap: number | string;
  deltaCap: string;
  /** Output terms (the typed document hashed to termsHash on chain). */
  keySwitchAllowed: boolean;
  /** Algorithm ids whose outputs may be released. */
  releasable: string[];
  dpMechanism: 'none' | 'laplace' | 'gaussian';
  /** ε and δ charged per noisy release (the permit's charge). */
  dpEpsilon: number | string;
  dpDelta: string;
  /** Days the lab may keep released outputs; '' for no stated limit. */
  retentionDays: number | string;
  /** Fee per use in COS (decimal, up to 18 places). */
  fee: string;
  ownerPercent: number | string;
  donorsPercent: number | string;
}

export type ClauseErrors = Partial<Record<keyof ClauseForm, string>>;

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** A unix time as the value of an <input type="datetime-local">. */
export function toLocalInput(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(value: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}

export function defaultClauses(opMask: number, now: number): ClauseForm {
  return {
    opMask,
    notBefore: toLocalInput(now - 60),
    expiry: toLocalInput(now + 30 * 86_400),
    maxRuns: 10,
    rateWindowHours: 0,
    rateMaxRuns: 0,
    region: '',
    epsilonCap: 3,
    deltaCap: '1e-9',
    keySwitchAllowed: false,
    releasable: [ALGORITHMS.ALLELE_COUNTS.id, ALGORITHMS.GWAS_ALLELIC_CHISQ.id, ALGORITHMS.GWAS_TREND.id],
    dpMechanism: 'none',
    dpEpsilon: 1,
    dpDelta: '0',
    retentionDays: 365,
    fee: '0',
    ownerPercent: 70,
    donorsPercent: 20,
  };
}

/** The output-terms document the form describes, or the reason it cannot be one. */
export function outputTermsOf(form: ClauseForm): { terms: OutputTerms | null; error: string | null } {
  try {
    const retention = form.retentionDays === '' ? null : Number(form.retentionDays);
    const differentialPrivacy =
      form.dpMechanism === 'none'
        ? ({ mechanism: 'none' } as const)
        : form.dpMechanism === 'laplace'
          ? ({ mechanism: 'laplace', epsilonMicros: epsilonMicro(Number(form.dpEpsilon)), deltaAtto: '0' } as const)
          : ({
              mechanism: 'gaussian',
              epsilonMicros: epsilonMicro(Number(form.dpEpsilon)),
              deltaAtto: deltaAtto(Number(form.dpDelta)),
            } as const);
    const terms = makeOutputTerms({
      keySwitching: { allowed: form.keySwitchAllowed },
      releasableAlgorithms: form.releasable,
      differentialPrivacy,
      retention: { days: retention },
    });
    if (form.keySwitchAllowed && differentialPrivacy.mechanism !== 'none') {
      return {
        terms: null,
        error: 'Key-switched results reach the lab exact: choose no noise, or forbid key switching',
      };
    }
    return { terms, error: null };
  } catch (error) {
    return { terms: null, error: (error as Error).message.replace(/^The output terms are invalid: /, '') };
  }
}

export function termsHashOf(form: ClauseForm): string | null {
  const { terms } = outputTermsOf(form);
  return terms ? termsHash(terms) : null;
}

function wholeNumber(value: number | string, min: number, max: number): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : null;
}

/** Checks every clause; answers the grant terms in on-chain units, or the errors per field. */
export function validateClauses(
  form: ClauseForm,
  now: number,
): { errors: ClauseErrors; terms: GrantTermsInput | null } {
  const errors: ClauseErrors = {};
  if (form.opMask < 1 || form.opMask > 15) errors.opMask = 'Allow at least one operation';
  const notBefore = fromLocalInput(form.notBefore);
  const expiry = fromLocalInput(form.expiry);
  if (notBefore === null) errors.notBefore = 'Enter a start date and time';
  if (expiry === null) errors.expiry = 'Enter an expiry date and time';
  else if (expiry <= now) errors.expiry = 'The expiry must be in the future';
  else if (notBefore !== null && expiry <= notBefore) errors.expiry = 'The expiry must be after the start';
  const maxRuns = wholeNumber(form.maxRuns, 1, 2 ** 32 - 1);
  if (maxRuns === null) errors.maxRuns = 'A whole number of runs, at least 1';
  const rateHours = typeof form.rateWindowHours === 'number' ? form.rateWindowHours : Number.NaN;
  const rateWindow = Math.round(rateHours * 3600);
  if (!(rateHours >= 0) || rateWindow > 2 ** 32 - 1) errors.rateWindowHours = 'Hours, 0 for no rate limit';
  const rateMaxRuns = wholeNumber(form.rateMaxRuns, 0, 2 ** 16 - 1);
  if (rateMaxRuns === null) errors.rateMaxRuns = 'A whole number (0 – 65,535)';
  else if (rateWindow > 0 && rateMaxRuns === 0) errors.rateMaxRuns = 'Allow at least one run per window';
  else if (rateWindow === 0 && rateMaxRuns > 0) errors.rateWindowHours = 'Set the window for this rate';
  const region = form.region.trim().toUpperCase();
  if (!/^([A-Z]{2})?$/.test(region)) errors.region = 'A two-letter country code (ISO 3166-1), or empty for anywhere';
  const epsilon = typeof form.epsilonCap === 'number' ? form.epsilonCap : Number.NaN;
  if (!(epsilon >= 0) || epsilonMicro(epsilon) > 2 ** 48 - 1) errors.epsilonCap = 'ε must be 0 or more';
  let deltaCap: string | null = null;
  const delta = Number(form.deltaCap.trim());
  if (form.deltaCap.trim() === '' || !Number.isFinite(delta)) errors.deltaCap = 'δ like 1e-9';
  else {
    try {
      deltaCap = deltaAtto(delta);
    } catch (error) {
      errors.deltaCap = (error as Error).message;
    }
  }
  const output = outputTermsOf(form);
  if (output.error) errors.releasable = output.error;
  let fee: bigint | null = null;
  try {
    fee = parseCos(form.fee);
  } catch {
    errors.fee = 'Enter an amount like 1.5 (COS), 0 for free';
  }
  const owner = typeof form.ownerPercent === 'number' ? form.ownerPercent : Number.NaN;
  const donors = typeof form.donorsPercent === 'number' ? form.donorsPercent : Number.NaN;
  if (!(owner >= 0 && owner <= 100)) errors.ownerPercent = '0 – 100 %';
  if (!(donors >= 0 && donors <= 100)) errors.donorsPercent = '0 – 100 %';
  if (owner + donors > 100) errors.donorsPercent = 'Owner and donors together cannot exceed 100 %';

  if (Object.keys(errors).length > 0) return { errors, terms: null };
  return {
    errors,
    terms: {
      opMask: form.opMask,
      notBefore: notBefore!,
      expiry: expiry!,
      maxRuns: maxRuns!,
      rateWindow,
      rateMaxRuns: rateMaxRuns!,
      region,
      epsilonCap: epsilonMicro(epsilon),
      deltaCap: deltaCap!,
      outputTerms: output.terms!,
      feePerUse: fee!.toString(),
      ownerBps: Math.round(owner * 100),
      donorsBps: Math.round(donors * 100),
    },
  };
}
