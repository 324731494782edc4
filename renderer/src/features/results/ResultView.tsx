import { Alert, Badge, Button, Group, Loader, ScrollArea, Stack, Table, Tabs, Text, Tooltip } from '@mantine/core';
import { useState } from 'react';
import type {
  AlgorithmTable,
  AlleleCountRow,
  AllelicRow,
  LogregRow,
  TrendRow,
} from '../../../../shared/algorithms/interpret';
import type { MeanVariance } from '../../../../shared/algorithms/statistics';
import type { ResultView as ResultViewData } from '../../../../shared/ipc/custodian';
import { useAction, useQuery } from '../../api/hooks';
import { FilePicker } from '../../components/FilePicker';
import { ManhattanPlot, QQPlot, type AssociationPoint } from './plots';

const stateColors = { waiting: 'yellow', decrypted: 'teal', failed: 'red', 'not-owner': 'gray' } as const;
const stateLabels = {
  waiting: 'Waiting for the result',
  decrypted: 'Decrypted',
  failed: 'Failed',
  'not-owner': 'Derivative from the data owner',
} as const;

export function ResultStateBadge({ state }: { state: ResultViewData['state'] }) {
  return (
    <Badge color={stateColors[state]} variant="light" data-testid="result-state">
      {stateLabels[state]}
    </Badge>
  );
}

function fmt(value: number | null, digits = 4): string {
  if (value === null || !Number.isFinite(value)) return 'NA';
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6)) return value.toExponential(3);
  return value.toFixed(digits);
}

function snpName(row: { id: string | null; chrom: string | null; pos: number | null; snp: number }): string {
  return row.id ?? (row.chrom && row.pos !== null ? `${row.chrom}:${row.pos}` : `snp${row.snp + 1}`);
}

function associationPoints(rows: (AllelicRow | TrendRow)[]): AssociationPoint[] {
  return rows
    .filter((row): row is (AllelicRow | TrendRow) & { p: number } => row.p !== null && Number.isFinite(row.p))
    .map((row) => ({ snp: row.snp, label: snpName(row), chrom: row.chrom, pos: row.pos, p: row.p }));
}

