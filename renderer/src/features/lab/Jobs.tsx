import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Group,
  NativeSelect,
  NumberInput,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
} from '@mantine/core';
import { useState } from 'react';
import { ALGORITHMS } from '../../../../shared/contracts/constants';
import type { PermitView } from '../../../../shared/ipc/custodian';
import { useAction, useQuery } from '../../api/hooks';
import { shortHex } from '../../components/format';
import { useUiStore } from '../../store/ui';
import { budgetProblem, remainingBudget } from './budget';

const algorithmNames: Record<string, string> = {
  ALLELE_COUNTS: 'Allele counts',
  GWAS_ALLELIC_CHISQ: 'GWAS, allelic χ²',
  GWAS_TREND: 'GWAS, Cochran-Armitage trend',
  MEAN_VARIANCE: 'Mean and variance of a column',
  LOGREG_INFERENCE: 'Logistic-regression inference',
};

/** Algorithms a lab can run without supplying extra parameters from this form. */
const selectable = ['ALLELE_COUNTS', 'GWAS_ALLELIC_CHISQ', 'GWAS_TREND'] as const;

function labelOf(algorithmId: string, name: string | null): string {
  const entry = Object.entries(ALGORITHMS).find(([, a]) => a.id === algorithmId);
  return entry ? (algorithmNames[entry[0]] ?? entry[1].name) : (name ?? shortHex(algorithmId));
}

function ResultCell({ permit }: { permit: PermitView }) {
  const setPage = useUiStore((state) => state.setPage);
  const result = useQuery(
    'results.get',
    { permitId: permit.permitId },
    { enabled: permit.status === 'ResultPosted', refreshOn: ['result.decrypted'] },
  );
  if (permit.status !== 'ResultPosted')
    return (
      <Badge color="yellow" variant="light">
        running
      </Badge>
    );
  const state = result.data?.state;
  return (
    <Group gap="xs" wrap="nowrap">
      <Tooltip label={`Result commitment on chain: ${permit.resultCommitment ?? ''}`}>
        <Code data-testid={`result-${permit.permitId}`}>{shortHex(permit.resultCommitment ?? '0x')}</Code>
      </Tooltip>
      {state === 'not-owner' && (
        <Tooltip label="Results are encrypted under the data owner's key; the owner decrypts and shares the permitted derivative">
          <Text size="xs" c="dimmed">
            derivative from the data owner
          </Text>
        </Tooltip>
      )}
      {state === 'decrypted' && (
        <Text size="xs" c="teal">
          decrypted
        </Text>
      )}
      <Tooltip label="When the owner releases this result to your key, decrypt the bundle file on the Result bundles page">
        <Button size="xs" variant="default" onClick={() => setPage('lab-bundles')}>
          Decrypt offline
        </Button>
      </Tooltip>
    </Group>
  );
}

