package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// fieldMask is a parsed `fields` parameter, Google's partial-response
// syntax: a comma-separated list of fields, where `a/b` selects b inside a,
// `a(b,c)` selects b and c inside a, and `*` selects every field. A field
// maps to the mask for its value; a nil mask keeps the whole value. Masks
// apply through arrays to each element, so `users(primaryEmail)` keeps the
// primaryEmail of every user. Fields a response does not have select
// nothing.
type fieldMask map[string]fieldMask

// parseFieldMask parses a `fields` parameter. The empty string is a nil
// mask, which keeps everything.
func parseFieldMask(spec string) (fieldMask, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	p := maskParser{s: spec}
	m, err := p.list()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.s) {
		return nil, fmt.Errorf("unexpected %q at offset %d", p.s[p.i], p.i)
	}
	return m, nil
}

type maskParser struct {
	s string
	i int
}

// list parses field (',' field)*.
func (p *maskParser) list() (fieldMask, error) {
	m := fieldMask{}
	for {
		if err := p.field(m); err != nil {
			return nil, err
		}
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		return m, nil
	}
}

// field parses name ('/' name)* ['(' list ')'] and merges it into m.
func (p *maskParser) field(m fieldMask) error {
	var path []string
	for {
		name := p.name()
		if name == "" {
			return fmt.Errorf("missing field name at offset %d", p.i)
		}
		path = append(path, name)
		if p.i < len(p.s) && p.s[p.i] == '/' {
			p.i++
			continue
		}
		break
	}
	var sub fieldMask
	if p.i < len(p.s) && p.s[p.i] == '(' {
		p.i++
		var err error
		if sub, err = p.list(); err != nil {
			return err
		}
		if p.i == len(p.s) || p.s[p.i] != ')' {
			return fmt.Errorf("missing ')' at offset %d", p.i)
		}
		p.i++
	}
	for j := len(path) - 1; j > 0; j-- {
		sub = fieldMask{path[j]: sub}
	}
	m.merge(path[0], sub)
	return nil
}

func (p *maskParser) name() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == ',' || c == '/' || c == '(' || c == ')' {
			break
		}
		p.i++
	}
	return strings.TrimSpace(p.s[start:p.i])
}

// merge adds sub under name, widening rather than narrowing: a field asked
// for whole stays whole.
func (m fieldMask) merge(name string, sub fieldMask) {
	old, seen := m[name]
	switch {
	case !seen:
		m[name] = sub
	case old == nil || sub == nil:
		m[name] = nil
	default:
		for k, v := range sub {
			old.merge(k, v)
		}
	}
}

// apply returns the parts of the JSON value raw that m selects. It decodes
// only as deep as the mask goes: what is kept whole is copied as is.
func (m fieldMask) apply(raw json.RawMessage) (json.RawMessage, error) {
	if m == nil {
		return raw, nil
	}
	switch v := bytes.TrimLeft(raw, " \t\r\n"); {
	case len(v) > 0 && v[0] == '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(v, &obj); err != nil {
			return nil, err
		}
		out := make(map[string]json.RawMessage, len(m))
		for k, val := range obj {
			if sub, ok := m.sub(k); ok {
				var err error
				if out[k], err = sub.apply(val); err != nil {
					return nil, err
				}
			}
		}
		return json.Marshal(out)
	case len(v) > 0 && v[0] == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			return nil, err
		}
		for i := range list {
			var err error
			if list[i], err = m.apply(list[i]); err != nil {
				return nil, err
			}
		}
		return json.Marshal(list)
	default:
		return raw, nil
	}
}

// sub returns the mask for the field called name, and whether m selects
// it at all.
func (m fieldMask) sub(name string) (fieldMask, bool) {
	sub, ok := m[name]
	if !ok {
		sub, ok = m["*"]
	}
	return sub, ok
}

var marshalerType = reflect.TypeFor[json.Marshaler]()

// project returns the parts of v that m selects, as values that
// encoding/json marshals as it would v's. It walks structs by their json
// tags without marshaling what the mask leaves out, which matters for
// pages of 500 users; a value with its own MarshalJSON is marshaled and
// filtered with apply.
func (m fieldMask) project(v reflect.Value) (any, error) {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil, nil
		}
		v = v.Elem()
	}
	if m == nil {
		return v.Interface(), nil
	}
	if v.Type().Implements(marshalerType) {
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return nil, err
		}
		return m.apply(b)
	}
	switch v.Kind() {
	case reflect.Struct:
		out := make(map[string]any, len(m))
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			tag, hasTag := f.Tag.Lookup("json")
			name, opts, _ := strings.Cut(tag, ",")
			if !f.IsExported() || !hasTag || name == "-" {
				continue
			}
			sub, ok := m.sub(name)
			fv := v.Field(i)
			if !ok || strings.Contains(opts, "omitempty") && isEmptyValue(fv) {
				continue
			}
			var err error
			if out[name], err = sub.project(fv); err != nil {
				return nil, err
			}
		}
		return out, nil
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			var err error
			if out[i], err = m.project(v.Index(i)); err != nil {
				return nil, err
			}
		}
		return out, nil
	case reflect.Map:
		out := make(map[string]any, len(m))
		for it := v.MapRange(); it.Next(); {
			if sub, ok := m.sub(it.Key().String()); ok {
				var err error
				if out[it.Key().String()], err = sub.project(it.Value()); err != nil {
					return nil, err
				}
			}
		}
		return out, nil
	default:
		return v.Interface(), nil
	}
}

// isEmptyValue reports whether encoding/json's omitempty leaves v out.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Struct:
		return false
	default:
		return v.IsZero()
	}
}
