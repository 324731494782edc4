import { Alert, Card, Group, Progress, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '../../api/hooks';
import { deltaValue, epsilonValue } from '../../components/format';

function ratio(spent: number, cap: number): number {
  return cap > 0 ? Math.min(100, (spent / cap) * 100) : 0;
}

function color(percent: number): string {
  return percent >= 90 ? 'red' : percent >= 60 ? 'orange' : 'teal';
}

function BudgetBar({
  label,
  spent,
  cap,
  format,
}: {
  label: string;
  spent: number;
  cap: number;
  format(v: number): string;
}) {
  const percent = ratio(spent, cap);
  return (
    <Stack gap={2}>
      <Group justify="space-between">
        <Text size="sm">{label}</Text>
        <Text size="sm" ff="monospace">
          {format(spent)} / {format(cap)}
        </Text>
      </Group>
      <Progress.Root size="lg" aria-label={`${label} spent`}>
        <Progress.Section value={percent} color={color(percent)}>
          <Progress.Label>{cap > 0 ? `${percent.toFixed(0)} %` : ''}</Progress.Label>
        </Progress.Section>
      </Progress.Root>
    </Stack>
  );
}

/** Differential-privacy budget per grant: ε and δ spent by job permits against the grant's caps. */
export function BudgetsPage() {
  const grants = useQuery('grants.list', { mine: true }, { refreshOn: ['cache.changed'] });
  const rows = grants.data ?? [];
  return (
    <Stack>
      <div>
        <Title order={2}>Privacy budgets</Title>
        <Text c="dimmed" size="sm">
          Each job permit spends ε and δ of its grant; the chain refuses a permit that would exceed a cap.
        </Text>
      </div>
      {grants.error && <Alert color="red">{grants.error.message}</Alert>}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        {rows.map((grant) => (
          <Card key={grant.grantId} withBorder radius="md" data-testid={`budget-${grant.grantId}`}>
            <Group justify="space-between" mb="xs">
              <Text fw={700}>Grant #{grant.grantId}</Text>
              <Text size="sm" c="dimmed">
                dataset #{grant.datasetId} · lab #{grant.granteeSbtId} · {grant.jobPermitCount} permit
                {grant.jobPermitCount === 1 ? '' : 's'}
              </Text>
            </Group>
            <Stack gap="sm">
              <BudgetBar
                label="ε"
                spent={epsilonValue(grant.epsilonSpent)}
                cap={epsilonValue(grant.epsilonCap)}
                format={(v) => v.toLocaleString('en', { maximumFractionDigits: 6 })}
              />
              <BudgetBar
                label="δ"
                spent={deltaValue(grant.deltaSpent)}
                cap={deltaValue(grant.deltaCap)}
                format={(v) => (v === 0 ? '0' : v.toExponential(2))}
              />
              <BudgetBar label="Runs" spent={grant.runsUsed} cap={grant.maxRuns} format={(v) => String(v)} />
            </Stack>
          </Card>
        ))}
      </SimpleGrid>
      {rows.length === 0 && <Text c="dimmed">{grants.loading ? 'Loading…' : 'No grants yet.'}</Text>}
    </Stack>
  );
}
