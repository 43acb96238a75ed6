package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzServer returns a Server holding a little of everything: users (one
// with stored fields and one with aliases), org units, groups with aliases
// and members. It builds it through the API, as a client would.
func fuzzServer(t testing.TB) *Server {
	t.Helper()
	s, err := New(Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ method, path, body string }{
		{"POST", "customer/my_customer/orgunits", `{"name":"Students","parentOrgUnitPath":"/"}`},
		{"POST", "customer/my_customer/orgunits", `{"name":"Grade 7","parentOrgUnitPath":"/Students","description":"seventh"}`},
		{"POST", "users", `{"primaryEmail":"ada@example.com","name":{"givenName":"Ada","familyName":"Lovelace"},"password":"correct horse","externalIds":[{"value":"S-1","type":"organization"}],"orgUnitPath":"/Students/Grade 7"}`},
		{"POST", "users", `{"primaryEmail":"zoe@example.com","name":{"givenName":"Zoë","familyName":"O'Brien","displayName":"Zo"},"password":"correct horse","externalIds":[{"value":"ſ-2","type":"custom","customType":"x"}],"phones":[{"value":"1","type":"work"}],"organizations":[{"title":"Dr"}]}`},
		{"POST", "users", `{"primaryEmail":"ismail@example.com","name":{"givenName":"İsmail","familyName":"K"},"password":"correct horse","externalIds":[{"value":"\u212a3"}],"suspended":true}`},
		{"POST", "users/ada@example.com/aliases", `{"alias":"countess@example.com"}`},
		{"POST", "groups", `{"email":"math@example.com","name":"Math","description":"numbers"}`},
		{"POST", "groups/math@example.com/aliases", `{"alias":"maths@example.com"}`},
		{"POST", "groups/math@example.com/members", `{"email":"ada@example.com","role":"OWNER"}`},
		{"POST", "groups/math@example.com/members", `{"email":"zoe@example.com"}`},
		{"POST", "groups/math@example.com/members", `{"email":"outside@other.org"}`},
	} {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(r.method, apiPrefix+r.path, strings.NewReader(r.body)))
		if w.Code != http.StatusOK {
			t.Fatalf("%s %s = %d %s", r.method, r.path, w.Code, w.Body)
		}
	}
	return s
}

// fuzzGets are reads whose answers FuzzFieldMask masks.
var fuzzGets = []string{
	"users?customer=my_customer", "users/ada@example.com", "users/zoe@example.com",
	"users/ada@example.com/aliases", "groups?customer=my_customer", "groups/math@example.com",
	"groups/math@example.com/aliases", "groups/math@example.com/members",
	"groups/math@example.com/members/ada@example.com", "groups/math@example.com/hasMember/zoe@example.com",
	"customer/my_customer/orgunits?type=all", "customer/my_customer/orgunits/Students/Grade%207",
}