/** Compute jobs: issue a permit under a COMPUTE grant within its privacy budget; follow its result. */
export function Jobs() {
  const grants = useQuery('grants.list', { mine: true }, { refreshOn: ['cache.changed'] });
  const permits = useQuery('permits.list', {}, { refreshOn: ['cache.changed', 'result.decrypted'] });
  const [grantKey, setGrantKey] = useState('');
  const [algorithm, setAlgorithm] = useState<(typeof selectable)[number]>('GWAS_ALLELIC_CHISQ');
  const [epsilon, setEpsilon] = useState<number | string>(0.5);
  const [delta, setDelta] = useState<number | string>(0);
  const issue = useAction('permits.issue', {
    success: (value) => `Permit #${value.permitId} issued; the orchestrator runs the job`,
    failure: 'The permit was not issued',
  });
  const compute = (grants.data ?? []).filter((g) => g.status === 'Granted' && (g.opMask & 8) !== 0);
  const grant = compute.find((g) => String(g.grantId) === grantKey) ?? null;
  const eps = typeof epsilon === 'number' ? epsilon : Number.NaN;
  const del = typeof delta === 'number' ? delta : Number.NaN;
  const problems = grant ? budgetProblem(grant, eps, del) : {};
  const blocking = !grant ? 'Choose a COMPUTE grant' : (problems.runs ?? problems.epsilon ?? problems.delta ?? null);
  const left = grant ? remainingBudget(grant) : null;
  const mine = new Set((grants.data ?? []).map((g) => g.grantId));
  const myPermits = (permits.data ?? []).filter((p) => mine.has(p.grantId)).sort((a, b) => b.permitId - a.permitId);

  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Compute jobs</Title>
        <Text c="dimmed" maw={760}>
          A job permit charges one run and its ε/δ to the grant; the orchestrator runs the algorithm on the ciphertexts
          and posts the result's commitment on chain.
        </Text>
      </div>
      <Card withBorder padding="md" maw={900}>
        <Stack gap="sm">
          <Group align="start" grow>
            <NativeSelect
              label="Grant"
              value={grantKey}
              onChange={(e) => setGrantKey(e.currentTarget.value)}
              data={[
                { value: '', label: compute.length ? 'Choose a grant…' : 'No grant with COMPUTE' },
                ...compute.map((g) => ({
                  value: String(g.grantId),
                  label: `Grant #${g.grantId} · dataset #${g.datasetId} · runs ${g.runsUsed}/${g.maxRuns}`,
                })),
              ]}
              error={problems.runs}
            />
            <NativeSelect
              label="Algorithm"
              value={algorithm}
              onChange={(e) => setAlgorithm(e.currentTarget.value as (typeof selectable)[number])}
              data={selectable.map((key) => ({ value: key, label: algorithmNames[key] ?? key }))}
            />
          </Group>
          <Group align="start" grow>
            <NumberInput
              label="ε (epsilon)"
              min={0}
              step={0.1}
              decimalScale={6}
              value={epsilon}
              onChange={setEpsilon}
              error={problems.epsilon}
              description={left ? `left on the grant: ${(left.epsilon / 1e6).toString()}` : undefined}
            />
            <NumberInput
              label="δ (delta)"
              min={0}
              max={1}
              step={1e-9}
              decimalScale={18}
              value={delta}
              onChange={setDelta}
              error={problems.delta}
              description={left ? `left on the grant: ${(Number(left.delta) / 1e18).toExponential(2)}` : undefined}
            />
          </Group>
          <Group>
            <Tooltip label={blocking ?? ''} disabled={!blocking}>
              <Button
                disabled={!!blocking}
                loading={issue.pending}
                onClick={() =>
                  grant &&
                  void issue.run({
                    grantId: grant.grantId,
                    algorithmId: ALGORITHMS[algorithm].id,
                    epsilon: Math.round(eps * 1e6),
                    delta: BigInt(Math.round(del * 1e18)).toString(),
                    params: {},
                  })
                }
              >
                Issue permit
              </Button>
            </Tooltip>
          </Group>
          {issue.result && (
            <Alert color="teal" title={`Permit #${issue.result.permitId} issued`}>
              Parameters hash {shortHex(issue.result.paramsHash)} · tx {shortHex(issue.result.txHash)}
            </Alert>
          )}
        </Stack>
      </Card>
      <Card withBorder padding="md">
        <Title order={4} mb="sm">
          My permits
        </Title>
        <Table.ScrollContainer minWidth={900}>
          <Table aria-label="My permits" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Permit</Table.Th>
                <Table.Th>Grant</Table.Th>
                <Table.Th>Algorithm</Table.Th>
                <Table.Th>ε</Table.Th>
                <Table.Th>Block</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Result</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {myPermits.map((p) => (
                <Table.Tr key={p.permitId} data-testid={`permit-${p.permitId}`}>
                  <Table.Td>#{p.permitId}</Table.Td>
                  <Table.Td>#{p.grantId}</Table.Td>
                  <Table.Td>{labelOf(p.algorithmId, p.algorithm)}</Table.Td>
                  <Table.Td>{(p.epsilon / 1e6).toString()}</Table.Td>
                  <Table.Td>{p.issuedBlock}</Table.Td>
                  <Table.Td>
                    <Badge color={p.status === 'ResultPosted' ? 'teal' : 'yellow'} variant="light">
                      {p.status === 'ResultPosted' ? 'Result posted' : 'Issued'}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    <ResultCell permit={p} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {myPermits.length === 0 && (
          <Text size="sm" c="dimmed">
            No permit yet.
          </Text>
        )}
      </Card>
    </Stack>
  );
}
