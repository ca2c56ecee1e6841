package ship

import (
	"context"
	"encoding/hex"
	"math"
	"reflect"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/mailtrail/mailtrail/pkg/event"
	"github.com/mailtrail/mailtrail/pkg/journal"
)

// SinkOTLP is the OpenTelemetry sink's name.
const SinkOTLP = "otlp"

// OTLP ships the journal as OpenTelemetry logs over OTLP/HTTP (protobuf,
// the encoding every receiver takes; VictoriaLogs takes no other). Each
// batch is one ExportLogsServiceRequest with a ResourceLogs per service,
// whose resource attributes are instance and service (and service.name,
// for backends that key on the semantic convention); each event is a
// LogRecord whose body is the raw line and whose attributes are the
// event's fields, typed (numbers as int or double), with seq and leaf.
type OTLP struct {
	// Batch is how many events one request carries at most (0:
	// Options.BatchSize).
	Batch int
	p     *poster
	buf   []byte
	// One scratch buffer per nesting level of the message.
	rec, kv, av []byte
	res, rl     []byte
	now         func() time.Time
}

// NewOTLP makes the sink for the OTLP/HTTP logs endpoint URL, the whole of
// it (e.g. http://collector:4318/v1/logs, or VictoriaLogs'
// http://vl:9428/insert/opentelemetry/v1/logs).
func NewOTLP(rawURL string, timeout time.Duration) (*OTLP, error) {
	u, err := parseURL(SinkOTLP, rawURL)
	if err != nil {
		return nil, err
	}
	return &OTLP{p: newPoster(SinkOTLP, u, timeout), now: time.Now}, nil
}

// Name is "otlp".
func (o *OTLP) Name() string { return SinkOTLP }

// BatchSize is Batch.
func (o *OTLP) BatchSize() int { return o.Batch }

// URL is the endpoint without its password.
func (o *OTLP) URL() string { return o.p.shown }

// Send posts items as one export request. Not safe for concurrent use.
func (o *OTLP) Send(ctx context.Context, instance string, items []journal.Shipped) error {
	o.buf = o.encode(o.buf[:0], instance, items)
	_, err := o.p.post(ctx, o.p.url, "application/x-protobuf", o.buf)
	return err
}

// Field numbers of the OTLP logs messages (opentelemetry-proto, logs/v1,
// common/v1, resource/v1, collector/logs/v1).
const (
	reqResourceLogs    = 1 // ExportLogsServiceRequest.resource_logs
	rlResource         = 1 // ResourceLogs.resource
	rlScopeLogs        = 2 // ResourceLogs.scope_logs
	resAttributes      = 1 // Resource.attributes
	slScope            = 1 // ScopeLogs.scope
	slLogRecords       = 2 // ScopeLogs.log_records
	scopeName          = 1 // InstrumentationScope.name
	lrTimeUnixNano     = 1 // LogRecord.time_unix_nano, fixed64
	lrSeverityNumber   = 2
	lrSeverityText     = 3
	lrBody             = 5
	lrAttributes       = 6
	lrObservedUnixNano = 11
	kvKey              = 1 // KeyValue.key
	kvValue            = 2 // KeyValue.value
	avString           = 1 // AnyValue.string_value
	avInt              = 3 // AnyValue.int_value
	avDouble           = 4 // AnyValue.double_value
)

// encode appends the export request for items: consecutive items of one
// service share a ResourceLogs.
func (o *OTLP) encode(dst []byte, instance string, items []journal.Shipped) []byte {
	observed := uint64(o.now().UnixNano())
	for i := 0; i < len(items); {
		svc := items[i].Event.Service
		o.rl = o.rl[:0]
		o.res = o.res[:0]
		o.res = appendKV(o.res, resAttributes, "instance", instance, &o.kv, &o.av)
		o.res = appendKV(o.res, resAttributes, "service", svc, &o.kv, &o.av)
		o.res = appendKV(o.res, resAttributes, "service.name", "mailtrail", &o.kv, &o.av)
		o.rl = protowire.AppendTag(o.rl, rlResource, protowire.BytesType)
		o.rl = protowire.AppendBytes(o.rl, o.res)
		// ScopeLogs: the scope, then the records, assembled in sl.
		sl := protowire.AppendTag(nil, slScope, protowire.BytesType)
		sl = protowire.AppendBytes(sl, protowire.AppendString(protowire.AppendTag(nil, scopeName, protowire.BytesType), "mailtrail"))
		for ; i < len(items) && items[i].Event.Service == svc; i++ {
			o.rec = o.appendRecord(o.rec[:0], &items[i], observed)
			sl = protowire.AppendTag(sl, slLogRecords, protowire.BytesType)
			sl = protowire.AppendBytes(sl, o.rec)
		}
		o.rl = protowire.AppendTag(o.rl, rlScopeLogs, protowire.BytesType)
		o.rl = protowire.AppendBytes(o.rl, sl)
		dst = protowire.AppendTag(dst, reqResourceLogs, protowire.BytesType)
		dst = protowire.AppendBytes(dst, o.rl)
	}
	return dst
}

