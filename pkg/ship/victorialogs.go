package ship

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/journal"
)

// SinkVictoriaLogs is the VictoriaLogs sink's name.
const SinkVictoriaLogs = "victorialogs"

// DefaultTimeout bounds one request to a store.
const DefaultTimeout = 10 * time.Second

// VictoriaLogs ships rows (apiv1.FleetRow) to VictoriaLogs' JSON lines
// endpoint. Its URL is the base of the store (an insert node in a
// cluster), e.g. http://vl:9428; credentials in it are sent as basic auth.
type VictoriaLogs struct {
	// Batch is how many events one request carries at most (0:
	// Options.BatchSize).
	Batch int
	// MaxAge, when set, is Options.MaxAge for this sink: the store's
	// -retentionPeriod.
	MaxAge time.Duration
	p      *poster
	insert string
	base   *url.URL
	buf    bytes.Buffer
	enc    *json.Encoder
}

// NewVictoriaLogs makes the sink; timeout bounds each request (0: the
// default).
func NewVictoriaLogs(rawURL string, timeout time.Duration) (*VictoriaLogs, error) {
	u, err := parseURL(SinkVictoriaLogs, rawURL)
	if err != nil {
		return nil, err
	}
	u.Path = strings.TrimRight(u.Path, "/")
	ins := *u
	ins.Path += "/insert/jsonline"
	q := url.Values{}
	q.Set("_stream_fields", strings.Join(apiv1.FleetStreamFields, ","))
	q.Set("_time_field", "_time")
	q.Set("_msg_field", "_msg")
	ins.RawQuery = q.Encode()
	v := &VictoriaLogs{p: newPoster(SinkVictoriaLogs, u, timeout), insert: ins.String(), base: u}
	v.enc = json.NewEncoder(&v.buf)
	v.enc.SetEscapeHTML(false)
	return v, nil
}

// Name is "victorialogs".
func (v *VictoriaLogs) Name() string { return SinkVictoriaLogs }

// BatchSize is Batch.
func (v *VictoriaLogs) BatchSize() int { return v.Batch }

// MaxAgeLimit is MaxAge.
func (v *VictoriaLogs) MaxAgeLimit() time.Duration { return v.MaxAge }

// URL is the store's base URL without its password.
func (v *VictoriaLogs) URL() string { return v.p.shown }

// Send posts items as JSON lines. A Send is not safe for concurrent use:
// the encoding buffer is reused.
func (v *VictoriaLogs) Send(ctx context.Context, instance string, items []journal.Shipped) error {
	v.buf.Reset()
	for i := range items {
		row := FleetRow(instance, &items[i])
		if err := v.enc.Encode(&row); err != nil {
			return &Error{Sink: SinkVictoriaLogs, URL: v.p.shown, Reason: ReasonEncode, Err: err}
		}
	}
	_, err := v.p.post(ctx, v.insert, "application/stream+json", v.buf.Bytes())
	return err
}

// FleetRow is the store's row for a journaled event: the event's fields,
// seq and leaf, _time and _msg, and instance set to this exporter's
// instance on every row (the deduplication key is (instance, seq)).
func FleetRow(instance string, s *journal.Shipped) apiv1.FleetRow {
	row := apiv1.FleetRow{StoreTime: s.Time.UTC(), Msg: s.Event.Raw, Seq: s.Seq, Leaf: hex.EncodeToString(s.Leaf[:]), Event: s.Event}
	row.Instance = instance
	if row.Msg == "" {
		row.Msg = s.Event.Kind.String()
	}
	return row
}
