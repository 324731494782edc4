import { Alert, Badge, Button, Card, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { PermitView } from '../../../../shared/ipc/custodian';
import { useEvent, useQuery } from '../../api/hooks';
import { deltaValue, epsilonValue, shortHex } from '../../components/format';
import { notify } from '../../components/notify';
import { ResultPanel, ResultStateBadge } from '../results/ResultView';

function algorithmLabel(permit: PermitView): string {
  return permit.algorithm?.replace(/^cos\.alg\./, '') ?? shortHex(permit.algorithmId);
}

function DecryptionState({ permitId }: { permitId: number }) {
  const result = useQuery('results.get', { permitId }, { refreshOn: ['result.decrypted'] });
  if (!result.data) return <Text size="xs">…</Text>;
  return <ResultStateBadge state={result.data.state} />;
}

/** Job permits on the steward's datasets, their results as they are posted and decrypted here. */
export function JobsPage() {
  const datasets = useQuery('datasets.list', {}, { refreshOn: ['cache.changed'] });
  const permits = useQuery('permits.list', {}, { refreshOn: ['cache.changed', 'result.decrypted'] });
  const grants = useQuery('grants.list', { mine: true }, { refreshOn: ['cache.changed'] });
  const [selected, setSelected] = useState<number | null>(null);
  useEvent('cache.changed', (event) => {
    if (event.names.includes('JobResultPosted'))
      notify({
        kind: 'info',
        title: 'A job result was posted',
        message: 'It is fetched, verified and decrypted here.',
      });
  });
  const mine = new Set((datasets.data ?? []).filter((dataset) => dataset.mine).map((dataset) => dataset.datasetId));
  const rows = (permits.data ?? []).filter((permit) => mine.has(permit.datasetId));
  const current = selected ?? rows.find((permit) => permit.status === 'ResultPosted')?.permitId ?? null;

  return (
    <Stack>
      <div>
        <Title order={2}>Jobs and results</Title>
        <Text c="dimmed" size="sm">
          Job permits labs issued on your datasets. When the orchestrator posts a result, this app fetches it, checks
          its commitment and decrypts it with your key; nothing leaves this machine unless you export it.
        </Text>
      </div>
      {permits.error && <Alert color="red">{permits.error.message}</Alert>}
      <Table aria-label="Job permits" verticalSpacing="xs" highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Permit</Table.Th>
            <Table.Th>Grant</Table.Th>
            <Table.Th>Algorithm</Table.Th>
            <Table.Th>ε / δ</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Decryption</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((permit) => (
            <Table.Tr
              key={permit.permitId}
              data-testid={`permit-${permit.permitId}`}
              bg={permit.permitId === current ? 'var(--mantine-primary-color-light)' : undefined}
            >
              <Table.Td>
                <Text fw={600} size="sm">
                  #{permit.permitId}
                </Text>
                <Text size="xs" c="dimmed">
                  block {permit.issuedBlock}
                </Text>
              </Table.Td>
              <Table.Td>
                #{permit.grantId} · dataset #{permit.datasetId}
              </Table.Td>
              <Table.Td>
                <Text size="sm">{algorithmLabel(permit)}</Text>
              </Table.Td>
              <Table.Td>
                <Text size="xs">
                  {epsilonValue(permit.epsilon)} / {deltaValue(permit.delta).toExponential(1)}
                </Text>
              </Table.Td>
              <Table.Td>
                <Badge color={permit.status === 'ResultPosted' ? 'teal' : 'yellow'} variant="light">
                  {permit.status === 'ResultPosted' ? 'Result posted' : 'Running'}
                </Badge>
              </Table.Td>
              <Table.Td>
                {permit.status === 'ResultPosted' ? (
                  <DecryptionState permitId={permit.permitId} />
                ) : (
                  <Text size="xs" c="dimmed">
                    waiting for the orchestrator
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Button
                  size="xs"
                  variant={permit.permitId === current ? 'filled' : 'default'}
                  onClick={() => setSelected(permit.permitId)}
                  aria-label={`View the result of permit ${permit.permitId}`}
                >
                  View result
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
          {rows.length === 0 && (
            <Table.Tr>
              <Table.Td colSpan={7}>
                <Text size="sm" c="dimmed">
                  {permits.loading ? 'Loading…' : 'No job permits on your datasets yet.'}
                </Text>
              </Table.Td>
            </Table.Tr>
          )}
        </Table.Tbody>
      </Table>
      {current !== null && (
        <Card withBorder radius="md" padding="lg">
          <Group justify="space-between" mb="sm">
            <Title order={4}>Result of permit #{current}</Title>
          </Group>
          <ResultPanel
            key={current}
            permitId={current}
            keySwitchAllowed={
              grants.data?.find((grant) => grant.grantId === rows.find((p) => p.permitId === current)?.grantId)
                ?.keySwitchAllowed ?? false
            }
          />
        </Card>
      )}
    </Stack>
  );
}
