import { Badge, Card, Code, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import type { Workspace } from '../../../../../shared/ipc/contract';
import { useChainStore } from '../../../store/chain';

const purpose: Record<Workspace, { title: string; text: string }> = {
  steward: {
    title: 'Steward workspace',
    text: 'Register encrypted cohorts, review access requests, approve grants and compute permits with their clauses, revoke, and audit every use.',
  },
  donor: {
    title: 'Donor workspace',
    text: 'See every use of the datasets that hold your records, withdraw or restore consent, and claim your royalty share.',
  },
  lab: {
    title: 'Lab workspace',
    text: 'Request access for a declared purpose, receive results, and decrypt them offline with your own key.',
  },
};

/** What the app is connected to: the network, its contracts and the companion services, as the core reports them. */
export function NetworkOverview({ workspace }: { workspace: Workspace }) {
  const { appInfo, status, services } = useChainStore();
  const contracts = Object.entries(appInfo?.network.contracts ?? {});
  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>{purpose[workspace].title}</Title>
        <Text c="dimmed" maw={720}>
          {purpose[workspace].text}
        </Text>
      </div>
      <SimpleGrid cols={{ base: 1, md: 3 }}>
        <Card withBorder padding="md">
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            Network
          </Text>
          <Text fw={600} size="lg">
            {appInfo?.network.name ?? '—'}
          </Text>
          <Text size="sm" c="dimmed">
            chain {status?.chainId ?? appInfo?.network.chainId ?? '—'} · block {status?.blockNumber ?? '—'}
          </Text>
        </Card>
        <Card withBorder padding="md">
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            RPC endpoint
          </Text>
          <Code block>{appInfo?.network.rpcUrl ?? '—'}</Code>
        </Card>
        <Card withBorder padding="md">
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            Services
          </Text>
          <Stack gap={4} mt={4}>
            {services.length === 0 && <Text size="sm">No gateway or orchestrator configured</Text>}
            {services.map((s) => (
              <Group key={s.name} justify="space-between">
                <Text size="sm" tt="capitalize">
                  {s.name}
                </Text>
                <Badge size="sm" color={s.healthy ? 'teal' : 'red'} variant="light">
                  {s.healthy ? 'healthy' : 'unreachable'}
                </Badge>
              </Group>
            ))}
          </Stack>
        </Card>
      </SimpleGrid>
      <Card withBorder padding="md">
        <Group justify="space-between" mb="xs">
          <Title order={4}>Contracts</Title>
          {appInfo?.network.deploymentFile && (
            <Text size="xs" c="dimmed">
              from <Code>{appInfo.network.deploymentFile}</Code>
            </Text>
          )}
        </Group>
        {contracts.length === 0 ? (
          <Text size="sm" c="dimmed">
            No deployment file configured.
          </Text>
        ) : (
          <Table striped highlightOnHover aria-label="Deployed contracts">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Contract</Table.Th>
                <Table.Th>Address</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {contracts.map(([name, address]) => (
                <Table.Tr key={name}>
                  <Table.Td>{name}</Table.Td>
                  <Table.Td>
                    <Code>{address}</Code>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
    </Stack>
  );
}
