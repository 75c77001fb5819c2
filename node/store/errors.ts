/** The store's named errors (tests assert on `.name`). */

export class StoreVersionError extends Error {
  static override name = 'StoreVersionError'
  override name = 'StoreVersionError'
}

export class StoreClosedError extends Error {
  static override name = 'StoreClosedError'
  override name = 'StoreClosedError'
}

export class StoreOpenError extends Error {
  static override name = 'StoreOpenError'
  override name = 'StoreOpenError'
}

/** The database is damaged (LevelDB reports corruption, or files it needs are missing); nothing was changed. */
export class StoreDamagedError extends Error {
  static override name = 'StoreDamagedError'
  override name = 'StoreDamagedError'
}

/** A write to a store opened for reading. */
export class StoreReadOnlyError extends Error {
  static override name = 'StoreReadOnlyError'
  override name = 'StoreReadOnlyError'
}

export const DAMAGED_HINT = 'stop the daemon, back up the datadir, then run `murmur db repair --datadir DIR` (docs/operations.md, "A damaged datadir")'

/** A datadir or its database that is not there: named, and nothing was created. */
export class DatadirMissingError extends Error {
  static override name = 'DatadirMissingError'
  override name = 'DatadirMissingError'
}
