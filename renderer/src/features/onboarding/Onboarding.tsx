import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Group,
  Modal,
  NativeSelect,
  PasswordInput,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core';
import { useState } from 'react';
import type { ProfileView } from '../../../../shared/ipc/custodian';
import { useApi } from '../../api/context';
import { useAction } from '../../api/hooks';
import { FilePicker } from '../../components/FilePicker';
import { notify } from '../../components/notify';
import { shortHex } from '../../components/format';
import { useSession } from '../../store/session';
import { useUiStore } from '../../store/ui';
import { MIN_PASSPHRASE, passphraseProblem } from './passphrase';

type Role = ProfileView['role'];

const roleText: Record<Role, string> = {
  steward: 'Steward: registers encrypted cohorts and approves grants',
  donor: 'Donor: follows the uses of their records, manages consent',
  lab: 'Lab: requests access and runs compute jobs',
};

function useRefresh() {
  const api = useApi();
  const refresh = useSession((s) => s.refresh);
  return () => refresh(api);
}

function CreateProfile() {
  const api = useApi();
  const refresh = useRefresh();
  const setWorkspace = useUiStore((s) => s.setWorkspace);
  const [label, setLabel] = useState('');
  const [role, setRole] = useState<Role>('steward');
  const [phase, setPhase] = useState<'idle' | 'keys' | 'onboard'>('idle');
  const [error, setError] = useState<string | null>(null);
  const labelProblem =
    label.trim().length === 0 ? 'Give the profile a name' : label.length > 80 ? 'At most 80 characters' : null;

  const submit = async () => {
    setError(null);
    setPhase('keys');
    try {
      const created = await api.call('profiles.create', { label: label.trim(), role });
      if (!created.ok) {
        setError(created.error.message);
        return;
      }
      await refresh();
      setPhase('onboard');
      const onboarded = await api.call('profiles.onboard', {});
      await refresh();
      if (!onboarded.ok) {
        setError(`The keys were made, but onboarding failed: ${onboarded.error.message}. Retry with "Onboard".`);
        return;
      }
      setWorkspace(onboarded.value.role);
      setLabel('');
      notify({
        kind: 'success',
        title: `Profile ${onboarded.value.label} is ready`,
        message: `Identity token #${onboarded.value.sbtId ?? '?'} minted`,
      });
    } finally {
      setPhase('idle');
    }
  };

  return (
    <Card withBorder padding="md">
      <Stack gap="sm">
        <Title order={4}>Create a profile</Title>
        <Text size="sm" c="dimmed">
          The wallet and FHE keys are generated on this machine and sealed in the keychain. Onboarding then mints your
          identity token on the network.
        </Text>
        <TextInput
          label="Profile name"
          placeholder="e.g. Hospital data office"
          value={label}
          onChange={(event) => setLabel(event.currentTarget.value)}
          error={label && labelProblem}
          disabled={phase !== 'idle'}
        />
        <NativeSelect
          label="Role"
          value={role}
          onChange={(event) => setRole(event.currentTarget.value as Role)}
          data={(['steward', 'donor', 'lab'] as const).map((value) => ({ value, label: roleText[value] }))}
          disabled={phase !== 'idle'}
        />
        {error && (
          <Alert color="red" title="Could not create the profile" role="alert">
            {error}
          </Alert>
        )}
        <Group>
          <Tooltip label={labelProblem ?? ''} disabled={!labelProblem}>
            <Button onClick={() => void submit()} loading={phase !== 'idle'} disabled={!!labelProblem}>
              Create and onboard
            </Button>
          </Tooltip>
          {phase !== 'idle' && (
            <Text size="sm" c="dimmed" data-testid="create-phase">
              {phase === 'keys' ? 'Generating keys…' : 'Minting the identity token (sending transactions)…'}
            </Text>
          )}
        </Group>
      </Stack>
    </Card>
  );
}

