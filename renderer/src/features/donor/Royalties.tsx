import { Alert, Button, Card, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { useQuery, useAction } from '../../api/hooks';
import { formatCos } from '../../components/format';

function ClaimButton({ datasetId, claimable, onDone }: { datasetId: number; claimable: string; onDone(): void }) {
  const claim = useAction('royalties.claimDonor', {
    success: (value) => `Claimed ${formatCos(value.amount)} from dataset #${datasetId}`,
    failure: 'The claim failed',
  });
  const empty = BigInt(claimable) === 0n;
  return (
    <Tooltip label="Nothing to claim yet: royalties accrue when fee-bearing runs are settled" disabled={!empty}>
      <Button
        size="xs"
        disabled={empty}
        loading={claim.pending}
        aria-label={`Claim royalties of dataset ${datasetId}`}
        onClick={async () => {
          if (await claim.run({ datasetId })) onDone();
        }}
      >
        Claim
      </Button>
    </Tooltip>
  );
}

/** The donor's royalty share per dataset, and its claim. */
export function Royalties() {
  const royalties = useQuery('royalties.get', {}, { refreshOn: ['cache.changed'] });
  const donor = royalties.data?.donor ?? [];
  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>My royalties</Title>
        <Text c="dimmed" maw={760}>
          Each fee-bearing use of a dataset pays the donors a share, split evenly among the donors who consented at the
          time. Settled shares can be claimed to your account.
        </Text>
      </div>
      {royalties.error && (
        <Alert color="red" title="Royalties unavailable">
          {royalties.error.message}
        </Alert>
      )}
      <Card withBorder padding="md">
        <Table aria-label="My royalties" verticalSpacing="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Dataset</Table.Th>
              <Table.Th>My donor id</Table.Th>
              <Table.Th>Claimable</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {donor.map((entry) => (
              <Table.Tr key={entry.datasetId} data-testid={`royalty-${entry.datasetId}`}>
                <Table.Td>#{entry.datasetId}</Table.Td>
                <Table.Td>#{entry.donorSbtId}</Table.Td>
                <Table.Td data-testid="claimable">{formatCos(entry.claimable)}</Table.Td>
                <Table.Td>
                  <ClaimButton datasetId={entry.datasetId} claimable={entry.claimable} onDone={royalties.reload} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {royalties.data && donor.length === 0 && (
          <Text size="sm" c="dimmed">
            No donor share yet: import a consent receipt under My datasets.
          </Text>
        )}
      </Card>
    </Stack>
  );
}
