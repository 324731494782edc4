import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Code,
  Group,
  Modal,
  NumberInput,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  TextInput,
  MultiSelect,
  Select,
  Title,
  Tooltip,
} from '@mantine/core';
import { useState } from 'react';
import { ALGORITHMS } from '../../../../shared/contracts/constants';
import type { RequestView } from '../../../../shared/ipc/custodian';
import { useAction, useQuery } from '../../api/hooks';
import { OP_BITS, opLabels, shortHex } from '../../components/format';
import { defaultClauses, termsHashOf, validateClauses, type ClauseForm } from './clauses';
import { DuoChips } from './duo';

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The grant's clauses for one request; validated before anything is sent. */
function ClauseEditor({ request, onDone }: { request: RequestView; onDone(): void }) {
  const [form, setForm] = useState<ClauseForm>(() => defaultClauses(request.opMask, nowSeconds()));
  const [tried, setTried] = useState(false);
  const grant = useAction('access.grant', {
    success: `Request ${request.grantId} approved`,
    failure: 'The grant was refused',
  });
  const set = <K extends keyof ClauseForm>(key: K, value: ClauseForm[K]) =>
    setForm((previous) => ({ ...previous, [key]: value }));
  const { errors, terms } = validateClauses(form, nowSeconds());
  const shown = (key: keyof ClauseForm) => (tried ? errors[key] : undefined) ?? null;
  const owner = typeof form.ownerPercent === 'number' ? form.ownerPercent : 0;
  const donors = typeof form.donorsPercent === 'number' ? form.donorsPercent : 0;
  const platform = Math.max(0, 100 - owner - donors);
  const errorCount = Object.keys(errors).length;

  return (
    <Stack gap="sm">
      <Group gap="xs">
        <Text size="sm">Declared purpose:</Text>
        <DuoChips mask={request.purposeCodes} />
      </Group>
      <Checkbox.Group
        label="Operations allowed"
        value={OP_BITS.filter((op) => (form.opMask & op.bit) !== 0).map((op) => String(op.bit))}
        onChange={(values) =>
          set(
            'opMask',
            values.reduce((mask, value) => mask | Number(value), 0),
          )
        }
        error={shown('opMask')}
      >
        <Group mt={4}>
          {OP_BITS.map((op) => (
            <Checkbox key={op.bit} value={String(op.bit)} label={op.label} />
          ))}
        </Group>
      </Checkbox.Group>
      <SimpleGrid cols={2}>
        <TextInput
          type="datetime-local"
          label="Not before"
          value={form.notBefore}
          onChange={(event) => set('notBefore', event.currentTarget.value)}
          error={shown('notBefore')}
        />
        <TextInput
          type="datetime-local"
          label="Expiry"
          value={form.expiry}
          onChange={(event) => set('expiry', event.currentTarget.value)}
          error={shown('expiry')}
        />
      </SimpleGrid>
      <SimpleGrid cols={4}>
        <NumberInput
          label="Max runs"
          min={1}
          allowDecimal={false}
          value={form.maxRuns}
          onChange={(value) => set('maxRuns', value)}
          error={shown('maxRuns')}
        />
        <NumberInput
          label="Rate window (hours)"
          min={0}
          value={form.rateWindowHours}
          onChange={(value) => set('rateWindowHours', value)}
          error={shown('rateWindowHours')}
        />
        <NumberInput
          label="Runs per window"
          min={0}
          allowDecimal={false}
          value={form.rateMaxRuns}
          onChange={(value) => set('rateMaxRuns', value)}
          error={shown('rateMaxRuns')}
        />
        <TextInput
          label="Region"
          placeholder="anywhere"
          title="ISO 3166-1 country code; empty for anywhere"
          maxLength={2}
          value={form.region}
          onChange={(event) => set('region', event.currentTarget.value.toUpperCase())}
          error={shown('region')}
        />
      </SimpleGrid>
      <SimpleGrid cols={2}>
        <NumberInput
          label="Privacy budget ε"
          min={0}
          decimalScale={6}
          value={form.epsilonCap}
          onChange={(value) => set('epsilonCap', value)}
          error={shown('epsilonCap')}
        />
        <TextInput
          label="Privacy budget δ"
          value={form.deltaCap}
          onChange={(event) => set('deltaCap', event.currentTarget.value)}
          error={shown('deltaCap')}
        />
      </SimpleGrid>
      <Stack gap={6}>
        <Text fw={500} size="sm">
          Output terms
        </Text>
        <Text size="xs" c="dimmed">
          A typed document hashed into the grant (termsHash): what may leave your machine from this grant's results.
        </Text>
        <Switch
          label="Key switching allowed (the lab may receive results re-encrypted to its own key)"
          checked={form.keySwitchAllowed}
          onChange={(event) => set('keySwitchAllowed', event.currentTarget.checked)}
        />
        <MultiSelect
          label="Results that may be released"
          data={Object.values(ALGORITHMS).map((algorithm) => ({ value: algorithm.id, label: algorithm.name }))}
          value={form.releasable}
          onChange={(value) => set('releasable', value)}
          error={shown('releasable')}
        />
        <SimpleGrid cols={4}>
          <Select
            label="Noise per release"
            data={[
              { value: 'none', label: 'None (exact)' },
              { value: 'laplace', label: 'Laplace' },
              { value: 'gaussian', label: 'Gaussian' },
            ]}
            value={form.dpMechanism}
            allowDeselect={false}
            onChange={(value) => set('dpMechanism', (value ?? 'none') as ClauseForm['dpMechanism'])}
          />
          <NumberInput
            label="ε per release"
            min={0}
            decimalScale={6}
            disabled={form.dpMechanism === 'none'}
            value={form.dpEpsilon}
            onChange={(value) => set('dpEpsilon', value)}
          />
          <TextInput
            label="δ per release"
            disabled={form.dpMechanism !== 'gaussian'}
            value={form.dpDelta}
            onChange={(event) => set('dpDelta', event.currentTarget.value)}
          />
          <NumberInput
            label="Retention (days)"
            placeholder="no limit"
            min={1}
            value={form.retentionDays}
            onChange={(value) => set('retentionDays', value)}
          />
        </SimpleGrid>
        <Text size="xs" c="dimmed">
          termsHash <Code>{termsHashOf(form) ? shortHex(termsHashOf(form)!, 10, 8) : '—'}</Code>
        </Text>
      </Stack>
      <SimpleGrid cols={4}>
        <TextInput
          label="Fee per use (COS)"
          value={form.fee}
          onChange={(event) => set('fee', event.currentTarget.value)}
          error={shown('fee')}
        />
        <NumberInput
          label="Owner %"
          min={0}
          max={100}
          value={form.ownerPercent}
          onChange={(value) => set('ownerPercent', value)}
          error={shown('ownerPercent')}
        />
        <NumberInput
          label="Donors %"
          min={0}
          max={100}
          value={form.donorsPercent}
          onChange={(value) => set('donorsPercent', value)}
          error={shown('donorsPercent')}
        />
        <TextInput label="Platform % (the rest)" value={String(platform)} readOnly />
      </SimpleGrid>
      {tried && errorCount > 0 && (
        <Alert color="red" title="Fix the clauses first">
          {Object.values(errors).join(' · ')}
        </Alert>
      )}
      <Group justify="flex-end">
        <Button variant="default" onClick={onDone}>
          Cancel
        </Button>
        <Button
          loading={grant.pending}
          onClick={async () => {
            setTried(true);
            if (!terms) return;
            if (await grant.run({ grantId: request.grantId, terms })) onDone();
          }}
        >
          Approve with these clauses
        </Button>
      </Group>
    </Stack>
  );
}

