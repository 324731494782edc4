import {
  Alert,
  Button,
  Card,
  Group,
  NumberInput,
  Progress,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core';
import { useState } from 'react';
import { duoMask } from '../../../../shared/domain/duo';
import { useAction, useEvent, useQuery } from '../../api/hooks';
import { FilePicker } from '../../components/FilePicker';
import { shortHex } from '../../components/format';
import { DuoChips, DuoSelect } from './duo';

interface ImportProgress {
  label: string;
  done: number;
  total: number | null;
}

function PathField({
  label,
  value,
  onChange,
  extensions,
}: {
  label: string;
  value: string;
  onChange(value: string): void;
  extensions: string[];
}) {
  const [picking, setPicking] = useState(false);
  return (
    <Group align="end" wrap="nowrap" gap="xs">
      <TextInput
        label={label}
        value={value}
        onChange={(event) => onChange(event.currentTarget.value)}
        placeholder="/absolute/path"
        style={{ flex: 1 }}
      />
      <Button variant="default" onClick={() => setPicking(true)} aria-label={`Browse for the ${label}`}>
        Browse…
      </Button>
      <FilePicker
        opened={picking}
        onClose={() => setPicking(false)}
        title={`Choose the ${label}`}
        extensions={extensions}
        onPick={onChange}
      />
    </Group>
  );
}

function ImportForm() {
  const samples = useQuery('files.samples', {});
  const [vcfPath, setVcfPath] = useState('');
  const [csvPath, setCsvPath] = useState('');
  const [phenotypeColumn, setPhenotypeColumn] = useState('case');
  const [sampleIdColumn, setSampleIdColumn] = useState('');
  const [consentIdColumn, setConsentIdColumn] = useState('');
  const [codes, setCodes] = useState<string[]>(['GRU', 'HMB']);
  const [royalty, setRoyalty] = useState<number | string>(0);
  const [taskId, setTaskId] = useState<string | null>(null);
  const [progress, setProgress] = useState<ImportProgress | null>(null);
  const importer = useAction('datasets.import', {
    success: (value) => `Dataset ${value.dataset.datasetId} registered (${value.samples} samples, ${value.snps} SNPs)`,
    failure: 'The import failed',
  });

  useEvent('progress', (event) => {
    if (event.taskId === taskId) setProgress({ label: event.label, done: event.done, total: event.total });
  });

  const royaltyValue = typeof royalty === 'number' ? royalty : Number.NaN;
  const errors = {
    vcf: vcfPath.trim() ? null : 'Choose the VCF file',
    csv: csvPath.trim() ? null : 'Choose the phenotype CSV',
    phenotype: phenotypeColumn.trim() ? null : 'Name the phenotype column',
    codes: codes.length ? null : 'Choose at least one consent code',
    royalty: royaltyValue >= 0 && royaltyValue <= 100 ? null : 'Between 0 and 100 %',
  };
  const valid = Object.values(errors).every((error) => error === null);

  const submit = async () => {
    const id = `import-${Date.now()}`;
    setTaskId(id);
    setProgress({ label: 'Starting', done: 0, total: null });
    const result = await importer.run({
      vcfPath: vcfPath.trim(),
      phenotypeCsvPath: csvPath.trim(),
      phenotypeColumn: phenotypeColumn.trim(),
      ...(sampleIdColumn.trim() ? { sampleIdColumn: sampleIdColumn.trim() } : {}),
      ...(consentIdColumn.trim() ? { consentIdColumn: consentIdColumn.trim() } : {}),
      consentCodes: duoMask(codes),
      royaltyBps: Math.round(royaltyValue * 100),
      taskId: id,
    });
    setProgress((previous) =>
      result ? { label: 'Done', done: 1, total: 1 } : previous && { ...previous, label: `Failed: ${previous.label}` },
    );
  };

  const percent = progress ? (progress.total ? Math.min(100, (progress.done / progress.total) * 100) : 0) : 0;
  return (
    <Card withBorder radius="md" padding="lg">
      <Stack gap="sm">
        <Title order={4}>Import a cohort</Title>
        <Text size="sm" c="dimmed">
          The genotypes are encrypted on this machine with your FHE key, uploaded to the gateway, and the dataset is
          registered on chain with its consent root. Donors get consent receipts.
        </Text>
        {samples.data && samples.data.length > 0 && (
          <Group gap="xs">
            <Text size="sm">Bundled synthetic cohorts:</Text>
            {samples.data.map((sample) => (
              <Tooltip key={sample.name} label={sample.description} multiline w={300}>
                <Button
                  size="xs"
                  variant="light"
                  onClick={() => {
                    setVcfPath(sample.vcfPath);
                    setCsvPath(sample.phenotypeCsvPath);
                    setPhenotypeColumn('case');
                    setSampleIdColumn('sample_id');
                    setConsentIdColumn('consent_id');
                  }}
                >
                  Use cohort {sample.name}
                </Button>
              </Tooltip>
            ))}
          </Group>
        )}
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <PathField label="VCF file" value={vcfPath} onChange={setVcfPath} extensions={['.vcf', '.vcf.gz']} />
          <PathField label="Phenotype CSV" value={csvPath} onChange={setCsvPath} extensions={['.csv']} />
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, md: 4 }}>
          <TextInput
            label="Phenotype column"
            description="1 = control, 2 = case"
            value={phenotypeColumn}
            onChange={(event) => setPhenotypeColumn(event.currentTarget.value)}
            error={phenotypeColumn ? null : errors.phenotype}
          />
          <TextInput
            label="Sample id column"
            description="optional; matches the VCF"
            value={sampleIdColumn}
            onChange={(event) => setSampleIdColumn(event.currentTarget.value)}
          />
          <TextInput
            label="Consent id column"
            description="optional; donor identity tokens"
            value={consentIdColumn}
            onChange={(event) => setConsentIdColumn(event.currentTarget.value)}
          />
          <NumberInput
            label="Royalty %"
            description="the dataset's share of fees"
            min={0}
            max={100}
            decimalScale={2}
            value={royalty}
            onChange={setRoyalty}
            error={errors.royalty}
          />
        </SimpleGrid>
        <DuoSelect
          label="Consent codes"
          description="What the donors consented to (DUO)"
          value={codes}
          onChange={setCodes}
          error={errors.codes}
        />
        <Group>
          <Tooltip
            label={valid ? 'Encrypt, upload and register' : Object.values(errors).find(Boolean)}
            disabled={false}
          >
            <Button onClick={() => void submit()} disabled={!valid} loading={importer.pending}>
              Import and register
            </Button>
          </Tooltip>
        </Group>
        {progress && (
          <Stack gap={4}>
            <Group justify="space-between">
              <Text size="sm" data-testid="import-stage">
                {progress.label}
              </Text>
              <Text size="xs" c="dimmed">
                {progress.total ? `${progress.done} / ${progress.total}` : ''}
              </Text>
            </Group>
            <Progress
              value={percent}
              animated={importer.pending}
              color={importer.error ? 'red' : percent >= 100 && !importer.pending ? 'teal' : 'blue'}
              aria-label="Import progress"
              data-testid="import-progress"
              data-done={progress.label === 'Done' ? 'true' : 'false'}
            />
          </Stack>
        )}
        {importer.result && !importer.pending && (
          <Alert color="teal" title={`Dataset ${importer.result.dataset.datasetId} registered`}>
            <Text size="sm">
              {importer.result.samples} samples × {importer.result.snps} SNPs, {importer.result.uploadedObjects}{' '}
              encrypted objects uploaded ({importer.result.bytesPerGenotype.toFixed(1)} bytes per genotype).
            </Text>
            <Text size="sm">
              Consent receipts for the donors were written to{' '}
              <Text span ff="monospace" size="sm" data-testid="receipts-dir" style={{ wordBreak: 'break-all' }}>
                {importer.result.consentReceiptsDir}
              </Text>
              — hand each donor its file.
            </Text>
          </Alert>
        )}
      </Stack>
    </Card>
  );
}

