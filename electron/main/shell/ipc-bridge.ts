import type { IpcMain, WebContents } from 'electron';
import { EVENT_PREFIX, IPC_PREFIX, channelNames } from '../../../shared/ipc/names';
import type { EventBus } from '../events/bus';
import type { Router } from '../ipc/router';
import { isRendererUrl } from './hardening';

/**
 * One ipcMain handler per contract channel, each answering only the app's own renderer frame;
 * core events are forwarded to the window. Nothing else is registered.
 */
export function bridgeIpc(
  ipcMain: IpcMain,
  router: Router,
  events: EventBus,
  target: () => WebContents | null,
): () => void {
  for (const channel of channelNames) {
    ipcMain.handle(IPC_PREFIX + channel, async (event, request: unknown) => {
      const frameUrl = event.senderFrame?.url ?? '';
      if (!isRendererUrl(frameUrl)) {
        return { ok: false, error: { code: 'FORBIDDEN', message: 'IPC is only answered for the app renderer' } };
      }
      return router.dispatch(channel, request);
    });
  }
  const unsubscribe = events.subscribe((event, payload) => {
    const contents = target();
    if (contents && !contents.isDestroyed()) contents.send(EVENT_PREFIX + event, payload);
  });
  return () => {
    unsubscribe();
    for (const channel of channelNames) ipcMain.removeHandler(IPC_PREFIX + channel);
  };
}
