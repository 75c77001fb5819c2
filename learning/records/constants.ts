/** Defaults of the record source. */

/** Longest record (bytes) the source holds while waiting for its end; longer ones are bad rows. */
export const MAX_RECORD_BYTES = 1 << 20

/** Bytes read from the file per read call. */
export const READ_CHUNK_BYTES = 1 << 20

/** Bad rows kept as examples (with their line numbers) in a BadRowReport. */
export const BAD_ROW_EXAMPLES = 10
