import { Stack, Text, Title } from '@mantine/core';

/** Shown while no profile is unlocked: create, restore or unlock one. */
export function Onboarding() {
  return (
    <Stack>
      <Title order={2}>Welcome</Title>
      <Text>Create or unlock a profile to begin.</Text>
    </Stack>
  );
}
