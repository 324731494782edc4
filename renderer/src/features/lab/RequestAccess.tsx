import {
  Alert,
  Button,
  Card,
  Checkbox,
  Group,
  NativeSelect,
  Stack,
  Text,
  Textarea,
  Title,
  Tooltip,
} from '@mantine/core';
import { useState } from 'react';
import { duoMask } from '../../../../shared/domain/duo';
import { useAction, useQuery } from '../../api/hooks';
import { OP_BITS, shortHex } from '../../components/format';
import { DuoBadges, DuoPicker } from './duo';

/** A lab asks a dataset's steward for access: dataset, operations, DUO purpose codes and a purpose text. */
export function RequestAccess() {
  const datasets = useQuery('datasets.list', {}, { refreshOn: ['cache.changed'] });
  const [datasetId, setDatasetId] = useState('');
  const [ops, setOps] = useState<string[]>(['1', '2', '8']);
  const [codes, setCodes] = useState<string[]>(['HMB']);
  const [purpose, setPurpose] = useState('');
  const request = useAction('access.request', {
    success: (value) => `Access requested: request #${value.grantId}`,
    failure: 'The request was not sent',
  });
  const list = datasets.data ?? [];
  const chosen = list.find((d) => String(d.datasetId) === datasetId) ?? null;
  const opMask = ops.reduce((mask, bit) => mask | Number(bit), 0);
  const problem = !chosen
    ? 'Choose a dataset'
    : opMask === 0
      ? 'Choose at least one operation'
      : codes.length === 0
        ? 'Choose at least one DUO purpose code'
        : purpose.trim().length < 10
          ? 'Describe the purpose (at least 10 characters)'
          : null;

  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Request access</Title>
        <Text c="dimmed" maw={760}>
          Declare what you will do with the data. The purpose text is hashed on chain with its DUO codes; the steward
          sees both and sets the clauses of the grant.
        </Text>
      </div>
      <Card withBorder padding="md" maw={900}>
        <Stack gap="md">
          <NativeSelect
            label="Dataset"
            value={datasetId}
            onChange={(event) => setDatasetId(event.currentTarget.value)}
            data={[
              { value: '', label: list.length ? 'Choose a dataset…' : 'No dataset registered yet' },
              ...list.map((d) => ({
                value: String(d.datasetId),
                label: `Dataset #${d.datasetId} · v${d.version} · ${d.donorCount} donors · owner ${shortHex(d.owner)}`,
              })),
            ]}
          />
          {chosen && (
            <Group gap="xs">
              <Text size="sm" c="dimmed">
                Donors consented to:
              </Text>
              <DuoBadges mask={chosen.consentCodes} />
            </Group>
          )}
          <Checkbox.Group label="Operations" value={ops} onChange={setOps}>
            <Group mt={6}>
              {OP_BITS.map((op) => (
                <Checkbox key={op.bit} value={String(op.bit)} label={op.label} />
              ))}
            </Group>
          </Checkbox.Group>
          <div>
            <Text size="sm" fw={500} mb={6}>
              Purpose codes (DUO)
            </Text>
            <DuoPicker value={codes} onChange={setCodes} />
          </div>
          <Textarea
            label="Purpose text"
            description="What the study is, who runs it, what will be published"
            autosize
            minRows={3}
            maxLength={4000}
            value={purpose}
            onChange={(event) => setPurpose(event.currentTarget.value)}
          />
          {request.result && (
            <Alert color="teal" title={`Request #${request.result.grantId} sent`}>
              Purpose hash {shortHex(request.result.purposeHash)} · tx {shortHex(request.result.txHash)}. The steward
              now sees it in their inbox; its status appears under Requests and grants.
            </Alert>
          )}
          <Group>
            <Tooltip label={problem ?? ''} disabled={!problem}>
              <Button
                disabled={!!problem}
                loading={request.pending}
                onClick={() =>
                  chosen &&
                  void request.run({
                    datasetId: chosen.datasetId,
                    opMask,
                    purposeCodes: duoMask(codes),
                    purposeText: purpose.trim(),
                  })
                }
              >
                Request access
              </Button>
            </Tooltip>
          </Group>
        </Stack>
      </Card>
    </Stack>
  );
}
