package emulator

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestParseFieldMask(t *testing.T) {
	tests := []struct {
		spec    string
		want    string
		wantErr bool
	}{
		{"", "map[]", false},
		{"primaryEmail,id", "map[id:map[] primaryEmail:map[]]", false},
		{"nextPageToken,users(primaryEmail,aliases)", "map[nextPageToken:map[] users:map[aliases:map[] primaryEmail:map[]]]", false},
		{"name/givenName,name/familyName", "map[name:map[familyName:map[] givenName:map[]]]", false},
		{"users(name(givenName)),users/id", "map[users:map[id:map[] name:map[givenName:map[]]]]", false},
		{"name,name/givenName", "map[name:map[]]", false},
		{" kind , etag ", "map[etag:map[] kind:map[]]", false},
		{"users(", "", true},
		{"users(id", "", true},
		{"users)", "", true},
		{"a,,b", "", true},
		{"a/", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := parseFieldMask(tt.spec)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseFieldMask(%q) = %v, want error %v", tt.spec, err, tt.wantErr)
			}
			if err == nil && fmt.Sprint(map[string]fieldMask(got)) != tt.want {
				t.Errorf("parseFieldMask(%q) = %v, want %s", tt.spec, got, tt.want)
			}
		})
	}
}

func TestFieldMask_apply(t *testing.T) {
	doc := json.RawMessage(`{"kind":"k","users":[{"id":"1","name":{"givenName":"Ada","familyName":"L"},"aliases":["a"]},{"id":"2","name":{"givenName":"Grace"}}],"nextPageToken":"t"}`)
	tests := []struct{ spec, want string }{
		{"kind", "map[kind:k]"},
		{"users/id,nextPageToken", "map[nextPageToken:t users:[map[id:1] map[id:2]]]"},
		{"users(name/givenName,aliases)", "map[users:[map[aliases:[a] name:map[givenName:Ada]] map[name:map[givenName:Grace]]]]"},
		{"users(*)", "map[users:[map[aliases:[a] id:1 name:map[familyName:L givenName:Ada]] map[id:2 name:map[givenName:Grace]]]]"},
		{"kind/sub", "map[kind:k]"},
		{"missing", "map[]"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			m, err := parseFieldMask(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			b, err := m.apply(doc)
			if err != nil {
				t.Fatalf("apply(%q) = %v", tt.spec, err)
			}
			var got any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("apply(%q) = %s: %v", tt.spec, b, err)
			}
			if fmt.Sprint(got) != tt.want {
				t.Errorf("apply(%q) = %s, want %s", tt.spec, got, tt.want)
			}
		})
	}
}
