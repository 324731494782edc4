import { events, type EventName, type EventPayload } from '../../../shared/ipc/contract';

export type EventListener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/**
 * Main -> renderer events. Payloads are checked against the contract before they leave, so a bug in
 * the core cannot push malformed data (or fields outside the schema) to the renderer.
 */
export class EventBus {
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly onInvalid: (event: string, error: unknown) => void = () => undefined) {}

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    const parsed = events[event].safeParse(payload);
    if (!parsed.success) {
      this.onInvalid(event, parsed.error);
      return;
    }
    for (const listener of this.listeners) listener(event, parsed.data as EventPayload<E>);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
