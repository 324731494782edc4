import {
  ActionIcon,
  AppShell,
  Group,
  NavLink,
  SegmentedControl,
  Text,
  Title,
  Tooltip,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useEffect } from 'react';
import type { Workspace } from '../../../shared/ipc/contract';
import { useApi } from '../api/context';
import { NetworkOverview } from '../features/overview/components/NetworkOverview';
import { StatusBar } from '../features/status/components/StatusBar';
import { useChainStore } from '../store/chain';
import { useUiStore } from '../store/ui';

const workspaces: { value: Workspace; label: string }[] = [
  { value: 'steward', label: 'Steward' },
  { value: 'donor', label: 'Donor' },
  { value: 'lab', label: 'Lab' },
];

function ThemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const scheme = useComputedColorScheme('light');
  const next = scheme === 'dark' ? 'light' : 'dark';
  return (
    <Tooltip label={`Switch to ${next} theme`}>
      <ActionIcon
        variant="default"
        size="lg"
        aria-label={`Switch to ${next} theme`}
        onClick={() => setColorScheme(next)}
      >
        <span aria-hidden>{scheme === 'dark' ? '☀' : '☾'}</span>
      </ActionIcon>
    </Tooltip>
  );
}

export function App() {
  const api = useApi();
  const connect = useChainStore((s) => s.connect);
  const { workspace, setWorkspace } = useUiStore();

  useEffect(() => connect(api), [api, connect]);

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm' }} footer={{ height: 34 }} padding="lg">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="xs">
            <Title order={3} fw={700}>
              COS Custodian
            </Title>
            <Text size="xs" c="dimmed" visibleFrom="md">
              Cryptographic Open Science
            </Text>
          </Group>
          <Group>
            <SegmentedControl
              aria-label="Workspace"
              data={workspaces}
              value={workspace}
              onChange={(value) => setWorkspace(value as Workspace)}
            />
            <ThemeToggle />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label={`${workspace} pages`}>
        <NavLink label="Overview" active aria-current="page" />
      </AppShell.Navbar>
      <AppShell.Main>
        <NetworkOverview workspace={workspace} />
      </AppShell.Main>
      <AppShell.Footer>
        <StatusBar />
      </AppShell.Footer>
    </AppShell>
  );
}
