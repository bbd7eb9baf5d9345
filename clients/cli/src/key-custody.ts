/**
 * The supervisor's copy of the derived store key, held in memory only while the node is
 * unlocked, so that a crashed session can be restarted unlocked (design §6). It is never
 * written anywhere; lock, delete and down wipe it (the bytes are zeroed, not just dropped).
 */
export class KeyCustody {
  #key: Buffer | undefined;

  get holding(): boolean {
    return this.#key !== undefined;
  }

  /** Takes ownership of `key` (the caller must not reuse it). */
  hold(key: Buffer): void {
    this.wipe();
    this.#key = key;
  }

  /** A copy for one hand-over; the receiver wipes it after use. */
  copy(): Buffer | undefined {
    return this.#key ? Buffer.from(this.#key) : undefined;
  }

  wipe(): void {
    this.#key?.fill(0);
    this.#key = undefined;
  }
}
