package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// wholeNumbers finds a fraction written where the configuration wants an
// integer: yaml.v3 decodes batch_size: 2.5 into an int as 2, without a
// word. An integral float (1e6) is a whole number and passes, as it
// decodes exactly. n is the document, t the type it decodes into, key
// the dotted key of n.
func wholeNumbers(n *yaml.Node, t reflect.Type, key string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil // decodes itself (Duration), with its own errors
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := wholeNumbers(c, t, key); err != nil {
				return err
			}
		}
	case yaml.AliasNode:
		if n.Alias != nil {
			return wholeNumbers(n.Alias, t, key)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			name, value := n.Content[i].Value, n.Content[i+1]
			var vt reflect.Type
			switch t.Kind() {
			case reflect.Struct:
				f, ok := yamlField(t, name)
				if !ok {
					continue // an unknown key: the decoder names it
				}
				vt = f.Type
			case reflect.Map:
				vt = t.Elem()
			default:
				return nil // a type error: the decoder names it
			}
			if err := wholeNumbers(value, vt, joinKey(key, name)); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return nil
		}
		for i, c := range n.Content {
			if err := wholeNumbers(c, t.Elem(), fmt.Sprintf("%s[%d]", key, i)); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if n.ShortTag() != "!!float" {
				return nil
			}
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil && f != math.Trunc(f) {
				return fmt.Errorf("%s: want a whole number, got %s (line %d)", key, n.Value, n.Line)
			}
		}
	}
	return nil
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// yamlField is the field of struct type t that the key name decodes into,
// as yaml.v3 matches them: the tag's name, or the field's name in lower
// case; inline structs' fields count as t's own.
func yamlField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "-" {
			continue
		}
		if strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if g, ok := yamlField(ft, name); ok {
					return g, true
				}
			}
			continue
		}
		if tag == "" {
			tag = strings.ToLower(f.Name)
		}
		if tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func joinKey(key, name string) string {
	if key == "" {
		return name
	}
	return key + "." + name
}
