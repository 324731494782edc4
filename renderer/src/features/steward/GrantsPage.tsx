import {
  Alert,
  Badge,
  Button,
  Group,
  Modal,
  Progress,
  SegmentedControl,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
} from '@mantine/core';
import { useEffect, useState } from 'react';
import type { GrantView } from '../../../../shared/ipc/custodian';
import { useAction, useQuery } from '../../api/hooks';
import { formatCos, formatTime, opLabels } from '../../components/format';

export type GrantState = 'active' | 'pending' | 'expired' | 'revoked';

export function grantState(grant: GrantView, now: number): GrantState {
  if (grant.status === 'Revoked') return 'revoked';
  if (grant.expiry <= now) return 'expired';
  if (grant.notBefore > now) return 'pending';
  return 'active';
}

const stateColors: Record<GrantState, string> = { active: 'teal', pending: 'blue', expired: 'gray', revoked: 'red' };

function RevokeButton({ grant }: { grant: GrantView }) {
  const [confirming, setConfirming] = useState(false);
  const revoke = useAction('access.revoke', { success: `Grant ${grant.grantId} revoked`, failure: 'Could not revoke' });
  return (
    <>
      <Button size="xs" color="red" variant="light" onClick={() => setConfirming(true)} loading={revoke.pending}>
        Revoke
      </Button>
      <Modal opened={confirming} onClose={() => setConfirming(false)} title={`Revoke grant #${grant.grantId}?`}>
        <Stack>
          <Text size="sm">
            The lab (identity #{grant.granteeSbtId}) loses access at once: the gateway refuses its tickets and no new
            job permits can be issued. Results already delivered stay with the lab. This cannot be undone.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Keep the grant
            </Button>
            <Button
              color="red"
              onClick={async () => {
                setConfirming(false);
                await revoke.run({ grantId: grant.grantId });
              }}
            >
              Revoke grant #{grant.grantId}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

/** Grants on the steward's datasets with live usage counters; active ones can be revoked. */
export function GrantsPage() {
  const grants = useQuery('grants.list', { mine: true }, { refreshOn: ['cache.changed'] });
  const [filter, setFilter] = useState<'all' | GrantState>('all');
  const [now, setNow] = useState(() => Math.floor(Date.now() / 1000));
  // Grants expire with the clock, not with an event: re-evaluate the states every few seconds.
  useEffect(() => {
    const timer = setInterval(() => setNow(Math.floor(Date.now() / 1000)), 5_000);
    return () => clearInterval(timer);
  }, []);
  const rows = (grants.data ?? []).filter((grant) => filter === 'all' || grantState(grant, now) === filter);
  return (
    <Stack>
      <Group justify="space-between">
        <div>
          <Title order={2}>Grants</Title>
          <Text c="dimmed" size="sm">
            Every grant on your datasets, with its runs, uses and job permits as the chain counts them.
          </Text>
        </div>
        <SegmentedControl
          aria-label="Grant state"
          value={filter}
          onChange={(value) => setFilter(value as typeof filter)}
          data={[
            { value: 'all', label: 'All' },
            { value: 'active', label: 'Active' },
            { value: 'expired', label: 'Expired' },
            { value: 'revoked', label: 'Revoked' },
          ]}
        />
      </Group>
      {grants.error && <Alert color="red">{grants.error.message}</Alert>}
      <Table aria-label="Grants" verticalSpacing="xs" striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Grant</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>Lab</Table.Th>
            <Table.Th>Operations</Table.Th>
            <Table.Th>Runs</Table.Th>
            <Table.Th>Uses</Table.Th>
            <Table.Th>Permits</Table.Th>
            <Table.Th>Fee per use</Table.Th>
            <Table.Th>Valid</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((grant) => {
            const state = grantState(grant, now);
            return (
              <Table.Tr key={grant.grantId} data-testid={`grant-${grant.grantId}`}>
                <Table.Td>
                  <Text fw={600} size="sm">
                    #{grant.grantId}
                  </Text>
                  <Text size="xs" c="dimmed">
                    dataset #{grant.datasetId}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Badge color={stateColors[state]} variant="light" data-testid="grant-state">
                    {state}
                  </Badge>
                </Table.Td>
                <Table.Td>#{grant.granteeSbtId}</Table.Td>
                <Table.Td>
                  <Text size="xs">{opLabels(grant.opMask)}</Text>
                </Table.Td>
                <Table.Td miw={110}>
                  <Text size="xs" data-testid="grant-runs">
                    {grant.runsUsed} / {grant.maxRuns}
                  </Text>
                  <Progress
                    size="sm"
                    value={grant.maxRuns ? (grant.runsUsed / grant.maxRuns) * 100 : 0}
                    aria-label={`Runs used of grant ${grant.grantId}`}
                  />
                </Table.Td>
                <Table.Td>{grant.useCount}</Table.Td>
                <Table.Td>{grant.jobPermitCount}</Table.Td>
                <Table.Td>
                  <Text size="xs">{formatCos(grant.feePerUse)}</Text>
                  <Text size="xs" c="dimmed">
                    {grant.ownerBps / 100}/{grant.donorsBps / 100}/{grant.platformBps / 100} %
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Text size="xs">{formatTime(grant.notBefore)}</Text>
                  <Text size="xs" c="dimmed">
                    to {formatTime(grant.expiry)}
                  </Text>
                </Table.Td>
                <Table.Td>
                  {state === 'revoked' || state === 'expired' ? (
                    <Tooltip label={`This grant is already ${state}`}>
                      <Button size="xs" variant="light" disabled>
                        Revoke
                      </Button>
                    </Tooltip>
                  ) : (
                    <RevokeButton grant={grant} />
                  )}
                </Table.Td>
              </Table.Tr>
            );
          })}
          {rows.length === 0 && (
            <Table.Tr>
              <Table.Td colSpan={10}>
                <Text size="sm" c="dimmed">
                  {grants.loading ? 'Loading…' : 'No grants here.'}
                </Text>
              </Table.Td>
            </Table.Tr>
          )}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
