/**
 * What a node has opened or started, closed in the reverse order. Every close runs even when an earlier one
 * throws (the error is reported), so a half-started node never leaves a listener or a database lock behind.
 */
export interface Closer { name: string, close: () => Promise<void> | void }

export class CloseStack {
  private readonly stack: Closer[] = []

  constructor (private readonly onError: (name: string, err: Error) => void = () => {}) {}

  push (name: string, close: () => Promise<void> | void): void { this.stack.push({ name, close }) }

  /** Names of what is open, oldest first. */
  names (): string[] { return this.stack.map((c) => c.name) }

  /** Closes everything, newest first; the stack is empty afterwards. */
  async closeAll (): Promise<void> {
    for (const c of this.stack.splice(0).reverse()) {
      try { await c.close() } catch (err) { this.onError(c.name, err as Error) }
    }
  }
}
