package emulator

import (
	"encoding/json"
	"strings"
)

// projection says which custom schemas a user resource carries. Google
// sends none with projection=basic (the default of users.get and
// users.list), all with projection=full, and those named in
// customFieldMask with projection=custom. Writes answer with everything.
type projection struct {
	all     bool
	schemas map[string]bool
}

var fullProjection = projection{all: true}

// projection parses the projection and customFieldMask parameters.
// projection=custom without a customFieldMask, or an unknown projection,
// is refused; Google's words for those are not known, so the emulator
// names the parameter as Google's "Invalid Input" answers do.
func (c *call) projection() (projection, error) {
	switch p := c.query.Get("projection"); p {
	case "", "basic":
		return projection{}, nil
	case "full":
		return fullProjection, nil
	case "custom":
		mask := c.query.Get("customFieldMask")
		if strings.TrimSpace(mask) == "" {
			return projection{}, errInvalidInput("customFieldMask")
		}
		proj := projection{schemas: map[string]bool{}}
		for name := range strings.SplitSeq(mask, ",") {
			proj.schemas[strings.TrimSpace(name)] = true
		}
		return proj, nil
	default:
		return projection{}, errInvalidInput("projection")
	}
}

// schemasOf returns the custom schemas of raw (a customSchemas object) that
// the projection carries, or nil for none.
func (p projection) schemasOf(raw json.RawMessage) json.RawMessage {
	if p.all {
		return raw
	}
	if len(p.schemas) == 0 {
		return nil
	}
	var schemas map[string]json.RawMessage
	if err := json.Unmarshal(raw, &schemas); err != nil {
		return nil
	}
	for name := range schemas {
		if !p.schemas[name] {
			delete(schemas, name)
		}
	}
	if len(schemas) == 0 {
		return nil
	}
	b, err := json.Marshal(schemas)
	if err != nil {
		return nil
	}
	return b
}
