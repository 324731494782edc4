import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();
const source = "import { app } from 'electron';\nexport const name = app.getName();\n";

async function electronImportErrors(filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports' || m.ruleId === 'no-restricted-imports')
    .map((m) => m.message);
}

describe('lint rule: only the shell imports electron', () => {
  it('refuses electron in the core, its services and the renderer', async () => {
    await expect(electronImportErrors('electron/main/core.ts')).resolves.toEqual([
      expect.stringContaining('Only electron/main/shell/ may import electron'),
    ]);
    await expect(electronImportErrors('electron/main/keys/vault.ts')).resolves.toHaveLength(1);
    await expect(electronImportErrors('renderer/src/app/App.tsx')).resolves.toHaveLength(1);
  });

  it('allows electron in the shell', async () => {
    await expect(electronImportErrors('electron/main/shell/app.ts')).resolves.toEqual([]);
  });
});
