package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// The numeric flags' values. kingpin's own report a bad value without
// naming the flag ("strconv.ParseFloat: parsing "abc": invalid syntax"),
// and read an integer through a float, so --journal.batch-size=2.7 was
// taken as 2 and 1e30 as whatever the conversion gave.

// intVar makes fc an integer flag stored in p.
func intVar(fc *kingpin.FlagClause, p *int) {
	fc.SetValue(&intValue{name: fc.Model().Name, v: p})
}

// durationVar makes fc a duration flag (90s, 15m, 1h) stored in p.
func durationVar(fc *kingpin.FlagClause, p *time.Duration) {
	fc.SetValue(&durationValue{name: fc.Model().Name, v: p})
}

// float64Var makes fc a finite number flag stored in p.
func float64Var(fc *kingpin.FlagClause, p *float64) {
	fc.SetValue(&float64Value{name: fc.Model().Name, v: p})
}

type intValue struct {
	name string
	v    *int
}

func (f *intValue) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, strconv.IntSize)
	if err != nil {
		return badFlagValue(f.name, s, "a whole number", err)
	}
	*f.v = int(n)
	return nil
}

func (f *intValue) String() string { return strconv.Itoa(*f.v) }

type durationValue struct {
	name string
	v    *time.Duration
}

func (f *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		// time.ParseDuration says the same of an overflow as of garbage.
		return fmt.Errorf("--%s=%q: not a duration (a number and a unit, e.g. 90s, 15m, 1h; at most 2562047h)", f.name, s)
	}
	*f.v = d
	return nil
}

func (f *durationValue) String() string { return f.v.String() }

type float64Value struct {
	name string
	v    *float64
}

func (f *float64Value) Set(s string) error {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return badFlagValue(f.name, s, "a finite number", err)
	}
	*f.v = x
	return nil
}

func (f *float64Value) String() string { return strconv.FormatFloat(*f.v, 'g', -1, 64) }

// badFlagValue is the error for value s of flag name, which is not want.
func badFlagValue(name, s, want string, err error) error {
	if errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("--%s=%q: out of range", name, s)
	}
	return fmt.Errorf("--%s=%q: not %s", name, s, want)
}
