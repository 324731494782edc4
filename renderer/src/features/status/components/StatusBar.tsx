import { Badge, Group, Progress, Text, Tooltip } from '@mantine/core';
import { useState } from 'react';
import { useEvent } from '../../../api/hooks';
import { chainSelectors, useChainStore } from '../../../store/chain';
import { syncLabel, type SyncProgress } from '../sync';

function Dot({ color }: { color: string }) {
  return (
    <span
      aria-hidden
      style={{
        display: 'inline-block',
        width: 8,
        height: 8,
        borderRadius: 4,
        background: `var(--mantine-color-${color}-6)`,
      }}
    />
  );
}

/** How far the local cache has read the chain: "Synced" or "Syncing 1234/5678" with a bar. */
function SyncState() {
  const [progress, setProgress] = useState<SyncProgress | null>(null);
  useEvent('chain.sync', (event) => setProgress(event));
  const sync = syncLabel(progress);
  return (
    <Tooltip
      label={
        progress
          ? `Local cache at block ${progress.cursorBlock} of ${progress.headBlock}`
          : 'Waiting for the first sync report'
      }
    >
      <Group gap={6} wrap="nowrap" data-testid="sync-state" data-synced={sync.synced}>
        {!sync.synced && progress && <Progress value={sync.percent} w={60} size="sm" aria-label="Sync progress" />}
        <Text size="xs" c={sync.synced ? 'teal' : 'dimmed'}>
          {sync.label}
        </Text>
      </Group>
    </Tooltip>
  );
}

/** Live chain facts from the core: connection state, chain id, latest block, sync, companion services. */
export function StatusBar() {
  const state = useChainStore();
  const status = state.status;
  const label = chainSelectors.connectionLabel(state);
  return (
    <Group h="100%" px="md" justify="space-between" wrap="nowrap" role="status" aria-label="Chain status">
      <Group gap="md" wrap="nowrap">
        <Tooltip label={status?.lastError ?? status?.rpcUrl ?? ''} disabled={!status}>
          <Badge color={chainSelectors.connectionColor(state)} variant="light" data-testid="chain-state">
            {label}
          </Badge>
        </Tooltip>
        <Text size="xs" c="dimmed">
          Chain <span data-testid="chain-id">{status?.chainId ?? '—'}</span>
        </Text>
        <Text size="xs" c="dimmed">
          Block <span data-testid="block-number">{status?.blockNumber ?? '—'}</span>
        </Text>
        <SyncState />
      </Group>
      <Group gap="md" wrap="nowrap">
        {state.services.map((service) => (
          <Tooltip
            key={service.name}
            label={service.healthy ? `${service.url} v${service.version ?? '?'}` : (service.detail ?? 'unreachable')}
          >
            <Group gap={6} wrap="nowrap" data-testid={`service-${service.name}`} data-healthy={service.healthy}>
              <Dot color={service.healthy ? 'teal' : 'red'} />
              <Text size="xs" c="dimmed" tt="capitalize">
                {service.name}
              </Text>
            </Group>
          </Tooltip>
        ))}
        <Text size="xs" c="dimmed">
          {state.appInfo ? `${state.appInfo.network.name} · v${state.appInfo.version}` : ''}
        </Text>
      </Group>
    </Group>
  );
}
