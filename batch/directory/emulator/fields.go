package emulator

import (
	"fmt"
	"strings"
)

// fieldMask is a parsed `fields` parameter, Google's partial-response
// syntax: a comma-separated list of fields, where `a/b` selects b inside a,
// `a(b,c)` selects b and c inside a, and `*` selects every field. A field
// maps to the mask for its value; a nil mask keeps the whole value. Masks
// apply through arrays to each element, so `users(primaryEmail)` keeps the
// primaryEmail of every user.
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

// apply returns the parts of v, a value decoded from JSON, that m selects.
func (m fieldMask) apply(v any) any {
	if m == nil {
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(m))
		for k, val := range v {
			sub, ok := m[k]
			if !ok {
				if sub, ok = m["*"]; !ok {
					continue
				}
			}
			out[k] = sub.apply(val)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = m.apply(e)
		}
		return out
	default:
		return v
	}
}
