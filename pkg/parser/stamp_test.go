package parser

import (
	"fmt"
	"testing"
	"time"
)

func TestMonthOf(t *testing.T) {
	for m := time.January; m <= time.December; m++ {
		a := m.String()[:3]
		if got := monthOf(a[0], a[1], a[2]); got != int(m) {
			t.Errorf("monthOf(%q) = %d, want %d", a, got, m)
		}
	}
	for _, a := range []string{"jan", "JAN", "Jum", "Xyz", "Dez", "Mai", "   "} {
		if got := monthOf(a[0], a[1], a[2]); got != 0 {
			t.Errorf("monthOf(%q) = %d, want 0", a, got)
		}
	}
}

// stampYearByDurations is the year choice as it was written with
// time.Duration: parseStamp must pick the same year to the nanosecond.
func stampYearByDurations(mon time.Month, day, h, m, s int, ref time.Time, loc *time.Location) time.Time {
	year := ref.Year()
	t := time.Date(year, mon, day, h, m, s, 0, loc)
	const slack = 7 * 24 * time.Hour
	switch {
	case t.Sub(ref) > slack:
		t = time.Date(year-1, mon, day, h, m, s, 0, loc)
	case ref.Sub(t) > 365*24*time.Hour-slack:
		t = time.Date(year+1, mon, day, h, m, s, 0, loc)
	}
	return t.UTC()
}

// TestStampYearEdges: at and around the edges of the week's slack, with
// references that carry nanoseconds and a monotonic reading, in UTC and in
// a zone with an offset.
func TestStampYearEdges(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	stamps := []struct {
		mon          time.Month
		day, h, m, s int
	}{{time.January, 1, 0, 0, 0}, {time.December, 31, 23, 59, 59}, {time.January, 8, 0, 0, 0}, {time.December, 24, 12, 30, 1}, {time.June, 1, 0, 0, 0}}
	mono := time.Now() // carries a monotonic reading
	for _, loc := range []*time.Location{time.UTC, berlin} {
		for _, st := range stamps {
			line := fmt.Sprintf("%s %2d %02d:%02d:%02d host", st.mon.String()[:3], st.day, st.h, st.m, st.s)
			base := time.Date(2024, st.mon, st.day, st.h, st.m, st.s, 0, loc)
			for _, edge := range []time.Duration{-7 * 24 * time.Hour, 358 * 24 * time.Hour, -358 * 24 * time.Hour, 7 * 24 * time.Hour, 0} {
				for _, off := range []time.Duration{-time.Second, -1, 0, 1, time.Second / 2, time.Second, 1500 * time.Millisecond} {
					ref := base.Add(edge + off)
					ref = mono.Add(ref.Sub(mono)) // same instant, monotonic reading kept
					got, n, ok := parseStamp(line, ref, loc)
					want := stampYearByDurations(st.mon, st.day, st.h, st.m, st.s, ref, loc)
					if !ok || n != 15 || !got.Equal(want) {
						t.Errorf("%q, ref %v (%v): %v, %d, %v; want %v", line, ref, loc, got, n, ok, want)
					}
				}
			}
		}
	}
}
