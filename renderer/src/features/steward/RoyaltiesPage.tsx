import { Alert, Button, Card, Group, Select, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { useState } from 'react';
import { useAction, useQuery } from '../../api/hooks';
import { formatCos } from '../../components/format';

/** Fees earned under the steward's grants: settle used runs into balances, claim. */
export function RoyaltiesPage() {
  const royalties = useQuery('royalties.get', {}, { refreshOn: ['cache.changed'] });
  const grants = useQuery('grants.list', { mine: true }, { refreshOn: ['cache.changed'] });
  const [grantId, setGrantId] = useState<string | null>(null);
  const settle = useAction('royalties.settle', { success: 'Used runs settled', failure: 'Could not settle' });
  const claim = useAction('royalties.claim', {
    success: (value) => `Claimed ${formatCos(value.amount)}`,
    failure: 'Could not claim',
  });
  const feeGrants = (grants.data ?? []).filter((grant) => BigInt(grant.feePerUse) > 0n);
  const claimable = royalties.data ? BigInt(royalties.data.claimable) : 0n;
  const byDataset = new Map<number, { runs: number; earned: bigint }>();
  for (const grant of feeGrants) {
    const entry = byDataset.get(grant.datasetId) ?? { runs: 0, earned: 0n };
    entry.runs += grant.runsUsed;
    entry.earned += (BigInt(grant.feePerUse) * BigInt(grant.runsUsed) * BigInt(grant.ownerBps)) / 10_000n;
    byDataset.set(grant.datasetId, entry);
  }

  return (
    <Stack>
      <div>
        <Title order={2}>Royalties</Title>
        <Text c="dimmed" size="sm">
          Labs prepay fee-bearing grants; settling a grant moves the fees of its used runs to the owner, the donors and
          the platform.
        </Text>
      </div>
      {royalties.error && <Alert color="red">{royalties.error.message}</Alert>}
      <Card withBorder radius="md">
        <Group justify="space-between">
          <div>
            <Text size="sm" c="dimmed">
              Claimable now
            </Text>
            <Text size="xl" fw={700} data-testid="claimable">
              {royalties.data ? formatCos(royalties.data.claimable) : '…'}
            </Text>
          </div>
          <Tooltip label={claimable > 0n ? 'Transfer the balance to your account' : 'Nothing to claim yet'}>
            <Button disabled={claimable === 0n} loading={claim.pending} onClick={() => void claim.run({})}>
              Claim
            </Button>
          </Tooltip>
        </Group>
      </Card>
      <Card withBorder radius="md">
        <Title order={4} mb="sm">
          Earned by dataset (owner share of used runs)
        </Title>
        <Table aria-label="Royalties by dataset">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Dataset</Table.Th>
              <Table.Th>Paid runs used</Table.Th>
              <Table.Th>Owner share</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {[...byDataset].map(([datasetId, entry]) => (
              <Table.Tr key={datasetId}>
                <Table.Td>#{datasetId}</Table.Td>
                <Table.Td>{entry.runs}</Table.Td>
                <Table.Td>{formatCos(entry.earned)}</Table.Td>
              </Table.Tr>
            ))}
            {byDataset.size === 0 && (
              <Table.Tr>
                <Table.Td colSpan={3}>
                  <Text size="sm" c="dimmed">
                    No fee-bearing grants yet.
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </Card>
      <Card withBorder radius="md">
        <Title order={4} mb="sm">
          Settle a grant
        </Title>
        <Group align="end">
          <Select
            label="Grant"
            placeholder={feeGrants.length ? 'Choose a fee-bearing grant' : 'No fee-bearing grants'}
            data={feeGrants.map((grant) => ({
              value: String(grant.grantId),
              label: `#${grant.grantId} · dataset #${grant.datasetId} · ${grant.runsUsed} runs × ${formatCos(grant.feePerUse)}`,
            }))}
            value={grantId}
            onChange={setGrantId}
            w={420}
          />
          <Tooltip label={grantId ? 'Settle the used runs of this grant' : 'Choose a grant first'}>
            <Button
              disabled={!grantId}
              loading={settle.pending}
              onClick={() => grantId && void settle.run({ grantId: Number(grantId) })}
            >
              Settle
            </Button>
          </Tooltip>
        </Group>
      </Card>
    </Stack>
  );
}
