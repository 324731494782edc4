import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Group,
  NativeSelect,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core';
import { useState } from 'react';
import type { ChannelResponse } from '../../../../shared/ipc/contract';
import { useAction, useQuery } from '../../api/hooks';
import { shortHex } from '../../components/format';
import { useSession } from '../../store/session';
import { countdown, useNowSeconds } from './clock';
import { useFetched } from './fetched';

type Ticket = ChannelResponse<'tickets.list'>[number];
type Fetched = ChannelResponse<'objects.fetch'>;

const opName: Record<number, string> = { 1: 'READ', 2: 'LIST', 4: 'EXPORT' };

function TicketRow({
  ticket,
  now,
  onFetched,
}: {
  ticket: Ticket;
  now: number;
  onFetched(what: string, f: Fetched): void;
}) {
  const [digest, setDigest] = useState('');
  const manifest = useAction('objects.fetch', { failure: 'The gateway refused the fetch' });
  const object = useAction('objects.fetch', { failure: 'The gateway refused the fetch' });
  const expired = ticket.expiry <= now;
  const digestOk = /^[0-9a-f]{64}$/.test(digest);
  return (
    <Table.Tr data-testid={`ticket-${ticket.ticketHash}`}>
      <Table.Td>
        <Tooltip label={ticket.ticketHash}>
          <Code>{shortHex(ticket.ticketHash)}</Code>
        </Tooltip>
      </Table.Td>
      <Table.Td>#{ticket.datasetId}</Table.Td>
      <Table.Td>{opName[ticket.op] ?? ticket.op}</Table.Td>
      <Table.Td>
        <Badge color={expired ? 'gray' : ticket.expiry - now < 120 ? 'yellow' : 'teal'} variant="light">
          {countdown(ticket.expiry, now)}
        </Badge>
      </Table.Td>
      <Table.Td>
        <Group gap="xs" wrap="nowrap">
          <Tooltip label="The ticket has expired: request a new one" disabled={!expired}>
            <Button
              size="xs"
              variant="light"
              disabled={expired}
              loading={manifest.pending}
              onClick={async () => {
                const f = await manifest.run({ ticketHash: ticket.ticketHash });
                if (f) onFetched('Manifest', f);
              }}
            >
              Fetch manifest
            </Button>
          </Tooltip>
          <TextInput
            size="xs"
            aria-label="Object digest"
            placeholder="object digest (64 hex, from the manifest)"
            value={digest}
            onChange={(e) => setDigest(e.currentTarget.value.trim().toLowerCase())}
            error={digest && !digestOk ? true : undefined}
            w={300}
          />
          <Tooltip
            label={expired ? 'The ticket has expired' : 'Type a 64-hex object digest from the manifest'}
            disabled={!expired && digestOk}
          >
            <Button
              size="xs"
              disabled={expired || !digestOk}
              loading={object.pending}
              onClick={async () => {
                const f = await object.run({ ticketHash: ticket.ticketHash, digest });
                if (f) onFetched(`Object ${shortHex(digest, 6, 4)}`, f);
              }}
            >
              Fetch object
            </Button>
          </Tooltip>
        </Group>
        {(object.error ?? manifest.error) && (
          <Text size="xs" c="red" mt={4} role="status" data-testid="fetch-error">
            Last fetch refused: {(object.error ?? manifest.error)?.message}
          </Text>
        )}
      </Table.Td>
    </Table.Tr>
  );
}

/** Gateway tickets (900 s bearer credentials kept in the core) and fetches of encrypted objects. */
export function Tickets() {
  const grants = useQuery('grants.list', { mine: true }, { refreshOn: ['cache.changed'] });
  const tickets = useQuery('tickets.list', {}, { intervalMs: 15_000 });
  const now = useNowSeconds();
  const [grantKey, setGrantKey] = useState('');
  const [op, setOp] = useState('1');
  const address = useSession((state) => state.active?.address ?? '');
  const allFetched = useFetched((state) => state.files);
  const addFetched = useFetched((state) => state.add);
  const fetched = allFetched.filter((entry) => entry.owner === address);
  const request = useAction('tickets.request', { success: 'Ticket issued (valid 15 minutes)', failure: 'No ticket' });
  const usable = (grants.data ?? []).filter((g) => g.status === 'Granted' && (g.opMask & 7) !== 0);
  const chosen = usable.find((g) => String(g.grantId) === grantKey) ?? null;
  const opAllowed = chosen ? (chosen.opMask & Number(op)) !== 0 : false;
  const problem = !chosen ? 'Choose a grant' : !opAllowed ? 'The grant does not allow this operation' : null;

  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Tickets</Title>
        <Text c="dimmed" maw={760}>
          A ticket lets the gateway serve this profile encrypted objects of a dataset for 15 minutes. Every fetch is
          recorded on chain as a use of the grant.
        </Text>
      </div>
      <Card withBorder padding="md">
        <Group align="end">
          <NativeSelect
            label="Grant"
            value={grantKey}
            onChange={(e) => setGrantKey(e.currentTarget.value)}
            data={[
              { value: '', label: usable.length ? 'Choose a grant…' : 'No grant with READ/LIST/EXPORT' },
              ...usable.map((g) => ({
                value: String(g.grantId),
                label: `Grant #${g.grantId} · dataset #${g.datasetId}`,
              })),
            ]}
            w={320}
          />
          <NativeSelect
            label="Operation"
            value={op}
            onChange={(e) => setOp(e.currentTarget.value)}
            data={[
              { value: '1', label: 'READ' },
              { value: '2', label: 'LIST' },
              { value: '4', label: 'EXPORT' },
            ]}
            w={140}
          />
          <Tooltip label={problem ?? ''} disabled={!problem}>
            <Button
              disabled={!!problem}
              loading={request.pending}
              onClick={async () => {
                if (!chosen) return;
                if (await request.run({ datasetId: chosen.datasetId, op: Number(op) as 1 | 2 | 4 })) tickets.reload();
              }}
            >
              Request ticket
            </Button>
          </Tooltip>
        </Group>
      </Card>
      <Card withBorder padding="md">
        <Title order={4} mb="sm">
          My tickets
        </Title>
        <Table.ScrollContainer minWidth={900}>
          <Table aria-label="My tickets" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Ticket</Table.Th>
                <Table.Th>Dataset</Table.Th>
                <Table.Th>Operation</Table.Th>
                <Table.Th>Expires in</Table.Th>
                <Table.Th>Fetch</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(tickets.data ?? []).map((t) => (
                <TicketRow
                  key={t.ticketHash}
                  ticket={t}
                  now={now}
                  onFetched={(what, file) => addFetched({ owner: address, what, file })}
                />
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {tickets.data?.length === 0 && (
          <Text size="sm" c="dimmed">
            No live ticket.
          </Text>
        )}
      </Card>
      {fetched.length > 0 && (
        <Card withBorder padding="md">
          <Title order={4} mb="sm">
            Saved files
          </Title>
          <Stack gap="xs" aria-label="Saved files" data-testid="saved-files">
            {fetched.map(({ what, file }, index) => (
              <Alert key={`${file.path}-${index}`} color="teal" variant="light" title={what}>
                <Text size="sm">
                  Saved to <Code data-testid="saved-path">{file.path}</Code> · {file.bytes.toLocaleString('en')} bytes ·
                  SHA-256 <Code>{shortHex(file.sha256, 8, 8)}</Code>
                </Text>
              </Alert>
            ))}
          </Stack>
        </Card>
      )}
    </Stack>
  );
}