// OpenTelemetry severity numbers (logs data model).
const (
	sevInfo  = 9
	sevWarn  = 13
	sevError = 17
	sevFatal = 21
)

// severity grades an event: the level of a daemon's warning line, a
// rejection or failed login as a warning, the rest as information.
func severity(e *event.Event) (int, string) {
	switch e.Level {
	case "warning":
		return sevWarn, "WARN"
	case "error":
		return sevError, "ERROR"
	case "fatal", "panic":
		return sevFatal, "FATAL"
	}
	switch e.Kind {
	case event.KindReject, event.KindAuthFailure, event.KindBounceNotice, event.KindExpired, event.KindWarning:
		return sevWarn, "WARN"
	}
	return sevInfo, "INFO"
}

func (o *OTLP) appendRecord(b []byte, s *journal.Shipped, observed uint64) []byte {
	e := &s.Event
	b = protowire.AppendTag(b, lrTimeUnixNano, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, uint64(s.Time.UnixNano()))
	b = protowire.AppendTag(b, lrObservedUnixNano, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, observed)
	num, text := severity(e)
	b = protowire.AppendTag(b, lrSeverityNumber, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(num))
	b = protowire.AppendTag(b, lrSeverityText, protowire.BytesType)
	b = protowire.AppendString(b, text)
	body := e.Raw
	if body == "" {
		body = e.Kind.String()
	}
	o.av = protowire.AppendTag(o.av[:0], avString, protowire.BytesType)
	o.av = protowire.AppendString(o.av, body)
	b = protowire.AppendTag(b, lrBody, protowire.BytesType)
	b = protowire.AppendBytes(b, o.av)
	b = appendIntKV(b, lrAttributes, "seq", s.Seq, &o.kv, &o.av)
	b = appendKV(b, lrAttributes, "leaf", hex.EncodeToString(s.Leaf[:]), &o.kv, &o.av)
	b = appendKV(b, lrAttributes, "kind", e.Kind.String(), &o.kv, &o.av)
	if !e.Time.IsZero() {
		b = appendKV(b, lrAttributes, "time", e.Time.UTC().Format(time.RFC3339Nano), &o.kv, &o.av)
	}
	v := reflect.ValueOf(e).Elem()
	for _, f := range eventAttrs {
		fv := v.FieldByIndex(f.index)
		switch fv.Kind() {
		case reflect.String:
			if s := fv.String(); s != "" {
				b = appendKV(b, lrAttributes, f.name, s, &o.kv, &o.av)
			}
		case reflect.Int, reflect.Int64:
			if n := fv.Int(); n != 0 {
				b = appendIntKV(b, lrAttributes, f.name, n, &o.kv, &o.av)
			}
		case reflect.Float64:
			if x := fv.Float(); x != 0 {
				o.av = protowire.AppendTag(o.av[:0], avDouble, protowire.Fixed64Type)
				o.av = protowire.AppendFixed64(o.av, math.Float64bits(x))
				b = appendAV(b, lrAttributes, f.name, o.av, &o.kv)
			}
		}
	}
	return b
}

// eventAttr is an event field sent as an attribute: its JSON name (the
// public contract's; delays' parts as delays.before_qmgr, ...) and where
// it is.
type eventAttr struct {
	name  string
	index []int
}

// eventAttrs are the event's string and number fields but those sent
// otherwise (time, kind, the raw line as the body; instance and service as
// resource attributes).
var eventAttrs = func() []eventAttr {
	var out []eventAttr
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			idx := append(append([]int(nil), index...), i)
			switch {
			case f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Time{}):
				walk(f.Type, prefix+name+".", idx)
			case f.Type.Kind() == reflect.String && f.Type != reflect.TypeOf(event.Kind(0)),
				f.Type.Kind() == reflect.Int, f.Type.Kind() == reflect.Int64, f.Type.Kind() == reflect.Float64:
				switch prefix + name {
				case "instance", "service", "raw":
					continue
				}
				out = append(out, eventAttr{prefix + name, idx})
			}
		}
	}
	walk(reflect.TypeOf(event.Event{}), "", nil)
	return out
}()

func appendKV(b []byte, field protowire.Number, key, val string, kv, av *[]byte) []byte {
	*av = protowire.AppendTag((*av)[:0], avString, protowire.BytesType)
	*av = protowire.AppendString(*av, val)
	return appendAV(b, field, key, *av, kv)
}

func appendIntKV(b []byte, field protowire.Number, key string, val int64, kv, av *[]byte) []byte {
	*av = protowire.AppendTag((*av)[:0], avInt, protowire.VarintType)
	*av = protowire.AppendVarint(*av, uint64(val))
	return appendAV(b, field, key, *av, kv)
}

// appendAV appends a KeyValue of key and the encoded AnyValue av as field.
func appendAV(b []byte, field protowire.Number, key string, av []byte, kv *[]byte) []byte {
	*kv = protowire.AppendTag((*kv)[:0], kvKey, protowire.BytesType)
	*kv = protowire.AppendString(*kv, key)
	*kv = protowire.AppendTag(*kv, kvValue, protowire.BytesType)
	*kv = protowire.AppendBytes(*kv, av)
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, *kv)
}
