-- Sources are the files (or journald, stdin, syslog) events come from, with
-- the position to resume from. A source's position is updated in the same
-- transaction as the events read before it, which is what makes ingest
-- exactly-once across crashes.
CREATE TABLE sources (
	id       INTEGER PRIMARY KEY,
	name     TEXT NOT NULL UNIQUE,
	position TEXT NOT NULL DEFAULT '{}', -- JSON of tailer.Position
	updated  INTEGER NOT NULL DEFAULT 0   -- Unix ns of the last commit
);

-- One row per log line, in the order journaled. time is the event's time in
-- Unix ns (the ingest time for lines without one); kind is parser.Kind's
-- number; data holds the remaining fields in the journal's event codec.
CREATE TABLE events (
	seq      INTEGER PRIMARY KEY,
	time     INTEGER NOT NULL,
	kind     INTEGER NOT NULL,
	queue_id TEXT,
	source   INTEGER NOT NULL REFERENCES sources(id),
	data     BLOB NOT NULL
);
CREATE INDEX events_time ON events(time);
CREATE INDEX events_queue_id ON events(queue_id) WHERE queue_id IS NOT NULL;