function RestoreProfile() {
  const refresh = useRefresh();
  const setWorkspace = useUiStore((s) => s.setWorkspace);
  const [picking, setPicking] = useState(false);
  const [path, setPath] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const restore = useAction('profiles.restore', {
    success: (profile) => `Restored ${profile.label}`,
    failure: 'Could not restore the backup',
  });
  return (
    <Card withBorder padding="md">
      <Stack gap="sm">
        <Title order={4}>Restore from a backup</Title>
        <Group align="end" wrap="nowrap">
          <TextInput label="Backup file" value={path} readOnly placeholder="Choose a file" style={{ flex: 1 }} />
          <Button variant="default" onClick={() => setPicking(true)}>
            Choose backup file
          </Button>
        </Group>
        <PasswordInput
          label="Backup passphrase"
          value={passphrase}
          onChange={(event) => setPassphrase(event.currentTarget.value)}
        />
        <Group>
          <Tooltip label="Choose a file and type its passphrase" disabled={!!path && !!passphrase}>
            <Button
              variant="light"
              disabled={!path || !passphrase}
              loading={restore.pending}
              onClick={async () => {
                const profile = await restore.run({ path, passphrase });
                await refresh();
                if (profile) {
                  setPassphrase('');
                  setWorkspace(profile.role);
                }
              }}
            >
              Restore
            </Button>
          </Tooltip>
        </Group>
      </Stack>
      <FilePicker opened={picking} onClose={() => setPicking(false)} title="Choose a backup file" onPick={setPath} />
    </Card>
  );
}

function BackupModal({ profile, onClose }: { profile: ProfileView; onClose(): void }) {
  const [picking, setPicking] = useState(false);
  const [path, setPath] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const backup = useAction('profiles.backup', {
    success: (value) => `Backup written to ${value.path}`,
    failure: 'Backup failed',
  });
  const problem = passphraseProblem(passphrase, confirmation) ?? (path ? null : 'Choose where to save the backup');
  return (
    <Stack gap="sm">
      <Text size="sm">
        The backup holds the keys of <b>{profile.label}</b>, encrypted with your passphrase. Keep the passphrase apart
        from the file: without it the backup cannot be opened.
      </Text>
      <Group align="end" wrap="nowrap">
        <TextInput label="Save to" value={path} readOnly placeholder="Choose a location" style={{ flex: 1 }} />
        <Button variant="default" onClick={() => setPicking(true)}>
          Choose location
        </Button>
      </Group>
      <PasswordInput
        label="Passphrase"
        description={`At least ${MIN_PASSPHRASE} characters`}
        value={passphrase}
        onChange={(event) => setPassphrase(event.currentTarget.value)}
        error={passphrase && passphrase.length < MIN_PASSPHRASE ? `At least ${MIN_PASSPHRASE} characters` : null}
      />
      <PasswordInput
        label="Confirm passphrase"
        value={confirmation}
        onChange={(event) => setConfirmation(event.currentTarget.value)}
        error={confirmation && confirmation !== passphrase ? 'The two passphrases differ' : null}
      />
      <Group justify="end">
        <Button variant="default" onClick={onClose}>
          Cancel
        </Button>
        <Tooltip label={problem ?? ''} disabled={!problem}>
          <Button
            disabled={!!problem}
            loading={backup.pending}
            onClick={async () => {
              if (await backup.run({ profileId: profile.id, passphrase, path })) onClose();
            }}
          >
            Write backup
          </Button>
        </Tooltip>
      </Group>
      <FilePicker
        opened={picking}
        onClose={() => setPicking(false)}
        mode="save"
        title="Save the backup as"
        defaultName={`${profile.label.replace(/[^A-Za-z0-9_-]+/g, '-')}.cosbackup`}
        onPick={setPath}
      />
    </Stack>
  );
}

