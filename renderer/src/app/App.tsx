import {
  ActionIcon,
  AppShell,
  Badge,
  Button,
  Group,
  Menu,
  NavLink,
  ScrollArea,
  SegmentedControl,
  Text,
  Title,
  Tooltip,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useEffect, useMemo } from 'react';
import type { Workspace } from '../../../shared/ipc/contract';
import { useApi } from '../api/context';
import { useEvent } from '../api/hooks';
import { Toasts, notify } from '../components/notify';
import { donorPages } from '../features/donor/pages';
import { labPages } from '../features/lab/pages';
import { Onboarding } from '../features/onboarding/Onboarding';
import { NetworkOverview } from '../features/overview/components/NetworkOverview';
import { commonPages } from '../features/settings/pages';
import { StatusBar } from '../features/status/components/StatusBar';
import { stewardPages } from '../features/steward/pages';
import { useChainStore } from '../store/chain';
import { useSession } from '../store/session';
import { useUiStore } from '../store/ui';
import type { PageDefinition, WorkspacePages } from './pages';

const workspaces: { value: Workspace; label: string }[] = [
  { value: 'steward', label: 'Steward' },
  { value: 'donor', label: 'Donor' },
  { value: 'lab', label: 'Lab' },
];

const workspacePages: WorkspacePages = { steward: stewardPages, donor: donorPages, lab: labPages };

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

function ProfileMenu() {
  const api = useApi();
  const { active, profiles, refresh } = useSession();
  const { setPage } = useUiStore();
  if (!active) {
    return (
      <Button variant="light" size="xs" onClick={() => setPage('profile')}>
        {profiles.length ? 'Unlock a profile' : 'Create a profile'}
      </Button>
    );
  }
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <Button variant="default" size="xs" aria-label="Profile menu" data-testid="active-profile">
          {active.label} ·{' '}
          <Text span size="xs" c="dimmed" tt="capitalize" ml={4}>
            {active.role}
          </Text>
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>{active.address}</Menu.Label>
        <Menu.Item onClick={() => setPage('profile')}>Profiles and keys</Menu.Item>
        <Menu.Item
          color="red"
          onClick={async () => {
            const result = await api.call('profiles.lock', {});
            if (!result.ok) notify({ kind: 'error', title: 'Could not lock', message: result.error.message });
            await refresh(api);
            setPage('overview');
          }}
        >
          Lock
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

export function App() {
  const api = useApi();
  const connect = useChainStore((s) => s.connect);
  const { workspace, setWorkspace, page, setPage } = useUiStore();
  const session = useSession();

  useEffect(() => connect(api), [api, connect]);
  useEffect(() => {
    void session.refresh(api);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per connection
  }, [api]);
  useEvent('result.decrypted', (event) => {
    if (event.state === 'decrypted') notify({ kind: 'success', title: `Result of permit ${event.permitId} decrypted` });
    else
      notify({ kind: 'error', title: `Result of permit ${event.permitId} failed`, message: event.error ?? undefined });
  });

  const pages = useMemo<PageDefinition[]>(
    () => [
      { id: 'overview', label: 'Overview', component: () => <NetworkOverview workspace={workspace} /> },
      ...workspacePages[workspace],
      { id: 'profile', label: 'Profiles', description: 'create, unlock, back up', component: Onboarding },
      ...commonPages,
    ],
    [workspace],
  );
  const current = pages.find((candidate) => candidate.id === page) ?? pages[0]!;
  const needsProfile = !['overview', 'profile', 'settings'].includes(current.id);
  const Page = needsProfile && !session.active ? Onboarding : current.component;

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 230, breakpoint: 'sm' }} footer={{ height: 34 }} padding="lg">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap">
            <Title order={3} fw={700}>
              COS Custodian
            </Title>
            <Text size="xs" c="dimmed" visibleFrom="lg">
              Cryptographic Open Science
            </Text>
          </Group>
          <Group wrap="nowrap">
            <SegmentedControl
              aria-label="Workspace"
              data={workspaces}
              value={workspace}
              onChange={(value) => {
                setWorkspace(value as Workspace);
                setPage('overview');
              }}
            />
            <ProfileMenu />
            <ThemeToggle />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label={`${workspace} pages`}>
        <ScrollArea>
          {pages.map((candidate) => (
            <NavLink
              key={candidate.id}
              label={candidate.label}
              description={candidate.description}
              active={candidate.id === current.id}
              aria-current={candidate.id === current.id ? 'page' : undefined}
              onClick={() => setPage(candidate.id)}
              data-testid={`nav-${candidate.id}`}
            />
          ))}
        </ScrollArea>
        {session.active && session.active.role !== workspace && (
          <Badge color="yellow" variant="light" mt="auto" title="The unlocked profile has another role">
            Profile role: {session.active.role}
          </Badge>
        )}
      </AppShell.Navbar>
      <AppShell.Main>
        <Page />
      </AppShell.Main>
      <AppShell.Footer>
        <StatusBar />
      </AppShell.Footer>
      <Toasts />
    </AppShell>
  );
}
