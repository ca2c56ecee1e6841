-- Compact storage. New events land in `events` (the hot table, no indexes
-- but its primary key: it holds at most a few thousand rows) and are sealed,
-- a block at a time, into zstd-compressed blocks. A block's metadata lives in
-- `blocks`, apart from its bytes in `block_data`, so that planning a query
-- scans a few bytes per block, never the compressed data.
CREATE TABLE blocks (
	first_seq INTEGER PRIMARY KEY,
	last_seq  INTEGER NOT NULL,
	min_time  INTEGER NOT NULL,
	max_time  INTEGER NOT NULL,
	kinds     INTEGER NOT NULL, -- bit k set: the block holds an event of parser.Kind k
	events    INTEGER NOT NULL, -- live events (entries that are not tombstones)
	sum       INTEGER NOT NULL  -- CRC-32C of block_data.data
);
CREATE TABLE block_data (
	first_seq INTEGER PRIMARY KEY,
	data      BLOB NOT NULL
);
-- Postings: 64-bit hashes of (field, value) of the lookup fields, to the
-- blocks holding them. gen (first_seq >> 15) leads the key so that sealing
-- inserts near the end of the tree instead of at random places; a lookup
-- seeks once per generation.
CREATE TABLE postings (
	gen   INTEGER NOT NULL,
	term  INTEGER NOT NULL,
	block INTEGER NOT NULL,
	PRIMARY KEY (gen, term, block)
) WITHOUT ROWID;
-- Where the retained journal starts: the events before seq size+1 were
-- removed by retention, and frontier is the Merkle tree over them, so the
-- tree over the rest can still be recomputed and checked.
CREATE TABLE base (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	size     INTEGER NOT NULL,
	frontier BLOB NOT NULL
);
-- A hot event erased before sealing keeps its leaf hash here (data empty).
ALTER TABLE events ADD COLUMN leaf BLOB;
DROP INDEX events_time;
DROP INDEX events_queue_id;
-- For each block folded into the base: the base's frontier before it, so
-- that `exporter restore` can put the block back (restoring newest first)
-- and check its leaves against the base.
CREATE TABLE folded (
	first_seq INTEGER PRIMARY KEY,
	last_seq  INTEGER NOT NULL,
	frontier  BLOB NOT NULL
);
