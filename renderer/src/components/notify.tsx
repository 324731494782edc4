import { CloseButton, Notification, Stack } from '@mantine/core';
import { create } from 'zustand';

export interface Toast {
  id: number;
  kind: 'success' | 'error' | 'info';
  title: string;
  message?: string;
}

interface ToastState {
  toasts: Toast[];
  push(toast: Omit<Toast, 'id'>): void;
  dismiss(id: number): void;
}

let nextId = 1;

export const useToasts = create<ToastState>()((set, get) => ({
  toasts: [],
  push(toast) {
    const id = nextId++;
    set({ toasts: [...get().toasts.slice(-4), { ...toast, id }] });
    // Errors stay until dismissed; the rest fade after a few seconds.
    if (toast.kind !== 'error') setTimeout(() => get().dismiss(id), 5_000);
  },
  dismiss(id) {
    set({ toasts: get().toasts.filter((toast) => toast.id !== id) });
  },
}));

export function notify(toast: Omit<Toast, 'id'>): void {
  useToasts.getState().push(toast);
}

const colors = { success: 'teal', error: 'red', info: 'blue' } as const;

/** The toast stack, bottom right, announced to screen readers. */
export function Toasts() {
  const { toasts, dismiss } = useToasts();
  return (
    <Stack
      gap="xs"
      pos="fixed"
      bottom={48}
      right={16}
      w={380}
      style={{ zIndex: 1000 }}
      aria-live="polite"
      data-testid="toasts"
    >
      {toasts.map((toast) => (
        <Notification
          key={toast.id}
          color={colors[toast.kind]}
          title={toast.title}
          withCloseButton={false}
          role={toast.kind === 'error' ? 'alert' : 'status'}
          data-kind={toast.kind}
        >
          {toast.message}
          <CloseButton
            size="sm"
            aria-label="Dismiss"
            pos="absolute"
            top={8}
            right={8}
            onClick={() => dismiss(toast.id)}
          />
        </Notification>
      ))}
    </Stack>
  );
}
