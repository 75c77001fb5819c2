/** Defaults of the record source. */

/** Longest record (bytes) the source holds while waiting for its end; longer ones are bad rows. */
export const MAX_RECORD_BYTES = 1 << 20

/** Bytes read from the file per read call. */
export const READ_CHUNK_BYTES = 1 << 20

/** Bad rows kept as examples (with their line numbers) in a BadRowReport. */
export const BAD_ROW_EXAMPLES = 10

/** idx files: most dimensions in a header, most cells per item (2^24: a 4096 x 4096 image). */
export const IDX_MAX_DIMS = 8
export const IDX_MAX_CELLS = 1 << 24

/** idx records per batch yielded. */
export const IDX_BATCH_RECORDS = 1000
