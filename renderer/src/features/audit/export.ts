import type { AuditRow } from '../../../../shared/ipc/custodian';
import type { ApiClient } from '../../api/client';

/** What the audit views filter on (the audit.list request without paging). */
export interface AuditFilter {
  datasetId?: number;
  grantId?: number;
  names?: string[];
}

export const AUDIT_PAGE_SIZE = 1000;

/** Every row matching the filter, fetched page by page (audit.list allows 1,000 per call). */
export async function fetchAllAuditRows(
  api: ApiClient,
  filter: AuditFilter,
  onProgress?: (done: number, total: number) => void,
): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  for (let offset = 0; ; offset += AUDIT_PAGE_SIZE) {
    const answer = await api.call('audit.list', { ...filter, offset, limit: AUDIT_PAGE_SIZE });
    if (!answer.ok) throw new Error(answer.error.message);
    rows.push(...answer.value.rows);
    onProgress?.(rows.length, answer.value.total);
    if (answer.value.rows.length < AUDIT_PAGE_SIZE || rows.length >= answer.value.total) return rows;
  }
}

const CSV_COLUMNS = [
  'id',
  'blockNumber',
  'blockHash',
  'txHash',
  'logIndex',
  'contract',
  'name',
  'datasetId',
  'grantId',
  'args',
] as const;

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV with a header row; args as JSON in one cell. */
export function auditRowsToCsv(rows: readonly AuditRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of rows) lines.push(CSV_COLUMNS.map((column) => csvCell(row[column])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function auditRowsToJson(rows: readonly AuditRow[]): string {
  return `${JSON.stringify(rows, null, 2)}\n`;
}

/** Hands a file to the browser's (or Electron's) download: the renderer cannot write files itself. */
export function downloadText(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = name;
  anchor.style.display = 'none';
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
