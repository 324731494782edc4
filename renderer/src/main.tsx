import '@mantine/core/styles.css';
import { Alert, Center, MantineProvider, createTheme } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createApiClient, MissingTokenError, type ApiClient } from './api/client';
import { ApiContext } from './api/context';
import { App } from './app/App';

const theme = createTheme({ primaryColor: 'teal', defaultRadius: 'md' });

let api: ApiClient | null = null;
let startupError: string | null = null;
try {
  api = createApiClient();
} catch (error) {
  startupError = error instanceof MissingTokenError ? error.message : 'The app could not reach its core.';
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} defaultColorScheme="auto">
      {api ? (
        <ApiContext.Provider value={api}>
          <App />
        </ApiContext.Provider>
      ) : (
        <Center h="100vh" p="xl">
          <Alert color="red" title="Not connected" maw={560}>
            {startupError}
          </Alert>
        </Center>
      )}
    </MantineProvider>
  </StrictMode>,
);