function ProfileRow({ profile, onBackup }: { profile: ProfileView; onBackup(): void }) {
  const api = useApi();
  const refresh = useRefresh();
  const setWorkspace = useUiStore((s) => s.setWorkspace);
  const [busy, setBusy] = useState<null | 'unlock' | 'lock' | 'onboard'>(null);
  const act = async (kind: 'unlock' | 'lock' | 'onboard') => {
    setBusy(kind);
    try {
      const result =
        kind === 'unlock'
          ? await api.call('profiles.unlock', { profileId: profile.id })
          : kind === 'lock'
            ? await api.call('profiles.lock', {})
            : await api.call('profiles.onboard', {});
      if (!result.ok) {
        notify({ kind: 'error', title: `Could not ${kind} ${profile.label}`, message: result.error.message });
      } else if (kind !== 'lock') {
        setWorkspace(profile.role);
        if (kind === 'onboard') notify({ kind: 'success', title: `${profile.label} onboarded` });
      }
      await refresh();
    } finally {
      setBusy(null);
    }
  };
  return (
    <Table.Tr data-testid={`profile-${profile.label}`} aria-label={`Profile ${profile.label}`}>
      <Table.Td>
        <Group gap={6} wrap="nowrap">
          <Text fw={600} size="sm">
            {profile.label}
          </Text>
          {profile.active && (
            <Badge color="teal" size="sm" variant="light">
              Active
            </Badge>
          )}
        </Group>
      </Table.Td>
      <Table.Td>
        <Badge variant="outline" size="sm" tt="capitalize">
          {profile.role}
        </Badge>
      </Table.Td>
      <Table.Td>
        <Tooltip label={profile.address}>
          <Code>{shortHex(profile.address)}</Code>
        </Tooltip>
      </Table.Td>
      <Table.Td data-testid="sbt-id">
        {profile.sbtId ?? (
          <Text span size="sm" c="dimmed">
            not onboarded
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        <Stack gap={2}>
          {Object.entries(profile.fingerprints).map(([name, fingerprint]) => (
            <Text key={name} size="xs" ff="monospace">
              {name}: {shortHex(fingerprint, 8, 6)}
            </Text>
          ))}
        </Stack>
      </Table.Td>
      <Table.Td>
        <Group gap="xs" wrap="nowrap" justify="end">
          {profile.active ? (
            <>
              {profile.sbtId === null && (
                <Button size="xs" loading={busy === 'onboard'} onClick={() => void act('onboard')}>
                  Onboard
                </Button>
              )}
              <Button size="xs" variant="default" loading={busy === 'lock'} onClick={() => void act('lock')}>
                Lock
              </Button>
            </>
          ) : (
            <Button
              size="xs"
              aria-label={`Unlock ${profile.label}`}
              loading={busy === 'unlock'}
              onClick={() => void act('unlock')}
            >
              Unlock
            </Button>
          )}
          <Button size="xs" variant="subtle" aria-label={`Back up ${profile.label}`} onClick={onBackup}>
            Back up
          </Button>
        </Group>
      </Table.Td>
    </Table.Tr>
  );
}

/** Profiles on this machine: create (keys made in the core, identity minted), restore, unlock, lock, back up. */
export function Onboarding() {
  const { profiles, active, error, loaded } = useSession();
  const page = useUiStore((s) => s.page);
  const [backupOf, setBackupOf] = useState<ProfileView | null>(null);
  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Profiles</Title>
        <Text c="dimmed" maw={760}>
          {page !== 'profile' && !active
            ? 'This page acts for a profile: unlock one below, or create one.'
            : 'Each profile holds its own wallet and FHE keys. The app shows addresses and key fingerprints, never keys.'}
        </Text>
      </div>
      {error && (
        <Alert color="red" title="Profiles are unavailable">
          {error}
        </Alert>
      )}
      <Card withBorder padding="md">
        <Title order={4} mb="sm">
          On this machine
        </Title>
        {loaded && profiles.length === 0 ? (
          <Text size="sm" c="dimmed">
            No profile yet. Create one below or restore a backup.
          </Text>
        ) : (
          <Table.ScrollContainer minWidth={760}>
            <Table aria-label="Profiles" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Role</Table.Th>
                  <Table.Th>Address</Table.Th>
                  <Table.Th>Identity token</Table.Th>
                  <Table.Th>Key fingerprints</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {profiles.map((profile) => (
                  <ProfileRow key={profile.id} profile={profile} onBackup={() => setBackupOf(profile)} />
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Card>
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <CreateProfile />
        <RestoreProfile />
      </SimpleGrid>
      <Modal opened={backupOf !== null} onClose={() => setBackupOf(null)} title="Back up a profile">
        {backupOf && <BackupModal profile={backupOf} onClose={() => setBackupOf(null)} />}
      </Modal>
    </Stack>
  );
}
