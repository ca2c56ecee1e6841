-- Tamper evidence. Every event is a leaf of an RFC 6962 Merkle tree, in seq
-- order; merkle holds the tree's size and frontier (the roots of its full
-- subtrees), updated in the transaction that adds the events, so the tree
-- never has to be rebuilt. checkpoints are signed notes of the tree's size
-- and root, written every so many events or so much time.
CREATE TABLE merkle (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	size     INTEGER NOT NULL,
	frontier BLOB NOT NULL
);
CREATE TABLE checkpoints (
	size INTEGER PRIMARY KEY,
	root BLOB NOT NULL,
	time INTEGER NOT NULL,
	note BLOB NOT NULL
);
-- The public key of the signer, for verifying without one given; a copy
-- kept elsewhere is what makes the signatures worth checking.
CREATE TABLE signer (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	vkey TEXT NOT NULL
);
