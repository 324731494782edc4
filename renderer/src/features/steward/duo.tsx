import { Badge, Group, MultiSelect, Text, Tooltip } from '@mantine/core';
import { DUO_CODES, duoCodesOf } from '../../../../shared/domain/duo';

const options = DUO_CODES.map((code) => ({ value: code.code, label: `${code.code} — ${code.label}` }));

/** A multi-select of DUO codes (abbreviations as values). */
export function DuoSelect({
  label,
  value,
  onChange,
  description,
  error,
}: {
  label: string;
  value: string[];
  onChange(value: string[]): void;
  description?: string;
  error?: string | null;
}) {
  return (
    <MultiSelect
      label={label}
      description={description}
      data={options}
      value={value}
      onChange={onChange}
      searchable
      clearable
      error={error ?? undefined}
      placeholder={value.length ? undefined : 'Choose DUO codes'}
    />
  );
}

/** The codes of a DUO bitmask as chips with their ontology label on hover. */
export function DuoChips({ mask }: { mask: string }) {
  const codes = duoCodesOf(mask);
  if (!codes.length)
    return (
      <Text size="xs" c="dimmed">
        none
      </Text>
    );
  return (
    <Group gap={4}>
      {codes.map((code) => (
        <Tooltip key={code.code} label={`${code.id}: ${code.label}`}>
          <Badge size="sm" variant="light" color={code.kind === 'permission' ? 'blue' : 'grape'}>
            {code.code}
          </Badge>
        </Tooltip>
      ))}
    </Group>
  );
}
