// What one part of the product tells the others without knowing them: a top-up that moved money,
// a card issued. The composition root (src/system.ts) makes one hub; the services emit on it and
// the areas subscribe (transit clears a debt listing, the registry applies a person's concession).

/** The card events, by name, with what each carries. */
export interface CardEvents {
  /** A top-up that was approved and booked now (not a replay), with the purse balance after it. */
  'topup-approved': { cardNo: string; amountFen: bigint; balanceFen: bigint };
  /** A card issued by the back office, before its answer is sent. */
  'card-issued': { cardNo: string };
}

/** A listener handles its own failures: what it throws reaches the emitter's caller. */
export type Listener<T> = (event: T) => Promise<void>;

/** The side of the hub a service holds: it tells, it does not listen. */
export interface EventSink<M> {
  emit<K extends keyof M>(name: K, event: M[K]): Promise<void>;
}

export class Events<M> implements EventSink<M> {
  private readonly listeners: { [K in keyof M]?: Listener<M[K]>[] } = {};

  on<K extends keyof M>(name: K, listener: Listener<M[K]>): void {
    (this.listeners[name] ??= []).push(listener);
  }

  /** Runs the listeners one after another, in the order they subscribed, and waits for them. */
  async emit<K extends keyof M>(name: K, event: M[K]): Promise<void> {
    for (const listener of this.listeners[name] ?? []) await listener(event);
  }
}

export type CardEventSink = EventSink<CardEvents>;
