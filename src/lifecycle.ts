/** The process's stage, shared by the routes: serving, then draining after SIGTERM. */
export class Lifecycle {
  #draining = false;
  readonly #onDrain: (() => void)[] = [];

  get draining(): boolean {
    return this.#draining;
  }

  /** Runs `listener` once when draining starts (at once if it has). */
  onDrain(listener: () => void): void {
    if (this.#draining) listener();
    else this.#onDrain.push(listener);
  }

  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    for (const listener of this.#onDrain.splice(0)) listener();
  }
}
