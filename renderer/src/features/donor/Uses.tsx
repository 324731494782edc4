import { Card, Group, NativeSelect, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useQuery } from '../../api/hooks';
import { AuditTable } from '../audit/AuditTable';

/** The on-chain events that used a dataset holding the donor's records. */
export const USE_EVENTS = ['Used', 'JobPermitIssued', 'JobResultPosted'];

/** Every use of the datasets that hold my records, from the audit trail, each verifiable against the chain. */
export function Uses() {
  const consent = useQuery('consent.list', {}, { refreshOn: ['cache.changed'] });
  const [chosen, setChosen] = useState('');
  const mine = consent.data ?? [];
  const datasetId = chosen ? Number(chosen) : mine[0]?.datasetId;
  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Uses of my records</Title>
        <Text c="dimmed" maw={760}>
          Every object served and every compute job on a dataset that holds your records is an event on chain. Check any
          row against the chain yourself.
        </Text>
      </div>
      <Group>
        <NativeSelect
          label="Dataset"
          value={datasetId === undefined ? '' : String(datasetId)}
          onChange={(e) => setChosen(e.currentTarget.value)}
          data={
            mine.length
              ? mine.map((c) => ({
                  value: String(c.datasetId),
                  label: `Dataset #${c.datasetId} (${c.uses} ${c.uses === 1 ? 'use' : 'uses'})`,
                }))
              : [{ value: '', label: 'Import a consent receipt first' }]
          }
          w={320}
        />
      </Group>
      {datasetId !== undefined ? (
        <Card withBorder padding={0}>
          <AuditTable filter={{ datasetId, names: USE_EVENTS }} height={480} exportName={`uses-dataset-${datasetId}`} />
        </Card>
      ) : (
        <Text size="sm" c="dimmed">
          No dataset yet: import your consent receipt under My datasets.
        </Text>
      )}
    </Stack>
  );
}
