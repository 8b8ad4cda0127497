/**
 * WALLCAST_MAX_SUBSCRIBERS: a stream takes a slot before it opens and gives
 * it back when it closes. One process counts its own; a machine of workers
 * counts at its primary (cluster/), so the bound is the machine's whichever
 * worker a stream lands on.
 */
export interface StreamSlots {
  /** A slot for a new stream, or false when the bound is reached (the route answers 503). */
  take(): boolean | Promise<boolean>;
  /** The stream's slot back (once per slot taken). */
  give(): void;
}

/** The slots of one process. */
export class LocalStreamSlots implements StreamSlots {
  #taken = 0;

  /** `max` undefined: no bound. */
  constructor(private readonly max: number | undefined) {}

  take(): boolean {
    if (this.max !== undefined && this.#taken >= this.max) return false;
    this.#taken++;
    return true;
  }

  give(): void {
    this.#taken--;
  }
}
