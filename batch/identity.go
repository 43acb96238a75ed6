package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
)

// rowHashType is the customType of the external ID written for rows of a
// file without an ID column: the hash of the row's content.
const rowHashType = "provision-row"

// identity is who a row is: the key the journal knows it by and the
// external ID written to its account.
type identity struct {
	key        string               // journal key: "id:1001" or "row:3f…"
	externalID directory.ExternalID // written with the account
}

// identityOf returns the identity of a valid record. With an ID column it
// is the ID, typed as the config says; without one it is a hash of the
// row's normalised content, so that the same row in a rerun is the same
// person, and a changed row is a new one.
func identityOf(rec input.Record, c Config) identity {
	if rec.ID != "" {
		return identity{
			key:        "id:" + rec.ID,
			externalID: directory.ExternalID{Type: c.Identity.Type, CustomType: c.Identity.CustomType, Value: rec.ID},
		}
	}
	h := sha256.New()
	field := func(v string) {
		h.Write([]byte(strings.ToLower(strings.TrimSpace(v))))
		h.Write([]byte{0})
	}
	field(rec.FirstName)
	field(rec.LastName)
	field(rec.Email)
	field(rec.OrgUnit)
	for _, g := range slices.Sorted(slices.Values(rec.Groups)) {
		field(g)
	}
	keys := make([]string, 0, len(rec.Custom))
	for k := range rec.Custom {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		field(k)
		field(rec.Custom[k])
	}
	sum := hex.EncodeToString(h.Sum(nil))[:32]
	return identity{
		key:        "row:" + sum,
		externalID: directory.ExternalID{Type: "custom", CustomType: rowHashType, Value: sum},
	}
}

// idKey is how an external ID is stored in the journal's snapshot.
func idKey(id directory.ExternalID) string {
	if id.Type == "custom" {
		return "custom:" + id.CustomType + ":" + id.Value
	}
	return id.Type + ":" + id.Value
}

// exportLine returns the report line of a journal row, as `provision
// report` exports it: without a password, the ID as the file gave it.
func exportLine(r journal.Row) report.Line {
	return report.Line{
		Line: r.Line, ID: externalValue(r.ExternalID), FirstName: r.FirstName, LastName: r.LastName,
		Email: r.Email, OrgUnit: r.OrgUnit, Groups: r.Groups, Status: r.Status, Error: r.Error,
	}
}

// ExportRun calls fn with the report line (exportLine) of every row of a
// run, in line order: the rows it journaled, and the rows it skipped.
func ExportRun(ctx context.Context, j *journal.Journal, run int64, fn func(report.Line) error) error {
	return j.RunRows(ctx, run, func(r journal.Row, skipped bool) error {
		if skipped {
			r.Status, r.Error = report.StatusSkipped, skippedReason(r)
		}
		return fn(exportLine(r))
	})
}

// skippedReason is what the report says of a row skipped as done before.
func skippedReason(r journal.Row) string {
	return "done in an earlier run as " + r.Email
}

// externalValue returns the ID in a row's external ID key
// ("organization:1001" → "1001"), or "" for a row known by its content.
func externalValue(key string) string {
	typ, rest, ok := strings.Cut(key, ":")
	if !ok {
		return ""
	}
	if typ == "custom" {
		customType, value, _ := strings.Cut(rest, ":")
		if customType == rowHashType {
			return ""
		}
		return value
	}
	return rest
}