/** The steward's datasets: import (encrypt, upload, register) and the registered list. */
export function DatasetsPage() {
  const datasets = useQuery('datasets.list', {}, { refreshOn: ['cache.changed'] });
  const rows = datasets.data ?? [];
  return (
    <Stack>
      <div>
        <Title order={2}>Datasets</Title>
        <Text c="dimmed" size="sm">
          Encrypted cohorts registered on chain, with their versions and consent state.
        </Text>
      </div>
      <ImportForm />
      <Card withBorder radius="md" padding="lg">
        <Title order={4} mb="sm">
          Registered datasets
        </Title>
        {datasets.error && <Alert color="red">{datasets.error.message}</Alert>}
        <Table aria-label="Registered datasets" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Dataset</Table.Th>
              <Table.Th>Version</Table.Th>
              <Table.Th>Consent codes</Table.Th>
              <Table.Th>Donors</Table.Th>
              <Table.Th>Withdrawn</Table.Th>
              <Table.Th>Manifest</Table.Th>
              <Table.Th>Block</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((dataset) => (
              <Table.Tr key={dataset.datasetId} data-testid={`dataset-${dataset.datasetId}`}>
                <Table.Td>
                  <Text fw={600} size="sm">
                    #{dataset.datasetId}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {dataset.mine ? 'mine' : shortHex(dataset.owner)}
                  </Text>
                </Table.Td>
                <Table.Td>v{dataset.version}</Table.Td>
                <Table.Td>
                  <DuoChips mask={dataset.consentCodes} />
                </Table.Td>
                <Table.Td>{dataset.donorCount}</Table.Td>
                <Table.Td>{dataset.withdrawnCount}</Table.Td>
                <Table.Td>
                  <Text size="xs" ff="monospace" title={dataset.manifestCommitment}>
                    {shortHex(dataset.manifestCommitment)}
                  </Text>
                </Table.Td>
                <Table.Td>{dataset.registeredBlock}</Table.Td>
              </Table.Tr>
            ))}
            {rows.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={7}>
                  <Text size="sm" c="dimmed">
                    {datasets.loading ? 'Loading…' : 'No datasets yet: import a cohort above.'}
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </Card>
    </Stack>
  );
}
