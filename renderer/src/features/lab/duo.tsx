import { Badge, Chip, Group, Text, Tooltip } from '@mantine/core';
import { DUO_CODES, duoCodesOf } from '../../../../shared/domain/duo';

/** DUO codes of a bitmask as chips (read only). */
export function DuoBadges({ mask, empty = 'none' }: { mask: string; empty?: string }) {
  const codes = duoCodesOf(mask);
  if (codes.length === 0)
    return (
      <Text span size="xs" c="dimmed">
        {empty}
      </Text>
    );
  return (
    <Group gap={4}>
      {codes.map((code) => (
        <Tooltip key={code.code} label={`${code.id} · ${code.label}`}>
          <Badge size="sm" variant="light" color={code.kind === 'permission' ? 'blue' : 'grape'}>
            {code.code}
          </Badge>
        </Tooltip>
      ))}
    </Group>
  );
}

/** A multi-select of DUO codes; each chip is a checkbox named by its code. */
export function DuoPicker({ value, onChange }: { value: string[]; onChange(value: string[]): void }) {
  return (
    <Chip.Group multiple value={value} onChange={onChange}>
      <Group gap={6} role="group" aria-label="Purpose codes (DUO)">
        {DUO_CODES.map((code) => (
          <Tooltip key={code.code} label={`${code.id} · ${code.label}`} openDelay={300}>
            <Chip value={code.code} size="xs" color={code.kind === 'permission' ? 'blue' : 'grape'}>
              {code.code}
            </Chip>
          </Tooltip>
        ))}
      </Group>
    </Chip.Group>
  );
}
