package query

import (
	"context"
	"encoding/base64"
	"sort"
	"sync"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/journal"
)

// The instance's description is the API's.
type (
	InstanceInfo   = apiv1.InstanceInfo
	JournalInfo    = apiv1.JournalInfo
	CheckpointInfo = apiv1.CheckpointInfo
)

// Hosts remembers the syslog hosts seen in the journal, reading only the
// events journaled since its last call. A first call on a large journal
// reads its newest hostScanStart events only: hosts are for pickers, and
// a host silent for that long is rarely the one wanted.
type Hosts struct {
	mu      sync.Mutex
	lastSeq int64
	hosts   map[string]bool
}

const hostScanStart = 200000

// List returns the hosts, sorted.
func (h *Hosts) List(ctx context.Context, j *journal.Journal) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hosts == nil {
		h.hosts = map[string]bool{}
		var newest int64
		if err := j.Scan(ctx, journal.Filter{Desc: true, Limit: 1}, func(s *journal.Stored) error {
			newest = s.Seq
			return nil
		}); err != nil {
			return nil, err
		}
		h.lastSeq = max(newest-hostScanStart, 0)
	}
	err := j.Scan(ctx, journal.Filter{AfterSeq: h.lastSeq}, func(s *journal.Stored) error {
		if s.Event.Host != "" && !systemKind(s.Event.Kind) {
			h.hosts[s.Event.Host] = true
		}
		h.lastSeq = s.Seq
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(h.hosts))
	for k := range h.hosts {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// Instance describes the exporter (name and version given) and its
// journal; hosts may be nil to skip listing the hosts.
func Instance(ctx context.Context, j *journal.Journal, name, version string, hosts *Hosts) (*InstanceInfo, error) {
	info := &InstanceInfo{Instance: name, Version: version, Hosts: []string{}}
	if hosts != nil {
		var err error
		if info.Hosts, err = hosts.List(ctx, j); err != nil {
			return nil, err
		}
	}
	for _, desc := range []bool{false, true} {
		err := j.Scan(ctx, journal.Filter{Desc: desc, Limit: 1}, func(s *journal.Stored) error {
			if desc {
				info.Journal.LastTime = s.Event.Time
			} else {
				info.Journal.FirstTime = s.Event.Time
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	n, err := j.Count(ctx)
	if err != nil {
		return nil, err
	}
	info.Journal.Events = n
	info.Journal.SizeBytes = j.Size()
	cp, err := lastCheckpoint(ctx, j)
	if err != nil {
		return nil, err
	}
	info.Checkpoint = cp
	return info, nil
}

// lastCheckpoint reads the newest checkpoint, checked against the key
// stored with the journal; nil when the journal is unsigned.
func lastCheckpoint(ctx context.Context, j *journal.Journal) (*CheckpointInfo, error) {
	cp, err := j.NewestCheckpoint(ctx)
	if err != nil || cp == nil {
		return nil, err
	}
	return &CheckpointInfo{Size: cp.Size, Root: base64.StdEncoding.EncodeToString(cp.Root[:]), Time: cp.Time}, nil
}