/** The PLINK-style association table (CHR, BP, SNP, A1, A2, [F_A, F_U], CHISQ, P, [OR]). */
export function PlinkTable({ rows, allelic }: { rows: (AllelicRow | TrendRow)[]; allelic: boolean }) {
  return (
    <ScrollArea h={360} type="auto">
      <Table striped stickyHeader verticalSpacing={4} aria-label="Association results" ff="monospace" fz="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>CHR</Table.Th>
            <Table.Th>BP</Table.Th>
            <Table.Th>SNP</Table.Th>
            <Table.Th>A1</Table.Th>
            <Table.Th>A2</Table.Th>
            {allelic && <Table.Th>F_A</Table.Th>}
            {allelic && <Table.Th>F_U</Table.Th>}
            <Table.Th>CHISQ</Table.Th>
            <Table.Th>P</Table.Th>
            {allelic && <Table.Th>OR</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => (
            <Table.Tr key={row.snp}>
              <Table.Td>{row.chrom ?? 'NA'}</Table.Td>
              <Table.Td>{row.pos ?? 'NA'}</Table.Td>
              <Table.Td>{snpName(row)}</Table.Td>
              <Table.Td>{row.a1 ?? 'NA'}</Table.Td>
              <Table.Td>{row.a2 ?? 'NA'}</Table.Td>
              {allelic && <Table.Td>{fmt((row as AllelicRow).fA)}</Table.Td>}
              {allelic && <Table.Td>{fmt((row as AllelicRow).fU)}</Table.Td>}
              <Table.Td>{fmt(row.chisq)}</Table.Td>
              <Table.Td>{fmt(row.p)}</Table.Td>
              {allelic && <Table.Td>{fmt((row as AllelicRow).or)}</Table.Td>}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollArea>
  );
}

function AlleleCountsTable({ rows }: { rows: AlleleCountRow[] }) {
  return (
    <ScrollArea h={360} type="auto">
      <Table striped stickyHeader verticalSpacing={4} aria-label="Allele counts" ff="monospace" fz="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>CHR</Table.Th>
            <Table.Th>BP</Table.Th>
            <Table.Th>SNP</Table.Th>
            <Table.Th>REF</Table.Th>
            <Table.Th>ALT</Table.Th>
            <Table.Th>Cases 0/1/2</Table.Th>
            <Table.Th>Controls 0/1/2</Table.Th>
            <Table.Th>ALT freq</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => (
            <Table.Tr key={row.snp}>
              <Table.Td>{row.chrom ?? 'NA'}</Table.Td>
              <Table.Td>{row.pos ?? 'NA'}</Table.Td>
              <Table.Td>{snpName(row)}</Table.Td>
              <Table.Td>{row.ref ?? 'NA'}</Table.Td>
              <Table.Td>{row.alt ?? 'NA'}</Table.Td>
              <Table.Td>{`${row.case.homRef}/${row.case.het}/${row.case.homAlt}`}</Table.Td>
              <Table.Td>{`${row.control.homRef}/${row.control.het}/${row.control.homAlt}`}</Table.Td>
              <Table.Td>{fmt(row.altFrequency)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollArea>
  );
}

function MeanVarianceTable({ rows }: { rows: MeanVariance[] }) {
  return (
    <Table aria-label="Mean and variance" ff="monospace" fz="sm">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Column</Table.Th>
          <Table.Th>N</Table.Th>
          <Table.Th>Mean</Table.Th>
          <Table.Th>Variance</Table.Th>
          <Table.Th>SD</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map((row) => (
          <Table.Tr key={row.column}>
            <Table.Td>{row.column}</Table.Td>
            <Table.Td>{row.count}</Table.Td>
            <Table.Td>{fmt(row.mean)}</Table.Td>
            <Table.Td>{fmt(row.variance)}</Table.Td>
            <Table.Td>{fmt(row.standardDeviation)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function LogregTable({ rows }: { rows: LogregRow[] }) {
  return (
    <ScrollArea h={360} type="auto">
      <Table striped stickyHeader aria-label="Model scores" ff="monospace" fz="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Sample</Table.Th>
            <Table.Th>Linear predictor</Table.Th>
            <Table.Th>Probability</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => (
            <Table.Tr key={row.sample}>
              <Table.Td>{row.sample}</Table.Td>
              <Table.Td>{fmt(row.linearPredictor)}</Table.Td>
              <Table.Td>{fmt(row.probability)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollArea>
  );
}

function isTable(value: unknown): value is AlgorithmTable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { algorithm?: unknown }).algorithm === 'string' &&
    Array.isArray((value as { rows?: unknown }).rows)
  );
}

/** The decrypted table of one algorithm: plots and PLINK-style table for GWAS, a table otherwise. */
export function ResultTable({ result }: { result: unknown }) {
  // results.get answers { kind, table, counts, ... }; a bare table is accepted too.
  const table =
    typeof result === 'object' && result !== null && 'table' in result ? (result as { table: unknown }).table : result;
  if (!isTable(table)) {
    return <Text c="dimmed">This result has no table view.</Text>;
  }
  switch (table.algorithm) {
    case 'cos.alg.gwas-allelic-chisq.v1':
    case 'cos.alg.gwas-cochran-armitage-trend.v1': {
      const rows = table.rows as (AllelicRow | TrendRow)[];
      const allelic = table.algorithm === 'cos.alg.gwas-allelic-chisq.v1';
      const points = associationPoints(rows);
      const chisq = rows.map((row) => row.chisq).filter((value): value is number => value !== null);
      return (
        <Tabs defaultValue="manhattan" keepMounted={false}>
          <Tabs.List>
            <Tabs.Tab value="manhattan">Manhattan plot</Tabs.Tab>
            <Tabs.Tab value="qq">QQ plot</Tabs.Tab>
            <Tabs.Tab value="table">Table ({rows.length} SNPs)</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="manhattan" pt="sm">
            <ManhattanPlot points={points} />
          </Tabs.Panel>
          <Tabs.Panel value="qq" pt="sm">
            <QQPlot points={points} chisq={chisq} />
          </Tabs.Panel>
          <Tabs.Panel value="table" pt="sm">
            <PlinkTable rows={rows} allelic={allelic} />
          </Tabs.Panel>
        </Tabs>
      );
    }
    case 'cos.alg.allele-counts.v1':
      return <AlleleCountsTable rows={table.rows as AlleleCountRow[]} />;
    case 'cos.alg.mean-variance.v1':
      return <MeanVarianceTable rows={table.rows as MeanVariance[]} />;
    case 'cos.alg.logreg-inference.v1':
      return <LogregTable rows={table.rows as LogregRow[]} />;
    default:
      return <Text c="dimmed">This result has no table view.</Text>;
  }
}

/** A permit's result as the dataset's owner sees it: state, retry, views and the derivative export. */
export function ResultPanel({ permitId, keySwitchAllowed = false }: { permitId: number; keySwitchAllowed?: boolean }) {
  const result = useQuery('results.get', { permitId }, { refreshOn: ['result.decrypted', 'cache.changed'] });
  const releaser = useAction('results.keySwitch', {
    success: (value) => `Key-switched result written to ${value.path} and recorded on chain`,
    failure: 'Could not release the result by key switching',
  });
  const [releasing, setReleasing] = useState(false);
  const decrypt = useAction('results.decrypt', {
    success: (value) => `Result of permit ${value.permitId}: ${stateLabels[value.state].toLowerCase()}`,
    failure: 'Could not decrypt the result',
  });
  const exporter = useAction('results.exportDerivative', {
    success: (value) => `Derivative written to ${value.path}`,
    failure: 'Could not export the derivative',
  });
  const [saving, setSaving] = useState(false);
  const view = decrypt.result?.permitId === permitId && !result.data ? decrypt.result : result.data;

  if (!view) return result.loading ? <Loader size="sm" aria-label="Loading the result" /> : null;
  return (
    <Stack gap="sm" data-testid={`result-${permitId}`}>
      <Group justify="space-between">
        <Group gap="xs">
          <ResultStateBadge state={view.state} />
          {view.algorithm && <Badge variant="outline">{view.algorithm}</Badge>}
          {view.excludedSamples !== null && (
            <Badge variant="light" color={view.excludedSamples > 0 ? 'orange' : 'gray'}>
              {view.excludedSamples} sample{view.excludedSamples === 1 ? '' : 's'} excluded (withdrawn consent)
            </Badge>
          )}
        </Group>
        <Group gap="xs">
          <Tooltip
            label={
              view.state === 'not-owner'
                ? 'Only the dataset owner can decrypt this result'
                : 'Fetch, verify the commitment and decrypt again'
            }
          >
            <Button
              size="xs"
              variant="default"
              loading={decrypt.pending}
              disabled={view.state === 'not-owner'}
              onClick={async () => {
                await decrypt.run({ permitId });
                result.reload();
              }}
            >
              {view.state === 'decrypted' ? 'Verify and decrypt again' : 'Retry decryption'}
            </Button>
          </Tooltip>
          <Tooltip
            label={view.state === 'decrypted' ? 'Write the derivative (JSON) to a file' : 'Decrypt the result first'}
          >
            <Button
              size="xs"
              disabled={view.state !== 'decrypted'}
              loading={exporter.pending}
              onClick={() => setSaving(true)}
            >
              Export derivative
            </Button>
          </Tooltip>
          <Tooltip
            label={
              !keySwitchAllowed
                ? "The grant's output terms do not allow key switching"
                : view.state !== 'decrypted'
                  ? 'Decrypt and check the result first'
                  : "Re-encrypt this result to the lab's own key (recorded on chain) and write the bundle file"
            }
          >
            <Button
              size="xs"
              variant="light"
              disabled={!keySwitchAllowed || view.state !== 'decrypted'}
              loading={releaser.pending}
              onClick={() => setReleasing(true)}
            >
              Release to the lab
            </Button>
          </Tooltip>
        </Group>
      </Group>
      {view.error && (
        <Alert color="red" title="The result could not be used">
          {view.error}
        </Alert>
      )}
      {exporter.result && (
        <Alert color="teal" title="Derivative exported">
          <Text size="sm">{exporter.result.path}</Text>
          <Text size="xs" c="dimmed" ff="monospace">
            SHA-256 {exporter.result.sha256}
          </Text>
        </Alert>
      )}
      {releaser.result && (
        <Alert color="teal" title="Key-switched result released">
          <Text size="sm">{releaser.result.path}</Text>
          <Text size="xs" c="dimmed" ff="monospace">
            share commitment {releaser.result.shareCommitment}
          </Text>
        </Alert>
      )}
      {view.state === 'decrypted' && <ResultTable result={view.result} />}
      {view.state === 'waiting' && (
        <Text size="sm" c="dimmed">
          The orchestrator has not posted this job&apos;s result yet, or it is being fetched and decrypted.
        </Text>
      )}
      <FilePicker
        opened={saving}
        onClose={() => setSaving(false)}
        mode="save"
        title="Export the derivative"
        defaultName={`result-permit-${permitId}.json`}
        onPick={(path) => void exporter.run({ permitId, path })}
      />
      <FilePicker
        opened={releasing}
        onClose={() => setReleasing(false)}
        mode="save"
        title="Save the key-switched result bundle for the lab"
        defaultName={`result-permit-${permitId}.cosbundle`}
        onPick={(path) => void releaser.run({ permitId, path })}
      />
    </Stack>
  );
}
