import { Alert, Badge, Button, Card, Code, Group, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { useState } from 'react';
import type { BundleView } from '../../../../shared/ipc/custodian';
import { useAction, useQuery } from '../../api/hooks';
import { FilePicker } from '../../components/FilePicker';
import { shortHex } from '../../components/format';
import { ResultTable } from '../results/ResultView';

function VerifiedBadge({ bundle }: { bundle: BundleView }) {
  if (bundle.verified === null)
    return (
      <Badge color="gray" variant="light">
        not checked yet
      </Badge>
    );
  return bundle.verified ? (
    <Badge color="teal" variant="light">
      verified on chain
    </Badge>
  ) : (
    <Tooltip label={bundle.verifyError ?? ''}>
      <Badge color="red" variant="light">
        does not match the chain
      </Badge>
    </Tooltip>
  );
}

/**
 * Key-switched results (issue 7): a data owner releases a permit's result re-encrypted to this lab's own
 * FHE key as a bundle file. Decrypting needs no network; checking it against the chain does.
 */
export function Bundles() {
  const bundles = useQuery('bundles.list', {});
  const decrypt = useAction('bundles.decrypt', {
    success: (value) => `Result of permit ${value.permitId} decrypted with your key`,
    failure: 'Could not decrypt the bundle',
  });
  const verify = useAction('bundles.verify', {
    success: (value) =>
      value.verified ? `Permit ${value.permitId}: matches the chain` : `Permit ${value.permitId}: does not match`,
    failure: 'Could not check the bundle against the chain',
  });
  const [picking, setPicking] = useState(false);
  const [selected, setSelected] = useState<number | null>(null);
  const list = bundles.data ?? [];
  const current = list.find((bundle) => bundle.permitId === selected) ?? list[0] ?? null;

  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Result bundles</Title>
          <Text c="dimmed" maw={760}>
            Results a data owner re-encrypted to your own key, when the grant&apos;s output terms allow it. Decryption
            happens here, offline; the check against the chain (result commitment, terms, the recorded key switch) runs
            when you are online.
          </Text>
        </div>
        <Button onClick={() => setPicking(true)} loading={decrypt.pending}>
          Decrypt a bundle file
        </Button>
      </Group>
      {bundles.error && (
        <Alert color="red" title="Bundles unavailable">
          {bundles.error.message}
        </Alert>
      )}
      <Table aria-label="Decrypted result bundles" highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Permit</Table.Th>
            <Table.Th>Algorithm</Table.Th>
            <Table.Th>Excluded</Table.Th>
            <Table.Th>Result commitment</Table.Th>
            <Table.Th>Chain</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {list.map((bundle) => (
            <Table.Tr key={bundle.permitId} data-testid={`bundle-${bundle.permitId}`}>
              <Table.Td>#{bundle.permitId}</Table.Td>
              <Table.Td>{bundle.algorithm ?? '—'}</Table.Td>
              <Table.Td>{bundle.excludedSamples}</Table.Td>
              <Table.Td>
                <Code>{shortHex(bundle.resultCommitment)}</Code>
              </Table.Td>
              <Table.Td>
                <VerifiedBadge bundle={bundle} />
              </Table.Td>
              <Table.Td>
                <Group gap="xs" justify="flex-end" wrap="nowrap">
                  <Button
                    size="xs"
                    variant="default"
                    loading={verify.pending}
                    onClick={async () => {
                      await verify.run({ permitId: bundle.permitId });
                      bundles.reload();
                    }}
                  >
                    Verify on chain
                  </Button>
                  <Button size="xs" onClick={() => setSelected(bundle.permitId)}>
                    View
                  </Button>
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
          {list.length === 0 && (
            <Table.Tr>
              <Table.Td colSpan={6}>
                <Text size="sm" c="dimmed">
                  {bundles.loading ? 'Loading…' : 'No bundles decrypted yet. A data owner sends you a .cosbundle file.'}
                </Text>
              </Table.Td>
            </Table.Tr>
          )}
        </Table.Tbody>
      </Table>
      {current && (
        <Card withBorder radius="md" padding="lg">
          <Title order={4} mb="sm">
            Result of permit #{current.permitId}
          </Title>
          <ResultTable result={current.result} />
        </Card>
      )}
      <FilePicker
        opened={picking}
        onClose={() => setPicking(false)}
        title="Choose a result bundle"
        extensions={['.cosbundle', '.bundle']}
        onPick={async (path) => {
          const view = await decrypt.run({ path });
          if (view) setSelected(view.permitId);
          bundles.reload();
        }}
      />
    </Stack>
  );
}
