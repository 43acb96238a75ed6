package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// listUserFields are the User fields that hold lists. Google documents
// that users.patch "is unable to clear fields that contain repeated objects
// (addresses, phones, etc)" and that users.update clears "fields set to
// null"; GAM (GAM-team/GAM#480) and others found that patch ignores an
// empty list as well as null. So: a list sent empty or null is ignored by
// patch and clears the field with update (and insert, where there is
// nothing to clear); a list with entries replaces the whole field with
// either method, as Google's "individual items in the array can't be
// patched piecemeal" says.
var listUserFields = map[string]bool{
	"addresses": true, "emails": true, "externalIds": true, "ims": true, "keywords": true,
	"languages": true, "locations": true, "organizations": true, "phones": true,
	"posixAccounts": true, "relations": true, "sshPublicKeys": true, "websites": true,
}

// isEmptyList reports whether raw is JSON null or an empty array.
func isEmptyList(raw json.RawMessage) bool {
	v := bytes.TrimSpace(raw)
	return string(v) == "null" || len(v) >= 2 && v[0] == '[' && len(bytes.TrimSpace(v[1:len(v)-1])) == 0 && v[len(v)-1] == ']'
}

// normalizeLists rewrites the list fields of a request body as the method
// treats them: with patch an empty or null list is dropped, as if it had
// not been sent; otherwise it becomes null, which clears the field.
func normalizeLists(obj map[string]json.RawMessage, patch bool) {
	for name, raw := range obj {
		if !listUserFields[name] || !isEmptyList(raw) {
			continue
		}
		if patch {
			delete(obj, name)
		} else {
			obj[name] = json.RawMessage("null")
		}
	}
}

// entrySchema describes the entries of a list field the emulator checks:
// the members an entry may have, and the types Google accepts.
type entrySchema struct {
	strings []string        // string members
	bools   []string        // boolean members
	ints    []string        // integer members
	types   map[string]bool // values of "type"
}

func typeSet(types ...string) map[string]bool {
	m := make(map[string]bool, len(types))
	for _, t := range types {
		m[t] = true
	}
	return m
}

// checkedLists are the list fields provision manages, checked entry by
// entry as Google checks them. The types are those of the API reference
// and GAM's documentation of it.
var checkedLists = map[string]entrySchema{
	"organizations": {
		strings: []string{"name", "title", "type", "customType", "department", "symbol", "location", "description", "domain", "costCenter"},
		bools:   []string{"primary"},
		ints:    []string{"fullTimeEquivalent"},
		types:   typeSet("domain_only", "school", "unknown", "work", "custom"),
	},
	"relations": {
		strings: []string{"value", "type", "customType"},
		types: typeSet("admin_assistant", "assistant", "brother", "child", "custom", "domestic_partner",
			"dotted_line_manager", "exec_assistant", "father", "friend", "manager", "mother", "parent",
			"partner", "referred_by", "relative", "sister", "spouse"),
	},
	"phones": {
		strings: []string{"value", "type", "customType"},
		bools:   []string{"primary"},
		types: typeSet("assistant", "callback", "car", "company_main", "custom", "grand_central", "home",
			"home_fax", "isdn", "main", "mobile", "other", "other_fax", "pager", "radio", "telex",
			"tty_tdd", "work", "work_fax", "work_mobile", "work_pager"),
	},
}

// checkLists checks the managed list fields of a request body that hold
// entries: each entry an object of known members of the right JSON type,
// with a type Google knows. An unknown member is refused as Google refuses
// unknown names; an unknown type with Google's "Invalid value for: X is
// not a valid value" (seen in lithnet/googleapps-managementagent#28).
func checkLists(obj map[string]json.RawMessage) error {
	for _, name := range slices.Sorted(maps.Keys(checkedLists)) {
		raw, ok := obj[name]
		if !ok || string(bytes.TrimSpace(raw)) == "null" {
			continue
		}
		var entries []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &entries); err != nil {
			return errParse(fmt.Sprintf("Invalid value at '%s': %v", name, err))
		}
		for i, e := range entries {
			if err := checkedLists[name].check(name, i, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (sc entrySchema) check(field string, i int, entry map[string]json.RawMessage) error {
	for _, member := range slices.Sorted(maps.Keys(entry)) {
		raw := entry[member]
		var target any
		switch {
		case slices.Contains(sc.strings, member):
			target = new(string)
		case slices.Contains(sc.bools, member):
			target = new(bool)
		case slices.Contains(sc.ints, member):
			target = new(int)
		default:
			return errUnknownField(member)
		}
		if err := json.Unmarshal(raw, target); err != nil {
			return errParse(fmt.Sprintf("Invalid value at '%s[%d].%s': %v", field, i, member, err))
		}
		if t, ok := target.(*string); ok && member == "type" && !sc.types[*t] {
			return errInvalidValue(*t)
		}
	}
	return nil
}

// mergeCustomSchemas applies the customSchemas of a request to the ones a
// user has: each schema sent changes only the fields it names, a field
// sent as null is removed, a schema sent as null is removed whole, and a
// schema left without fields disappears. Google does not document this;
// it is the patch semantics its reference describes, applied one level
// down, and a guess. The emulator has no schema registry: any schema and
// field name is accepted.
func mergeCustomSchemas(have, sent json.RawMessage) (json.RawMessage, error) {
	var changes map[string]json.RawMessage
	if err := json.Unmarshal(sent, &changes); err != nil {
		return nil, errParse(fmt.Sprintf("Invalid value at 'customSchemas': %v", err))
	}
	schemas := map[string]map[string]json.RawMessage{}
	if len(have) > 0 {
		if err := json.Unmarshal(have, &schemas); err != nil {
			return nil, fmt.Errorf("read stored custom schemas: %w", err)
		}
	}
	for name, raw := range changes {
		if string(bytes.TrimSpace(raw)) == "null" {
			delete(schemas, name)
			continue
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			return nil, errParse(fmt.Sprintf("Invalid value at 'customSchemas.%s': %v", name, err))
		}
		merged := schemas[name]
		if merged == nil {
			merged = map[string]json.RawMessage{}
		}
		for f, v := range fields {
			if string(bytes.TrimSpace(v)) == "null" {
				delete(merged, f)
			} else {
				merged[f] = v
			}
		}
		if len(merged) == 0 {
			delete(schemas, name)
		} else {
			schemas[name] = merged
		}
	}
	if len(schemas) == 0 {
		return nil, nil
	}
	return json.Marshal(schemas)
}
