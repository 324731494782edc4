import { settingsSchema, type Settings } from '../../../../shared/ipc/custodian';

/** The form's text fields as typed; empty means "not set". */
export interface Draft {
  network: Settings['network'];
  rpcUrl: string;
  deploymentFile: string;
  gatewayUrl: string;
  orchestratorUrl: string;
  confirmations: number | string;
}

export function draftOf(settings: Settings): Draft {
  return {
    network: settings.network,
    rpcUrl: settings.rpcUrl ?? '',
    deploymentFile: settings.deploymentFile ?? '',
    gatewayUrl: settings.gatewayUrl ?? '',
    orchestratorUrl: settings.orchestratorUrl ?? '',
    confirmations: settings.confirmations,
  };
}

/** The settings a draft stands for, or the field errors that keep it from being saved. */
export function settingsFromDraft(
  draft: Draft,
): { ok: true; settings: Settings } | { ok: false; errors: Partial<Record<keyof Draft, string>> } {
  const errors: Partial<Record<keyof Draft, string>> = {};
  if (draft.network === 'custom') {
    if (!draft.rpcUrl) errors.rpcUrl = 'A custom network needs its RPC URL';
    if (!draft.deploymentFile) errors.deploymentFile = 'A custom network needs its deployment file';
  }
  const candidate = {
    network: draft.network,
    rpcUrl: draft.rpcUrl.trim() || null,
    deploymentFile: draft.deploymentFile.trim() || null,
    gatewayUrl: draft.gatewayUrl.trim() || null,
    orchestratorUrl: draft.orchestratorUrl.trim() || null,
    confirmations: typeof draft.confirmations === 'number' ? draft.confirmations : Number.NaN,
  };
  const parsed = settingsSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path[0] as keyof Draft | undefined;
      if (field && !errors[field])
        errors[field] =
          field === 'confirmations'
            ? 'A whole number from 0 to 1000'
            : field.endsWith('Url')
              ? 'Enter a full URL, e.g. http://127.0.0.1:8545'
              : issue.message;
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, settings: parsed.data };
}
