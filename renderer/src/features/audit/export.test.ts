import { describe, expect, it } from 'vitest';
import type { AuditRow } from '../../../../shared/ipc/custodian';
import { auditRowsToCsv, auditRowsToJson } from './export';

const row = (id: number, args: Record<string, unknown>): AuditRow => ({
  id,
  blockNumber: 10 + id,
  blockHash: `0x${'a'.repeat(64)}`,
  txHash: `0x${'b'.repeat(64)}`,
  logIndex: id,
  contract: 'DataAccess',
  name: 'Granted',
  args,
  datasetId: 1,
  grantId: null,
});

describe('audit export', () => {
  it('writes RFC 4180 CSV with a header, args as JSON, quotes escaped', () => {
    const csv = auditRowsToCsv([row(1, { grantId: '7' }), row(2, { note: 'a "quoted", text' })]);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('id,blockNumber,blockHash,txHash,logIndex,contract,name,datasetId,grantId,args');
    expect(lines[1]).toBe(`1,11,0x${'a'.repeat(64)},0x${'b'.repeat(64)},1,DataAccess,Granted,1,,"{""grantId"":""7""}"`);
    expect(lines[2]!.endsWith('"{""note"":""a \\""quoted\\"", text""}"')).toBe(true);
    expect(lines[3]).toBe('');
  });

  it('writes JSON that parses back to the same rows', () => {
    const rows = [row(1, { grantId: '7' })];
    expect(JSON.parse(auditRowsToJson(rows))).toEqual(rows);
  });
});
