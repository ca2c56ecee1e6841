-- Packed postings: a block's lookup terms grouped by their top six bits
-- into at most 64 rows, each holding its terms sorted (8 bytes apiece,
-- little-endian), instead of one row per term: sealing a block inserts 64
-- rows instead of ~830. Rows already in postings stay there and are read
-- beside these (see postings.go).
CREATE TABLE packed_postings (
	gen    INTEGER NOT NULL,
	bucket INTEGER NOT NULL,
	block  INTEGER NOT NULL,
	terms  BLOB NOT NULL,
	PRIMARY KEY (gen, bucket, block)
) WITHOUT ROWID;
