/** The coordinator's routing of messages between worlds: which arrays and notes may be transferred where. */
import type { WireMessage } from '../world.js'

/**
 * Messages of one envelope share one byte array (worlds send one copy per envelope), and may share one note (the
 * sender's environment's, `WorldNotes`). Each world's inbound list is TRANSFERRED to it, so an array or a note
 * may travel in one list only: a message whose array (note) is also used by another world's list, or by a
 * message held back for a later window, gets a copy (one per array or note and world).
 */
export function separateTransfers (inbound: WireMessage[][], held: WireMessage[][]): void {
  const owner = new Map<ArrayBufferLike, number>()
  const noteOwner = new Map<unknown, number>()
  for (const list of held) {
    for (const m of list) {
      owner.set(m.bytes.buffer, -1)
      if (m.note !== undefined) noteOwner.set(m.note, -1)
    }
  }
  inbound.forEach((list, w) => {
    const copies = new Map<Uint8Array, Uint8Array>()
    const noteCopies = new Map<unknown, unknown>()
    for (const m of list) {
      if (m.note !== undefined) {
        const o = noteOwner.get(m.note)
        if (o === undefined) noteOwner.set(m.note, w)
        else if (o !== w) {
          let copy = noteCopies.get(m.note)
          if (copy === undefined) { copy = structuredClone(m.note); noteCopies.set(m.note, copy); noteOwner.set(copy, w) }
          m.note = copy
        }
      }
      const o = owner.get(m.bytes.buffer)
      if (o === undefined) { owner.set(m.bytes.buffer, w); continue }
      if (o === w) continue
      let copy = copies.get(m.bytes)
      if (copy == null) { copy = m.bytes.slice(); copies.set(m.bytes, copy); owner.set(copy.buffer, w) }
      m.bytes = copy
    }
  })
}
