import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { EVENT_PREFIX, IPC_PREFIX } from '../../shared/ipc/names';
import { buildBridgeApi } from './bridge';

contextBridge.exposeInMainWorld(
  'cos',
  buildBridgeApi({
    invoke: (channel, request) => ipcRenderer.invoke(IPC_PREFIX + channel, request),
    subscribe: (event, listener) => {
      const wrapped = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
      ipcRenderer.on(EVENT_PREFIX + event, wrapped);
      return () => ipcRenderer.removeListener(EVENT_PREFIX + event, wrapped);
    },
  }),
);
