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

// TestStampCachedMinutes: a log's stamps second by second through the
// hours where zones change their offset (an hour, half an hour, at New
// Year), with the reference a little behind as when tailing (in a third
// zone), and with zones alternating: the year and minute kept from the
// line before give the times time.Date does.
func TestStampCachedMinutes(t *testing.T) {
	var locs []*time.Location
	for _, name := range []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Apia"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Skip("no time zone data:", err)
		}
		locs = append(locs, loc)
	}
	locs = append(locs, time.UTC)
	starts := []time.Time{
		time.Date(2024, 3, 31, 0, 58, 0, 0, time.UTC),  // Berlin springs forward
		time.Date(2024, 10, 27, 0, 58, 0, 0, time.UTC), // Berlin falls back
		time.Date(2024, 3, 10, 6, 58, 0, 0, time.UTC),  // New York
		time.Date(2024, 11, 3, 5, 58, 0, 0, time.UTC),
		time.Date(2024, 4, 6, 14, 28, 0, 0, time.UTC), // Lord Howe, half an hour
		time.Date(2024, 10, 5, 15, 28, 0, 0, time.UTC),
		time.Date(2011, 12, 29, 9, 58, 0, 0, time.UTC), // Apia skips a day
		time.Date(2024, 12, 31, 22, 58, 0, 0, time.UTC),
	}
	for _, start := range starts {
		for i := 0; i < 3*3600; i += 7 {
			at := start.Add(time.Duration(i) * time.Second).In(locs[(i/7)%len(locs)])
			line := fmt.Sprintf("%s %2d %02d:%02d:%02d host", at.Month().String()[:3], at.Day(), at.Hour(), at.Minute(), at.Second())
			ref := at.Add(1500 * time.Millisecond).In(locs[(i/7+2)%len(locs)])
			// The same line read in its zone, then in another one.
			for _, loc := range []*time.Location{at.Location(), locs[(i/7+1)%len(locs)]} {
				got, _, ok := parseStamp(line, ref, loc)
				want := stampYearByDurations(at.Month(), at.Day(), at.Hour(), at.Minute(), at.Second(), ref, loc)
				if !ok || !got.Equal(want) {
					t.Fatalf("%q in %v, ref %v: %v; time.Date gives %v", line, loc, ref, got, want)
				}
			}
		}
	}
}