function RequestCard({ request }: { request: RequestView }) {
  const [editing, setEditing] = useState(false);
  const deny = useAction('access.deny', {
    success: `Request ${request.grantId} declined`,
    failure: 'Could not decline',
  });
  const color = { Requested: 'yellow', Granted: 'teal', Denied: 'red' }[request.status];
  return (
    <Card withBorder radius="md" data-testid={`request-${request.grantId}`}>
      <Group justify="space-between" align="start">
        <Stack gap={4}>
          <Group gap="xs">
            <Text fw={700}>Request #{request.grantId}</Text>
            <Badge color={color} variant="light">
              {request.status}
            </Badge>
            <Text size="sm" c="dimmed">
              on dataset #{request.datasetId} · block {request.requestedBlock}
            </Text>
          </Group>
          <Text size="sm">
            Requester: identity token <b>#{request.granteeSbtId}</b>{' '}
            <Text span ff="monospace" size="xs" title={request.requester}>
              {request.requester}
            </Text>
          </Text>
          <Group gap="xs">
            <Text size="sm">Operations: {opLabels(request.opMask)}</Text>
            <Text size="sm">· Purpose:</Text>
            <DuoChips mask={request.purposeCodes} />
          </Group>
          <Text size="xs" c="dimmed" ff="monospace" title="Hash of the purpose text the lab declared">
            purposeHash {shortHex(request.purposeHash, 10, 8)}
          </Text>
        </Stack>
        {request.status === 'Requested' && (
          <Group gap="xs">
            <Button
              color="red"
              variant="light"
              loading={deny.pending}
              onClick={() => void deny.run({ grantId: request.grantId })}
            >
              Decline
            </Button>
            <Button onClick={() => setEditing(true)}>Review and approve</Button>
          </Group>
        )}
      </Group>
      <Modal
        opened={editing}
        onClose={() => setEditing(false)}
        title={`Clauses for request #${request.grantId}`}
        size="xl"
      >
        <ClauseEditor request={request} onDone={() => setEditing(false)} />
      </Modal>
    </Card>
  );
}

/** Access requests on the steward's datasets: who asks, for what, and the grant's clauses. */
export function RequestsPage() {
  const [show, setShow] = useState<'open' | 'all'>('open');
  const requests = useQuery('requests.list', { mine: true }, { refreshOn: ['cache.changed'] });
  const all = requests.data ?? [];
  const rows = show === 'open' ? all.filter((request) => request.status === 'Requested') : all;
  return (
    <Stack>
      <Group justify="space-between">
        <div>
          <Title order={2}>Requests inbox</Title>
          <Text c="dimmed" size="sm">
            Access requests on your datasets. Approve with clauses, or decline.
          </Text>
        </div>
        <SegmentedControl
          aria-label="Which requests"
          value={show}
          onChange={(value) => setShow(value as 'open' | 'all')}
          data={[
            { value: 'open', label: `Open (${all.filter((r) => r.status === 'Requested').length})` },
            { value: 'all', label: `All (${all.length})` },
          ]}
        />
      </Group>
      {requests.error && <Alert color="red">{requests.error.message}</Alert>}
      {rows.map((request) => (
        <RequestCard key={request.grantId} request={request} />
      ))}
      {rows.length === 0 && (
        <Tooltip label="Requests arrive from the chain as labs send them">
          <Text c="dimmed">{requests.loading ? 'Loading…' : 'No requests here.'}</Text>
        </Tooltip>
      )}
    </Stack>
  );
}
