package journal

import (
	"encoding/binary"
	"reflect"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/pkg/event"
)

// fullEvent sets every field of an Event to a distinct non-zero value, by
// reflection, so a field added to the Event later and forgotten by the codec
// fails the round trip below.
func fullEvent(t *testing.T) event.Event {
	t.Helper()
	var e event.Event
	v := reflect.ValueOf(&e).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("v" + v.Type().Field(i).Name)
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(1000 + i))
		case reflect.Float64:
			f.SetFloat(float64(i) + 0.25)
		case reflect.Uint8: // Kind
			f.SetUint(uint64(event.KindDelivery))
		case reflect.Struct:
			switch f.Interface().(type) {
			case time.Time:
				f.Set(reflect.ValueOf(time.Date(2024, 6, 1, 2, 3, 4, 5, time.UTC)))
			case event.Delays:
				f.Set(reflect.ValueOf(event.Delays{BeforeQmgr: 0.1, InQmgr: 0.2, ConnSetup: 0.3, Transmission: 0.4}))
			default:
				t.Fatalf("field %s of type %s: teach fullEvent and the codec about it", v.Type().Field(i).Name, f.Type())
			}
		default:
			t.Fatalf("field %s of kind %s: teach fullEvent and the codec about it", v.Type().Field(i).Name, f.Kind())
		}
	}
	return e
}

func TestCodecRoundTrip(t *testing.T) {
	want := fullEvent(t)
	b := appendEvent(nil, &want)
	var got event.Event
	hasTime, err := decodeEvent(b, &got)
	if err != nil || !hasTime {
		t.Fatalf("decode: hasTime=%v err=%v", hasTime, err)
	}
	// Columns carry these three.
	got.Time, got.Kind, got.QueueID = want.Time, want.Kind, want.QueueID
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip lost fields:\n got %+v\nwant %+v", got, want)
	}
	// Canonical: encoding the decoded event gives the same bytes.
	if b2 := appendEvent(nil, &got); string(b2) != string(b) {
		t.Errorf("encoding is not canonical")
	}
}

func TestCodecNoTime(t *testing.T) {
	e := event.Event{Kind: event.KindUnknown, Raw: "garbage"}
	var got event.Event
	hasTime, err := decodeEvent(appendEvent(nil, &e), &got)
	if err != nil || hasTime || got.Raw != "garbage" {
		t.Errorf("got hasTime=%v raw=%q err=%v", hasTime, got.Raw, err)
	}
}

func TestCodecCorrupt(t *testing.T) {
	e := fullEvent(t)
	b := appendEvent(nil, &e)
	// Every truncation and every single-byte change decodes to an error or
	// to some event: never a panic.
	for i := 0; i < len(b); i++ {
		var got event.Event
		decodeEvent(b[:i], &got)
		c := append([]byte(nil), b...)
		c[i] ^= 0xff
		decodeEvent(c, &got)
	}
	if _, err := decodeEvent([]byte{200}, new(event.Event)); err == nil {
		t.Error("unknown tag decoded without error")
	}
	if _, err := decodeEvent([]byte{1, 50, 'x'}, new(event.Event)); err == nil {
		t.Error("string longer than its data decoded without error")
	}
}

// TestCodecTables checks the written-out encoder against the field tables
// the decoder uses: every field, under its tag, in tag order.
func TestCodecTables(t *testing.T) {
	full := fullEvent(t)
	var want []byte
	for _, f := range stringFields {
		s := *f.get(&full)
		want = append(want, f.tag)
		want = binary.AppendUvarint(want, uint64(len(s)))
		want = append(want, s...)
	}
	for _, f := range intFields {
		want = append(want, f.tag)
		want = binary.AppendVarint(want, int64(*f.get(&full)))
	}
	got := appendEvent(nil, &full)
	if len(got) < len(want) || string(got[:len(want)]) != string(want) {
		t.Fatalf("appendEvent disagrees with the field tables:\n got %q\nwant %q...", got, want)
	}
}
