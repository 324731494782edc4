import { Alert, Badge, Button, Card, Group, Modal, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { ChannelResponse } from '../../../../shared/ipc/contract';
import { useAction, useQuery } from '../../api/hooks';
import { FilePicker } from '../../components/FilePicker';
import { DuoBadges } from '../lab/duo';
import { useUiStore } from '../../store/ui';

type Consent = ChannelResponse<'consent.list'>[number];

function ConsentDialog({ consent, onClose }: { consent: Consent; onClose(): void }) {
  const withdrawing = !consent.withdrawn;
  const withdraw = useAction('consent.withdraw', {
    success: `Consent withdrawn from dataset #${consent.datasetId}`,
    failure: 'Consent was not withdrawn',
  });
  const restore = useAction('consent.restore', {
    success: `Consent restored for dataset #${consent.datasetId}`,
    failure: 'Consent was not restored',
  });
  const action = withdrawing ? withdraw : restore;
  return (
    <Stack gap="sm">
      {withdrawing ? (
        <>
          <Text size="sm">
            After withdrawal, every <b>new</b> compute job on dataset #{consent.datasetId} leaves your records out (the
            orchestrator checks the chain at the job's block), and your royalty share stops accruing.
          </Text>
          <Text size="sm">
            Uses already made stay in the audit trail, and the runs already used are settled first, so you are paid your
            share of them. You can restore consent later.
          </Text>
        </>
      ) : (
        <Text size="sm">
          Restoring consent lets new jobs on dataset #{consent.datasetId} include your records again, under the purposes
          you originally consented to, and your royalty share accrues again.
        </Text>
      )}
      <Group justify="end">
        <Button variant="default" onClick={onClose}>
          Cancel
        </Button>
        <Button
          color={withdrawing ? 'red' : 'teal'}
          loading={action.pending}
          onClick={async () => {
            if (await action.run({ datasetId: consent.datasetId })) onClose();
          }}
        >
          {withdrawing ? 'Withdraw consent' : 'Restore consent'}
        </Button>
      </Group>
    </Stack>
  );
}

/** The datasets that hold the donor's records (from imported consent receipts), their purposes and consent. */
export function MyDatasets() {
  const consent = useQuery('consent.list', {}, { refreshOn: ['cache.changed'] });
  const datasets = useQuery('datasets.list', {}, { refreshOn: ['cache.changed'] });
  const setPage = useUiStore((s) => s.setPage);
  const [picking, setPicking] = useState(false);
  const [dialog, setDialog] = useState<Consent | null>(null);
  const importReceipt = useAction('consent.importReceipt', {
    success: (value) => `Receipt imported: dataset #${value.datasetId}, donor #${value.donorSbtId}`,
    failure: 'The receipt was refused',
  });
  const byId = new Map((datasets.data ?? []).map((d) => [d.datasetId, d]));

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="start">
        <div>
          <Title order={2}>My datasets</Title>
          <Text c="dimmed" maw={720}>
            The steward gives each donor a consent receipt: the proof that your records are in a dataset. Import it to
            follow the dataset's uses and to withdraw or restore your consent.
          </Text>
        </div>
        <Button loading={importReceipt.pending} onClick={() => setPicking(true)}>
          Import consent receipt
        </Button>
      </Group>
      {consent.error && (
        <Alert color="red" title="Consent state unavailable">
          {consent.error.message}
        </Alert>
      )}
      <Card withBorder padding="md">
        <Table.ScrollContainer minWidth={820}>
          <Table aria-label="My datasets" verticalSpacing="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Dataset</Table.Th>
                <Table.Th>My donor id</Table.Th>
                <Table.Th>Purposes allowed</Table.Th>
                <Table.Th>Donors</Table.Th>
                <Table.Th>Uses</Table.Th>
                <Table.Th>Consent</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(consent.data ?? []).map((c) => {
                const dataset = byId.get(c.datasetId);
                return (
                  <Table.Tr key={c.datasetId} data-testid={`consent-${c.datasetId}`}>
                    <Table.Td>
                      #{c.datasetId}
                      {dataset && (
                        <Text span size="xs" c="dimmed">
                          {' '}
                          v{dataset.version}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>#{c.donorSbtId}</Table.Td>
                    <Table.Td>{dataset ? <DuoBadges mask={dataset.consentCodes} /> : '—'}</Table.Td>
                    <Table.Td>{dataset ? `${dataset.donorCount} (${dataset.withdrawnCount} withdrawn)` : '—'}</Table.Td>
                    <Table.Td>
                      <Button variant="subtle" size="xs" onClick={() => setPage('donor-uses')}>
                        {c.uses} {c.uses === 1 ? 'use' : 'uses'}
                      </Button>
                    </Table.Td>
                    <Table.Td>
                      <Badge color={c.withdrawn ? 'red' : 'teal'} variant="light" data-testid="consent-state">
                        {c.withdrawn ? 'Withdrawn' : 'Consented'}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Group justify="end">
                        <Button
                          size="xs"
                          variant={c.withdrawn ? 'light' : 'outline'}
                          color={c.withdrawn ? 'teal' : 'red'}
                          onClick={() => setDialog(c)}
                        >
                          {c.withdrawn ? 'Restore consent…' : 'Withdraw consent…'}
                        </Button>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {consent.data?.length === 0 && (
          <Text size="sm" c="dimmed">
            No receipt imported yet.
          </Text>
        )}
      </Card>
      <FilePicker
        opened={picking}
        onClose={() => setPicking(false)}
        title="Choose a consent receipt"
        extensions={['.json']}
        onPick={(path) => {
          void importReceipt.run({ path }).then((value) => value && consent.reload());
        }}
      />
      <Modal
        opened={dialog !== null}
        onClose={() => setDialog(null)}
        title={dialog?.withdrawn ? 'Restore consent?' : 'Withdraw consent?'}
      >
        {dialog && (
          <ConsentDialog
            consent={dialog}
            onClose={() => {
              setDialog(null);
              consent.reload();
            }}
          />
        )}
      </Modal>
    </Stack>
  );
}
