import { Alert, Button, Group, Modal, ScrollArea, Stack, Table, Text, TextInput, UnstyledButton } from '@mantine/core';
import { useState } from 'react';
import { useQuery } from '../api/hooks';

export interface FilePickerProps {
  opened: boolean;
  onClose(): void;
  /** open: choose an existing file; save: choose a folder and type a new file name. */
  mode?: 'open' | 'save';
  title?: string;
  /** Only show files with these endings (lower case, e.g. ['.vcf', '.vcf.gz']). */
  extensions?: string[];
  defaultName?: string;
  startDir?: string;
  onPick(path: string): void;
}

function formatSize(size: number | null): string {
  if (size === null) return '';
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Files on this machine as the core sees them (the renderer has no file system). Works the same in
 * Electron and in the browser host; paths are absolute.
 */
export function FilePicker(props: FilePickerProps) {
  const { opened, onClose, mode = 'open', title } = props;
  return (
    <Modal opened={opened} onClose={onClose} title={title ?? (mode === 'open' ? 'Choose a file' : 'Save as')} size="lg">
      {/* Mounted while open, so each opening starts from the props. */}
      <FilePickerBody {...props} />
    </Modal>
  );
}

function FilePickerBody({ onClose, mode = 'open', extensions, defaultName = '', startDir, onPick }: FilePickerProps) {
  const [dir, setDir] = useState<string | undefined>(startDir);
  const [name, setName] = useState(defaultName);
  const [typed, setTyped] = useState('');
  const listing = useQuery('files.list', dir ? { dir } : {});
  const entries = (listing.data?.entries ?? []).filter(
    (entry) => entry.kind === 'dir' || !extensions || extensions.some((ext) => entry.name.toLowerCase().endsWith(ext)),
  );
  const current = listing.data?.dir ?? '';
  const separator = current.includes('\\') ? '\\' : '/';

  return (
    <Stack gap="sm">
      <Group gap="xs" wrap="nowrap">
        <Button
          variant="default"
          size="xs"
          disabled={!listing.data?.parent}
          onClick={() => listing.data?.parent && setDir(listing.data.parent)}
        >
          Up
        </Button>
        <TextInput
          aria-label="Folder"
          value={typed || current}
          onChange={(event) => setTyped(event.currentTarget.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && typed) {
              setDir(typed);
              setTyped('');
            }
          }}
          style={{ flex: 1 }}
          size="xs"
        />
      </Group>
      {listing.error && (
        <Alert color="red" title="Cannot open this folder">
          {listing.error.message}
        </Alert>
      )}
      <ScrollArea h={320} type="auto">
        <Table highlightOnHover verticalSpacing={4} aria-label="Folder contents">
          <Table.Tbody>
            {entries.map((entry) => (
              <Table.Tr key={entry.path}>
                <Table.Td>
                  <UnstyledButton
                    onClick={() => {
                      if (entry.kind === 'dir') setDir(entry.path);
                      else if (mode === 'open') {
                        onPick(entry.path);
                        onClose();
                      } else setName(entry.name);
                    }}
                    aria-label={`${entry.kind === 'dir' ? 'Folder' : 'File'} ${entry.name}`}
                  >
                    <Text size="sm" fw={entry.kind === 'dir' ? 600 : 400}>
                      {entry.kind === 'dir' ? '📁 ' : '📄 '}
                      {entry.name}
                    </Text>
                  </UnstyledButton>
                </Table.Td>
                <Table.Td w={100}>
                  <Text size="xs" c="dimmed" ta="right">
                    {formatSize(entry.size)}
                  </Text>
                </Table.Td>
              </Table.Tr>
            ))}
            {entries.length === 0 && !listing.loading && (
              <Table.Tr>
                <Table.Td>
                  <Text size="sm" c="dimmed">
                    Nothing to choose here.
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </ScrollArea>
      {mode === 'save' && (
        <Group wrap="nowrap" align="end">
          <TextInput
            label="File name"
            value={name}
            onChange={(event) => setName(event.currentTarget.value)}
            style={{ flex: 1 }}
          />
          <Button
            disabled={!name || !current || /[\\/]/.test(name)}
            onClick={() => {
              onPick(`${current}${current.endsWith(separator) ? '' : separator}${name}`);
              onClose();
            }}
          >
            Save here
          </Button>
        </Group>
      )}
    </Stack>
  );
}
