package apiv1

import (
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// The files of an evidence bundle (docs/evidence.md): a zip that `exporter
// report --evidence` and GET /api/v1/evidence write and `exporter
// verify-evidence` checks.
const (
	EvidenceFormat     = "mailtrail-evidence/1"
	EvidenceManifest   = "manifest.json"
	EvidenceQueryFile  = "query.json"
	EvidenceEventsFile = "events.jsonl"
	EvidenceProofsFile = "proofs.jsonl"
	EvidenceNote       = "checkpoint.note"
	EvidenceKey        = "key.pub"
	// The report, as CSV, JSON and PDF: report.csv, report.json, report.pdf.
	EvidenceReportPrefix = "report."
)

// EvidenceReportFormats are the report's renderings a bundle holds.
var EvidenceReportFormats = []string{"csv", "json", "pdf"}

// Manifest is manifest.json: every other file of the bundle with its size
// and SHA-256 (lower-case hex), in the order they are stored.
type Manifest struct {
	Format string         `json:"format"`
	Files  []ManifestFile `json:"files"`
}

// ManifestFile is one file of a bundle.
type ManifestFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// EvidenceQuery is query.json: which report was asked of which journal,
// enough to build it again from the bundle's events.
type EvidenceQuery struct {
	Report    string    `json:"report"`
	Since     time.Time `json:"since,omitzero"`
	Until     time.Time `json:"until,omitzero"`
	User      string    `json:"user,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	QueueID   string    `json:"queue_id,omitempty"`
	MessageID string    `json:"message_id,omitempty"`
	Top       int       `json:"top"`
	// Params are the report's header lines as given (the journal, the
	// range, the filters), before the report adds its own counts.
	Params    []EvidenceParam `json:"params"`
	Generated time.Time       `json:"generated"`
	Version   string          `json:"version"`
	// Checkpoint repeats what checkpoint.note signs, for readers.
	Checkpoint EvidenceCheckpoint `json:"checkpoint"`
}

// EvidenceParam is a header line of a report.
type EvidenceParam struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// EvidenceCheckpoint names the signed checkpoint the events are proved
// against.
type EvidenceCheckpoint struct {
	Origin string `json:"origin"`
	Size   uint64 `json:"size"`
	Root   string `json:"root"` // hex
}

// EvidenceEvent is one line of events.jsonl: an event (the API's event
// JSON) with its sequence number, its source's name and its Merkle leaf
// (hex). Event is nil for an event retention removed (Removed), of which
// only the leaf is left.
type EvidenceEvent struct {
	Seq    int64  `json:"seq"`
	Leaf   string `json:"leaf"`
	Source string `json:"source,omitempty"`
	// LeafTime is the time column the leaf covers (Unix nanoseconds), given
	// only for an event without a time of its own: it is when it was
	// journaled.
	LeafTime int64 `json:"leaf_time,omitempty"`
	// ErasedBy is the erasure record (forget or retention, an event of
	// this bundle) that names this event: its fields were rewritten, or it
	// was removed, and its leaf is the one kept from before.
	ErasedBy int64 `json:"erased_by,omitempty"`
	Removed  bool  `json:"removed,omitempty"`
	// Authority marks an erasure record carried only to authorise
	// another event's kept leaf: it is not one of the report's events.
	Authority bool `json:"authority,omitempty"`
	*event.Event
}

// EvidenceProof is one line of proofs.jsonl: the RFC 6962 audit path of
// event Seq (leaf index Seq-1) in the checkpoint's tree, innermost first.
type EvidenceProof struct {
	Seq   int64    `json:"seq"`
	Proof []string `json:"proof"`
}

// PathEvidence is GET /api/v1/evidence: a report's evidence bundle (a zip,
// application/zip), for auditor and admin tokens not scoped to tenants.
// It is not in Endpoints, whose answers are JSON.
const PathEvidence = "evidence"

// EvidenceParams are the parameters of PathEvidence: report (summary,
// deliveries, logins, trace; required), since and until (the last 24 h by
// default; a trace is not limited unless given), user, domain, queue_id,
// message_id and top, as `exporter report` takes them.
var EvidenceParams = []string{"report", "since", "until", "user", "domain", "queue_id", "message_id", "top"}
