/**
 * A binary min-heap ordered by a comparator. Used by the discrete-event scheduler: events pop in virtual-time
 * order, ties broken by a total order on (kind, peer, sender, sequence) so the order never depends on
 * insertion order or on which worker thread holds the peer.
 */
export class MinHeap<T> {
  readonly #items: T[] = []
  readonly #less: (a: T, b: T) => boolean

  constructor (less: (a: T, b: T) => boolean) {
    this.#less = less
  }

  get size (): number { return this.#items.length }

  peek (): T | undefined { return this.#items[0] }

  push (item: T): void {
    const items = this.#items
    items.push(item)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.#less(items[i], items[parent])) break
      const t = items[i]; items[i] = items[parent]; items[parent] = t
      i = parent
    }
  }

  pop (): T | undefined {
    const items = this.#items
    if (items.length === 0) return undefined
    const top = items[0]
    const last = items.pop() as T
    if (items.length > 0) {
      items[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < items.length && this.#less(items[l], items[m])) m = l
        if (r < items.length && this.#less(items[r], items[m])) m = r
        if (m === i) break
        const t = items[i]; items[i] = items[m]; items[m] = t
        i = m
      }
    }
    return top
  }

  /** Removes every item for which `drop` returns true (O(n)); returns how many were removed. */
  removeWhere (drop: (item: T) => boolean): number {
    const kept = this.#items.filter((x) => !drop(x))
    const removed = this.#items.length - kept.length
    if (removed > 0) {
      this.#items.length = 0
      for (const x of kept) this.push(x)
    }
    return removed
  }
}
