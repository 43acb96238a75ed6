package batch

import (
	"strings"
	"testing"

	"github.com/provisionhq/provision/naming"
)

func TestTemplate(t *testing.T) {
	fields := naming.Fields{"grade": "5", "Year": "2031", "house": "Red Lions", "empty": " "}
	tests := []struct {
		name, tmpl string
		transform  func(string) string
		want       string
		wantErr    string
	}{
		{"literal", "/Students", nil, "/Students", ""},
		{"field", "/Students/Grade [grade]", nil, "/Students/Grade 5", ""},
		{"case-insensitive field", "class-of-[YEAR]", nil, "class-of-2031", ""},
		{"normalised for an address", "house-[house]", naming.Normalize, "house-redlions", ""},
		{"missing field", "/Students/[homeroom]", nil, "", "needs the field homeroom"},
		{"blank field", "/x/[empty]", nil, "", "needs the field empty"},
		{"unclosed", "/x/[grade", nil, "", "not closed"},
		{"stray bracket", "/x]", nil, "", "without a matching"},
		{"bad field name", "/x/[grade level]", nil, "", "not a field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := parseTemplate(tt.tmpl)
			var got string
			if err == nil {
				got, err = tpl.expand(fields, tt.transform)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("template %q = %q, %v; want an error mentioning %q", tt.tmpl, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("template %q = %q, %v; want %q", tt.tmpl, got, err, tt.want)
			}
		})
	}
}