// FuzzFieldMask parses arbitrary `fields` parameters. parseFieldMask must
// not panic. A mask it accepts is applied to real answers of every read
// method two ways, which must agree: project, which walks the Go values
// (what the server does), and apply, which filters their JSON; and
// applying it twice must give what applying it once gives.
func FuzzFieldMask(f *testing.F) {
	for _, s := range []string{
		"", "kind", "nextPageToken,users(primaryEmail,aliases,nonEditableAliases,externalIds)",
		"users/name/givenName", "users(*)", "*", "name(givenName,familyName),emails/address",
		"phones,organizations/title", "members(email,role),nextPageToken", "isMember",
		"organizationUnits(orgUnitPath,parentOrgUnitPath)", "a,,b", "users(", "users)", " kind , etag ",
		"users(name(givenName)),users/id", "name,name/givenName", "*/*", "users(*/value)", "a/",
	} {
		f.Add(s)
	}
	s := fuzzServer(f)
	var answers []any
	for _, path := range fuzzGets {
		req := httptest.NewRequest("GET", apiPrefix+path, nil)
		rt, params, ok := match("GET", strings.TrimPrefix(req.URL.EscapedPath(), apiPrefix))
		if !ok {
			f.Fatalf("no route for GET %s", path)
		}
		code, v := s.handle(rt, req, params)
		if code != http.StatusOK {
			f.Fatalf("GET %s = %d %v", path, code, v)
		}
		answers = append(answers, v)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		mask, err := parseFieldMask(spec)
		if err != nil {
			return
		}
		for i, v := range answers {
			raw, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			projected, err := applyMask(v, mask)
			if err != nil {
				t.Fatalf("project(%q) of GET %s: %v", spec, fuzzGets[i], err)
			}
			viaProject, err := json.Marshal(projected)
			if err != nil {
				t.Fatalf("project(%q) of GET %s gives a value that does not marshal: %v", spec, fuzzGets[i], err)
			}
			viaApply, err := mask.apply(raw)
			if err != nil {
				t.Fatalf("apply(%q) of GET %s: %v", spec, fuzzGets[i], err)
			}
			if !sameJSON(viaProject, viaApply) {
				t.Fatalf("mask %q of GET %s:\nproject gives %s\napply gives   %s", spec, fuzzGets[i], viaProject, viaApply)
			}
			again, err := mask.apply(viaApply)
			if err != nil || !sameJSON(again, viaApply) {
				t.Fatalf("mask %q of GET %s applied twice gives %s, %v; once %s", spec, fuzzGets[i], again, err, viaApply)
			}
		}
	})
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// FuzzUserQuery parses arbitrary users.list queries against a directory
// that also holds a user made of the fuzzer's names and external id.
// parseUserQuery must not panic, and for a query it accepts:
//   - the users listed after any address, through the external id index or
//     the address range (candidates), are exactly those of the whole
//     directory, in address order, that the query matches;
//   - queries made of the fuzzed user's own values, exactly or as a prefix
//     of its first runes, find that user.
func FuzzUserQuery(f *testing.F) {
	for _, s := range []string{
		"email:ada@example.com", "email:ad*", "externalId:S-1", "externalId:s-1", "externalId:'ſ-2'", "externalId:k3",
		"givenName:Ad* familyName:lovelace", `givenName:"İsmail"`, "givenName:İ*", "orgUnitPath=/Students/Grade 7",
		"orgUnitPath='/students/grade 7/'", "email:*", "email:", "isAdmin=true", ":x", "email:'a b", "",
	} {
		f.Add(s, "", "Ada", "Lovelace", "S-1")
	}
	f.Add("externalId:s-3", "b", "İsmail", "Straße", "ſ-3")
	f.Add("givenName:Zo*", "zoe@example.com", "Zoë", "ǅemal", "K9")

	base := fuzzServer(f).State()
	f.Fuzz(func(t *testing.T, query, after, given, family, externalID string) {
		s, err := New(Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.buildDirectory(base)
		if err != nil {
			t.Fatal(err)
		}
		valid := func(v string) bool {
			return v != "" && utf8.ValidString(v) && strings.TrimSpace(v) == v && !strings.ContainsAny(v, "'\" *")
		}
		fuzzed := valid(given) && valid(family) && valid(externalID)
		if fuzzed {
			d.addUser(&user{id: 99, email: "fuzz@example.com", givenName: given, familyName: family, orgUnitPath: "/",
				externalIDs: []ExternalID{{Value: externalID, Type: "organization"}}})
		}

		if q, err := parseUserQuery(query); err == nil {
			var got, want []string
			for u := range q.candidates(d, after) {
				if q.matches(u) {
					got = append(got, u.email)
				}
			}
			for u := range d.users.All() {
				if u.email > after && q.matches(u) {
					want = append(want, u.email)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("query %q after %q lists %q, want %q", query, after, got, want)
			}
		}

		if !fuzzed {
			return
		}
		firstRunes := func(s string, n int) string {
			for i := range s {
				if n == 0 {
					return s[:i]
				}
				n--
			}
			return s
		}
		// Another case of v, when lowercasing it gives what lowercasing v
		// does (ſ uppercases to S, which lowercases to s).
		upper := func(v string) string {
			if u := strings.ToUpper(v); strings.ToLower(u) == strings.ToLower(v) {
				return u
			}
			return v
		}
		for _, own := range []string{
			"email:fuzz@example.com", "email:fuzz*",
			"externalId:" + externalID, "externalId:" + upper(externalID), "externalId:" + strings.ToLower(externalID),
			"givenName:" + given, "familyName:" + family, "givenName:" + upper(given),
			"givenName:" + firstRunes(given, 1) + "*", "familyName:" + firstRunes(family, 2) + "*",
			"givenName:" + given + " familyName:" + firstRunes(family, 3) + "*",
		} {
			q, err := parseUserQuery(own)
			if err != nil {
				t.Fatalf("parseUserQuery(%q) = %v", own, err)
			}
			found := false
			for u := range q.candidates(d, "") {
				found = found || u.email == "fuzz@example.com" && q.matches(u)
			}
			if !found {
				t.Fatalf("query %q does not find the user with givenName %q, familyName %q, externalId %q", own, given, family, externalID)
			}
		}
	})
}

// FuzzRequest sends arbitrary requests to a Server holding a little of
// everything. It must answer every one without panicking, never with 500
// (a handler error that is not an API error), always with a JSON body or
// none, and with Google's error body for every error.
func FuzzRequest(f *testing.F) {
	f.Add("GET", "users", "customer=my_customer&maxResults=1&fields=users(primaryEmail),nextPageToken", "")
	f.Add("GET", "users", "domain=example.com&query=externalId:S-1&pageToken=YWRh", "")
	f.Add("GET", "users", "customer=my_customer&pageToken=%ff&maxResults=0", "")
	f.Add("POST", "users", "", `{"primaryEmail":"new@example.com","name":{"givenName":"N","familyName":"U"},"password":"12345678"}`)
	f.Add("POST", "users", "", `{"primaryEmail":"x@example.com","name":{"givenName":"N","familyName":"U"},"password":"5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8","hashFunction":"SHA-1"}`)
	f.Add("PUT", "users/ada@example.com", "", `{"primaryEmail":"ada2@example.com","orgUnitPath":"/Students","externalIds":null}`)
	f.Add("PATCH", "users/zoe@example.com", "fields=name", `{"name":{"givenName":"Zoe"},"phones":null}`)
	f.Add("DELETE", "users/ismail@example.com", "", "")
	f.Add("GET", "users/countess@example.com", "fields=*", "")
	f.Add("POST", "users/ada@example.com/aliases", "", `{"alias":"ada.l@example.com"}`)
	f.Add("POST", "groups", "", `{"email":"art@example.com","name":"Art"}`)
	f.Add("POST", "groups/maths@example.com/members", "", `{"email":"ismail@example.com","role":"MANAGER"}`)
	f.Add("GET", "groups/math@example.com/members", "maxResults=1&roles=OWNER", "")
	f.Add("GET", "groups/math@example.com/hasMember/outside@other.org", "", "")
	f.Add("DELETE", "groups/math@example.com/members/zoe@example.com", "", "")
	f.Add("POST", "customer/my_customer/orgunits", "", `{"name":"Staff","parentOrgUnitPath":"/Students/Grade 7"}`)
	f.Add("GET", "customer/C03az79cb/orgunits/Students%2FGrade%207", "", "")
	f.Add("GET", "customer/my_customer/orgunits", "orgUnitPath=/Students&type=children", "")
	f.Add("POST", "users", "", `[1,2]`)
	f.Add("POST", "users", "", `{"primaryEmail":1}`)
	f.Add("GET", "users/1%2F..%2F", "", "")

	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	base := fuzzServer(f).State()
	f.Fuzz(func(t *testing.T, method, path, rawQuery, body string) {
		if !slices.Contains(methods, method) {
			method = methods[len(method)%len(methods)]
		}
		s, err := New(Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.buildDirectory(base)
		if err != nil {
			t.Fatal(err)
		}
		s.dir = d
		// The path as a client sends it; a path that no request line can
		// carry is not a request.
		u, err := url.Parse(apiPrefix + path)
		if err != nil || u.Host != "" || u.Scheme != "" {
			return
		}
		u.RawQuery = rawQuery
		req, err := http.NewRequest(method, u.String(), strings.NewReader(body))
		if err != nil {
			return
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		switch {
		case w.Code == http.StatusInternalServerError:
			t.Fatalf("%s %s?%s %q = 500 %s", method, path, rawQuery, body, w.Body)
		case w.Code == http.StatusNoContent:
			if w.Body.Len() != 0 {
				t.Fatalf("%s %s?%s = 204 with a body %s", method, path, rawQuery, w.Body)
			}
			return
		case !json.Valid(w.Body.Bytes()):
			t.Fatalf("%s %s?%s = %d with a body that is not JSON: %q", method, path, rawQuery, w.Code, w.Body)
		case w.Code >= 400:
			var e struct {
				Error struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
					Errors  []struct {
						Domain, Reason, Message string
					} `json:"errors"`
				} `json:"error"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code != w.Code || e.Error.Message == "" ||
				len(e.Error.Errors) != 1 || e.Error.Errors[0].Reason == "" || e.Error.Errors[0].Message != e.Error.Message {
				t.Fatalf("%s %s?%s = %d with a body that is not Google's error: %s", method, path, rawQuery, w.Code, w.Body)
			}
		case bytes.HasPrefix(w.Body.Bytes(), []byte("null")):
			t.Fatalf("%s %s?%s = %d null", method, path, rawQuery, w.Code)
		}
	})
}
