import { ActionIcon, Badge, Box, Button, Group, Loader, Paper, Text, Tooltip } from '@mantine/core';
import { IconCircleCheck, IconCircleX, IconShieldCheck } from '@tabler/icons-react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState } from 'react';
import type { AuditRow } from '../../../../shared/ipc/custodian';
import { useApi } from '../../api/context';
import { useEvent } from '../../api/hooks';
import { shortHex } from '../../components/format';
import { notify } from '../../components/notify';
import {
  AUDIT_PAGE_SIZE,
  auditRowsToCsv,
  auditRowsToJson,
  downloadText,
  fetchAllAuditRows,
  type AuditFilter,
} from './export';

export type { AuditFilter } from './export';

const ROW_HEIGHT = 36;
const COLUMNS = '90px 150px 120px 70px 70px 130px minmax(160px, 1fr) 110px';

interface PageCache {
  /** Filter and generation the pages belong to. */
  key: string;
  filterKey: string;
  total: number | null;
  pages: Record<number, AuditRow[]>;
  error: string | null;
}

type Verification = { verified: boolean; reason: string | null } | 'pending';

function argsSummary(args: Record<string, unknown>): string {
  const text = Object.entries(args)
    .map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

function VerifyCell({ row, state, onVerify }: { row: AuditRow; state: Verification | undefined; onVerify(): void }) {
  if (state === 'pending') return <Loader size="xs" aria-label={`Verifying event ${row.id}`} />;
  if (state?.verified)
    return (
      <Tooltip label="Matches the transaction receipt on chain">
        <Badge color="teal" variant="light" leftSection={<IconCircleCheck size={12} />} data-testid="verified">
          Verified
        </Badge>
      </Tooltip>
    );
  if (state)
    return (
      <Tooltip label={state.reason ?? 'Does not match the chain'} multiline w={260}>
        <Badge color="red" variant="light" leftSection={<IconCircleX size={12} />} data-testid="verify-failed">
          Failed
        </Badge>
      </Tooltip>
    );
  return (
    <Tooltip label="Check this row against the chain's receipt">
      <ActionIcon variant="subtle" size="sm" aria-label={`Verify event ${row.id}`} onClick={onVerify}>
        <IconShieldCheck size={16} />
      </ActionIcon>
    </Tooltip>
  );
}

/**
 * Every cached chain event matching `filter`, newest first, virtualized: only the visible rows are in the
 * DOM and pages of 1,000 rows are fetched from the core as they scroll into view. Each row can be checked
 * against the chain (audit.verify); the filtered rows export as CSV or JSON (a download).
 */
export function AuditTable({
  filter,
  height = 520,
  exportName = 'audit',
}: {
  filter: AuditFilter;
  height?: number;
  exportName?: string;
}) {
  const api = useApi();
  const filterKey = JSON.stringify(filter);
  const [generation, setGeneration] = useState(0);
  const key = `${filterKey}#${generation}`;
  const [cache, setCache] = useState<PageCache>({ key: '', filterKey: '', total: null, pages: {}, error: null });
  const [verifications, setVerifications] = useState<Record<number, Verification>>({});
  const [exporting, setExporting] = useState<string | null>(null);
  const inFlight = useRef(new Set<string>());
  const scrollRef = useRef<HTMLDivElement>(null);

  useEvent('cache.changed', () => setGeneration((value) => value + 1));

  // Rows of the previous generation of the same filter stay visible until the new pages arrive.
  const usable = cache.filterKey === filterKey;
  const total = usable ? (cache.total ?? 0) : 0;
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is meant to re-render; nothing memoizes it
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const wanted = new Set<number>([0]);
  for (const item of items) wanted.add(Math.floor(item.index / AUDIT_PAGE_SIZE));
  const missing = [...wanted].filter((page) => cache.key !== key || !cache.pages[page]).sort((a, b) => a - b);
  const missingKey = missing.join(',');

  useEffect(() => {
    if (!missingKey) return;
    const request = JSON.parse(filterKey) as AuditFilter;
    for (const page of missingKey.split(',').map(Number)) {
      const flightKey = `${key}@${page}`;
      if (inFlight.current.has(flightKey)) continue;
      inFlight.current.add(flightKey);
      void api
        .call('audit.list', { ...request, offset: page * AUDIT_PAGE_SIZE, limit: AUDIT_PAGE_SIZE })
        .then((answer) => {
          inFlight.current.delete(flightKey);
          setCache((previous) => {
            const base: PageCache =
              previous.key === key ? previous : { key, filterKey, total: previous.total, pages: {}, error: null };
            if (!answer.ok) return { ...base, filterKey, error: answer.error.message };
            // A newer generation keeps the old pages of the same filter until it has its own.
            const pages = previous.key === key ? base.pages : {};
            return {
              key,
              filterKey,
              total: answer.value.total,
              pages: { ...pages, [page]: answer.value.rows },
              error: null,
            };
          });
        });
    }
  }, [api, filterKey, key, missingKey]);

  const rowAt = (index: number): AuditRow | undefined => {
    if (!usable) return undefined;
    return cache.pages[Math.floor(index / AUDIT_PAGE_SIZE)]?.[index % AUDIT_PAGE_SIZE];
  };

  const verify = async (row: AuditRow) => {
    setVerifications((previous) => ({ ...previous, [row.id]: 'pending' }));
    const answer = await api.call('audit.verify', { id: row.id });
    setVerifications((previous) => ({
      ...previous,
      [row.id]: answer.ok
        ? { verified: answer.value.verified, reason: answer.value.reason }
        : { verified: false, reason: answer.error.message },
    }));
  };

  const exportAs = async (format: 'csv' | 'json') => {
    setExporting(format);
    try {
      const rows = await fetchAllAuditRows(api, filter);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      if (format === 'csv') downloadText(`${exportName}-${stamp}.csv`, auditRowsToCsv(rows), 'text/csv');
      else downloadText(`${exportName}-${stamp}.json`, auditRowsToJson(rows), 'application/json');
      notify({
        kind: 'success',
        title: `Exported ${rows.length.toLocaleString('en')} event${rows.length === 1 ? '' : 's'} as ${format.toUpperCase()}`,
      });
    } catch (error) {
      notify({ kind: 'error', title: 'Could not export the audit trail', message: (error as Error).message });
    } finally {
      setExporting(null);
    }
  };

  const loadingFirst = !usable && !cache.error;
  return (
    <Paper withBorder radius="md">
      <Group justify="space-between" px="sm" py={6}>
        <Text size="sm" data-testid="audit-total">
          {loadingFirst ? 'Loading events…' : `${total.toLocaleString('en')} event${total === 1 ? '' : 's'}`}
        </Text>
        <Group gap="xs">
          <Tooltip label={total ? 'Download the filtered events as CSV' : 'No events to export'}>
            <Button
              size="xs"
              variant="default"
              disabled={!total || exporting !== null}
              loading={exporting === 'csv'}
              onClick={() => void exportAs('csv')}
            >
              Export CSV
            </Button>
          </Tooltip>
          <Tooltip label={total ? 'Download the filtered events as JSON' : 'No events to export'}>
            <Button
              size="xs"
              variant="default"
              disabled={!total || exporting !== null}
              loading={exporting === 'json'}
              onClick={() => void exportAs('json')}
            >
              Export JSON
            </Button>
          </Tooltip>
        </Group>
      </Group>
      {cache.error && (
        <Text c="red" size="sm" px="sm" role="alert">
          {cache.error}
        </Text>
      )}
      <Box role="table" aria-label="Audit events" aria-rowcount={total + 1}>
        <Box
          role="row"
          px="sm"
          py={6}
          style={{
            display: 'grid',
            gridTemplateColumns: COLUMNS,
            gap: 8,
            borderTop: '1px solid var(--mantine-color-default-border)',
            borderBottom: '1px solid var(--mantine-color-default-border)',
            background: 'var(--mantine-color-default-hover)',
          }}
        >
          {['Block', 'Event', 'Contract', 'Dataset', 'Grant', 'Transaction', 'Arguments', 'Chain check'].map(
            (title) => (
              <Text key={title} role="columnheader" size="xs" fw={700}>
                {title}
              </Text>
            ),
          )}
        </Box>
        <div ref={scrollRef} style={{ height, overflow: 'auto' }} data-testid="audit-scroll">
          <div role="rowgroup" style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {items.map((item) => {
              const row = rowAt(item.index);
              return (
                <Box
                  key={item.key}
                  role="row"
                  aria-rowindex={item.index + 2}
                  data-index={item.index}
                  px="sm"
                  style={{
                    position: 'absolute',
                    top: 0,
                    left: 0,
                    right: 0,
                    height: ROW_HEIGHT,
                    transform: `translateY(${item.start}px)`,
                    display: 'grid',
                    gridTemplateColumns: COLUMNS,
                    gap: 8,
                    alignItems: 'center',
                    borderBottom: '1px solid var(--mantine-color-default-border)',
                  }}
                >
                  {row ? (
                    <>
                      <Text role="cell" size="xs" ff="monospace">
                        {row.blockNumber}
                      </Text>
                      <Text role="cell" size="xs" fw={600} truncate>
                        {row.name}
                      </Text>
                      <Text role="cell" size="xs" c="dimmed" truncate>
                        {row.contract}
                      </Text>
                      <Text role="cell" size="xs">
                        {row.datasetId ?? '—'}
                      </Text>
                      <Text role="cell" size="xs">
                        {row.grantId ?? '—'}
                      </Text>
                      <Text role="cell" size="xs" ff="monospace" title={row.txHash}>
                        {shortHex(row.txHash)}
                      </Text>
                      <Text role="cell" size="xs" ff="monospace" truncate title={JSON.stringify(row.args)}>
                        {argsSummary(row.args)}
                      </Text>
                      <Box role="cell">
                        <VerifyCell row={row} state={verifications[row.id]} onVerify={() => void verify(row)} />
                      </Box>
                    </>
                  ) : (
                    <Text role="cell" size="xs" c="dimmed">
                      Loading…
                    </Text>
                  )}
                </Box>
              );
            })}
          </div>
          {usable && total === 0 && (
            <Text c="dimmed" size="sm" p="md">
              No events match this filter.
            </Text>
          )}
        </div>
      </Box>
    </Paper>
  );
}
