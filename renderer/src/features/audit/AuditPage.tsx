import { Group, MultiSelect, NumberInput, Select, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useQuery } from '../../api/hooks';
import { AuditTable, type AuditFilter } from './AuditTable';

/** The access events an auditor asks about first, then the rest of the deployment's events. */
export const AUDIT_EVENT_NAMES = [
  'Requested',
  'Granted',
  'Denied',
  'Used',
  'Revoked',
  'JobPermitIssued',
  'JobResultPosted',
  'DatasetRegistered',
  'DatasetUpdated',
  'ConsentWithdrawn',
  'ConsentRestored',
  'GrantFunded',
  'Settled',
  'RoyaltyClaimed',
  'DonorRoyaltyClaimed',
  'EscrowRefunded',
  'Issued',
  'FheKeyPublished',
  'KeySwitchIssued',
  'AlgorithmRegistered',
];

/** Every chain event of the deployment, filterable, virtualized, verifiable and exportable. */
export function AuditPage() {
  const datasets = useQuery('datasets.list', {}, { refreshOn: ['cache.changed'] });
  const [datasetId, setDatasetId] = useState<string | null>(null);
  const [grantId, setGrantId] = useState<number | string>('');
  const [names, setNames] = useState<string[]>([]);
  const filter: AuditFilter = {};
  if (datasetId) filter.datasetId = Number(datasetId);
  if (typeof grantId === 'number' && grantId > 0) filter.grantId = grantId;
  if (names.length) filter.names = names;

  return (
    <Stack>
      <div>
        <Title order={2}>Audit trail</Title>
        <Text c="dimmed" size="sm">
          Every event of the deployment as the app cached it, newest first. Check any row against the chain&apos;s
          transaction receipt; export the filtered rows as CSV or JSON.
        </Text>
      </div>
      <Group align="end">
        <Select
          label="Dataset"
          placeholder="All datasets"
          clearable
          data={(datasets.data ?? []).map((dataset) => ({
            value: String(dataset.datasetId),
            label: `Dataset ${dataset.datasetId}${dataset.mine ? ' (mine)' : ''}`,
          }))}
          value={datasetId}
          onChange={setDatasetId}
          w={200}
        />
        <NumberInput
          label="Grant"
          placeholder="Any grant"
          min={1}
          allowDecimal={false}
          value={grantId}
          onChange={setGrantId}
          w={140}
        />
        <MultiSelect
          label="Events"
          placeholder={names.length ? undefined : 'All events'}
          data={AUDIT_EVENT_NAMES}
          value={names}
          onChange={setNames}
          searchable
          clearable
          w={420}
        />
      </Group>
      <AuditTable filter={filter} height={560} />
    </Stack>
  );
}
