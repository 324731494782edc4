import { Badge, Button, Card, Group, NumberInput, Popover, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { useState } from 'react';
import type { GrantView } from '../../../../shared/ipc/custodian';
import { useAction, useQuery } from '../../api/hooks';
import { formatCos, formatTime, opLabels } from '../../components/format';
import { grantStatus } from './budget';
import { useNowSeconds } from './clock';
import { DuoBadges } from './duo';

const statusColor: Record<string, string> = {
  Requested: 'yellow',
  Granted: 'teal',
  Denied: 'red',
  Revoked: 'red',
  Expired: 'gray',
};

function FundGrant({ grant }: { grant: GrantView }) {
  const [opened, setOpened] = useState(false);
  const [runs, setRuns] = useState<number | string>(1);
  const fund = useAction('access.fund', {
    success: (value) => `Grant #${grant.grantId} funded with ${formatCos(value.amount)}`,
    failure: 'Funding failed',
  });
  const fee = BigInt(grant.feePerUse);
  const valid = typeof runs === 'number' && Number.isInteger(runs) && runs >= 1;
  if (fee === 0n)
    return (
      <Tooltip label="This grant carries no fee">
        <Button size="xs" variant="default" disabled>
          Fund
        </Button>
      </Tooltip>
    );
  return (
    <Popover opened={opened} onChange={setOpened} position="bottom-end" withArrow trapFocus>
      <Popover.Target>
        <Button
          size="xs"
          variant="light"
          aria-label={`Fund grant ${grant.grantId}`}
          onClick={() => setOpened((o) => !o)}
        >
          Fund
        </Button>
      </Popover.Target>
      <Popover.Dropdown>
        <Stack gap="xs" w={260}>
          <Text size="sm">Fee per use: {formatCos(grant.feePerUse)}</Text>
          <NumberInput label="Runs to prepay" min={1} allowDecimal={false} value={runs} onChange={setRuns} />
          <Text size="sm" c="dimmed">
            Total: {valid ? formatCos(fee * BigInt(runs)) : '—'}
          </Text>
          <Button
            disabled={!valid}
            loading={fund.pending}
            onClick={async () => {
              if (valid && (await fund.run({ grantId: grant.grantId, runs }))) setOpened(false);
            }}
          >
            Approve and fund
          </Button>
        </Stack>
      </Popover.Dropdown>
    </Popover>
  );
}

/** The lab's requests and grants, with live usage and funding of fee-bearing grants. */
export function MyGrants() {
  const requests = useQuery('requests.list', { mine: true }, { refreshOn: ['cache.changed'] });
  const grants = useQuery('grants.list', { mine: true }, { refreshOn: ['cache.changed'] });
  const now = useNowSeconds(5000);
  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Requests and grants</Title>
        <Text c="dimmed">What you asked for, what the stewards granted, and how much of it you have used.</Text>
      </div>
      <Card withBorder padding="md">
        <Title order={4} mb="sm">
          My requests
        </Title>
        <Table.ScrollContainer minWidth={700}>
          <Table aria-label="My requests" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Request</Table.Th>
                <Table.Th>Dataset</Table.Th>
                <Table.Th>Operations</Table.Th>
                <Table.Th>Purpose</Table.Th>
                <Table.Th>Block</Table.Th>
                <Table.Th>Status</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(requests.data ?? []).map((r) => (
                <Table.Tr key={r.grantId} data-testid={`request-${r.grantId}`}>
                  <Table.Td>#{r.grantId}</Table.Td>
                  <Table.Td>#{r.datasetId}</Table.Td>
                  <Table.Td>{opLabels(r.opMask)}</Table.Td>
                  <Table.Td>
                    <DuoBadges mask={r.purposeCodes} />
                  </Table.Td>
                  <Table.Td>{r.requestedBlock}</Table.Td>
                  <Table.Td>
                    <Badge color={statusColor[r.status]} variant="light">
                      {r.status}
                    </Badge>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {requests.data?.length === 0 && (
          <Text size="sm" c="dimmed">
            No request yet.
          </Text>
        )}
        {requests.error && <Text c="red">{requests.error.message}</Text>}
      </Card>
      <Card withBorder padding="md">
        <Title order={4} mb="sm">
          My grants
        </Title>
        <Table.ScrollContainer minWidth={980}>
          <Table aria-label="My grants" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Grant</Table.Th>
                <Table.Th>Dataset</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Operations</Table.Th>
                <Table.Th>Runs</Table.Th>
                <Table.Th>Uses</Table.Th>
                <Table.Th>ε spent / cap</Table.Th>
                <Table.Th>Expires</Table.Th>
                <Table.Th>Fee per use</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(grants.data ?? []).map((g) => {
                const status = grantStatus(g, now);
                return (
                  <Table.Tr key={g.grantId} data-testid={`grant-${g.grantId}`}>
                    <Table.Td>#{g.grantId}</Table.Td>
                    <Table.Td>#{g.datasetId}</Table.Td>
                    <Table.Td>
                      <Badge color={statusColor[status]} variant="light">
                        {status}
                      </Badge>
                    </Table.Td>
                    <Table.Td>{opLabels(g.opMask)}</Table.Td>
                    <Table.Td>
                      {g.runsUsed}/{g.maxRuns}
                    </Table.Td>
                    <Table.Td>{g.useCount}</Table.Td>
                    <Table.Td>
                      {(g.epsilonSpent / 1e6).toString()} / {(g.epsilonCap / 1e6).toString()}
                    </Table.Td>
                    <Table.Td>{formatTime(g.expiry)}</Table.Td>
                    <Table.Td>{BigInt(g.feePerUse) === 0n ? 'free' : formatCos(g.feePerUse)}</Table.Td>
                    <Table.Td>
                      <Group justify="end">
                        <FundGrant grant={g} />
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {grants.data?.length === 0 && (
          <Text size="sm" c="dimmed">
            No grant yet.
          </Text>
        )}
        {grants.error && <Text c="red">{grants.error.message}</Text>}
      </Card>
    </Stack>
  );
}
