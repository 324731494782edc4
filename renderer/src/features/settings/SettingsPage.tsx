import {
  Alert,
  Button,
  Card,
  Code,
  Group,
  NumberInput,
  SegmentedControl,
  Stack,
  Text,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core';
import { useState } from 'react';
import type { Settings } from '../../../../shared/ipc/custodian';
import { useAction, useQuery } from '../../api/hooks';
import { FilePicker } from '../../components/FilePicker';
import { useUiStore } from '../../store/ui';
import { draftOf, settingsFromDraft, type Draft } from './draft';

function SettingsForm({
  saved,
  effective,
  dataDir,
  onSaved,
}: {
  saved: Settings;
  effective: Settings;
  dataDir: string;
  onSaved(restartRequired: boolean): void;
}) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(saved));
  const [picking, setPicking] = useState(false);
  const setPage = useUiStore((s) => s.setPage);
  const save = useAction('settings.set', { success: 'Settings saved', failure: 'Could not save the settings' });
  const checked = settingsFromDraft(draft);
  const errors = checked.ok ? {} : checked.errors;
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const dirty = JSON.stringify(draftOf(saved)) !== JSON.stringify(draft);

  return (
    <Stack gap="lg">
      <Card withBorder padding="md">
        <Stack gap="sm">
          <Title order={4}>Network</Title>
          <SegmentedControl
            aria-label="Network"
            value={draft.network}
            onChange={(value) => set('network', value as Settings['network'])}
            data={[
              { value: 'devnet', label: 'Devnet (npm start)' },
              { value: 'custom', label: 'Custom EVM network' },
            ]}
            w="fit-content"
          />
          <Text size="sm" c="dimmed">
            {draft.network === 'devnet'
              ? 'The local chain, contracts and services that npm start runs. Running now: '
              : 'Any EVM JSON-RPC endpoint with the COS contracts deployed; the deployment file names their addresses. Running now: '}
            <Code>{effective.rpcUrl ?? 'not configured'}</Code>
          </Text>
          <TextInput
            label="RPC URL"
            placeholder="https://rpc.example.org"
            value={draft.rpcUrl}
            onChange={(e) => set('rpcUrl', e.currentTarget.value)}
            error={errors.rpcUrl}
            disabled={draft.network === 'devnet'}
          />
          <Group align="start" wrap="nowrap">
            <TextInput
              label="Deployment file"
              value={draft.deploymentFile}
              readOnly
              placeholder="deployment.json"
              error={errors.deploymentFile}
              style={{ flex: 1 }}
              disabled={draft.network === 'devnet'}
            />
            <Tooltip label="Only for a custom network" disabled={draft.network === 'custom'}>
              <Button variant="default" mt={25} disabled={draft.network === 'devnet'} onClick={() => setPicking(true)}>
                Choose deployment file
              </Button>
            </Tooltip>
          </Group>
          <Group grow align="start">
            <TextInput
              label="Gateway URL"
              placeholder={effective.gatewayUrl ?? 'from the network'}
              value={draft.gatewayUrl}
              onChange={(e) => set('gatewayUrl', e.currentTarget.value)}
              error={errors.gatewayUrl}
            />
            <TextInput
              label="Orchestrator URL"
              placeholder={effective.orchestratorUrl ?? 'from the network'}
              value={draft.orchestratorUrl}
              onChange={(e) => set('orchestratorUrl', e.currentTarget.value)}
              error={errors.orchestratorUrl}
            />
          </Group>
          <NumberInput
            label="Confirmations"
            description="Blocks a transaction waits before the app counts it as final"
            min={0}
            max={1000}
            allowDecimal={false}
            value={draft.confirmations}
            onChange={(value) => set('confirmations', value)}
            error={errors.confirmations}
            w={260}
          />
          <Group>
            <Tooltip
              label={!checked.ok ? 'Fix the fields marked in red' : 'Nothing changed'}
              disabled={checked.ok && dirty}
            >
              <Button
                disabled={!checked.ok || !dirty}
                loading={save.pending}
                onClick={async () => {
                  if (!checked.ok) return;
                  const result = await save.run(checked.settings);
                  if (result) onSaved(result.restartRequired);
                }}
              >
                Save settings
              </Button>
            </Tooltip>
            <Button variant="subtle" disabled={!dirty} onClick={() => setDraft(draftOf(saved))}>
              Discard changes
            </Button>
          </Group>
        </Stack>
      </Card>
      <Card withBorder padding="md">
        <Stack gap="xs">
          <Title order={4}>Data folder</Title>
          <Text size="sm">
            Profiles (sealed), the chain cache, encrypted datasets and downloads live in{' '}
            <Code data-testid="data-dir">{dataDir}</Code>
          </Text>
        </Stack>
      </Card>
      <Card withBorder padding="md">
        <Group justify="space-between">
          <div>
            <Title order={4}>Profiles, backup and restore</Title>
            <Text size="sm" c="dimmed">
              Create, unlock and lock profiles; write a passphrase-protected backup; restore one.
            </Text>
          </div>
          <Button variant="light" onClick={() => setPage('profile')}>
            Open Profiles
          </Button>
        </Group>
      </Card>
      <FilePicker
        opened={picking}
        onClose={() => setPicking(false)}
        title="Choose the deployment file"
        extensions={['.json']}
        onPick={(path) => set('deploymentFile', path)}
      />
    </Stack>
  );
}

/** Network, services, confirmations, the data folder and a way to the profiles. */
export function SettingsPage() {
  const settings = useQuery('settings.get', {});
  const [restart, setRestart] = useState<boolean | null>(null);
  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Settings</Title>
        <Text c="dimmed">Changes to the network and services take effect after a restart.</Text>
      </div>
      {settings.error && (
        <Alert color="red" title="Settings are unavailable">
          {settings.error.message}
        </Alert>
      )}
      {restart === true && (
        <Alert color="yellow" title="Restart needed" data-testid="restart-required">
          The saved settings differ from the ones this session runs with. Restart the app to use them.
        </Alert>
      )}
      {restart === false && (
        <Alert color="teal" title="Saved" data-testid="restart-required">
          The saved settings are the ones running now; no restart needed.
        </Alert>
      )}
      {settings.data && (
        <SettingsForm
          onSaved={(required) => {
            setRestart(required);
            settings.reload();
          }}
          key={JSON.stringify(settings.data.saved)}
          saved={settings.data.saved}
          effective={settings.data.effective}
          dataDir={settings.data.dataDir}
        />
      )}
    </Stack>
  );
}
