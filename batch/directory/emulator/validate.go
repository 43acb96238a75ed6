package emulator

import (
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxNameLength is Google's limit on a given or family name, in
// characters.
const maxNameLength = 60

// validDomain reports whether d looks like a DNS domain name.
func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validLocalPart reports whether s is a username Google accepts: 1 to 64
// of letters, digits, dashes, underscores, apostrophes and periods, not
// starting or ending with a period nor with two in a row.
func validLocalPart(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '\'') {
			return false
		}
	}
	return true
}

// checkAddress normalizes an address to create in the account. A
// malformed one is "Invalid Input: what"; one outside the domain is
// forbidden, as the account cannot own it.
func (s *Server) checkAddress(addr, what string) (string, error) {
	addr = normalizeAddress(addr)
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || !validLocalPart(addr[:at]) || !validDomain(addr[at+1:]) {
		return "", errInvalidInput(what)
	}
	if addr[at+1:] != s.opts.Domain {
		return "", errForbidden()
	}
	return addr, nil
}

// checkName checks a given or family name as Google does: present, at
// most 60 characters, none of < > =. field is GivenName or FamilyName.
func checkName(v *string, field string) error {
	if v == nil {
		return errInvalidName(field)
	}
	s := strings.TrimSpace(*v)
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxNameLength || strings.ContainsAny(s, "<>=") {
		return errInvalidName(field)
	}
	return nil
}

// checkPassword checks a password as Google does: 8 to 100 printable
// ASCII characters, or a hash in the form hashFunction names (MD5 and
// SHA-1 as hex, crypt as a DES, MD5, SHA-256 or SHA-512 crypt string with
// at most 10,000 rounds).
func checkPassword(pw, hashFunction string) error {
	switch {
	case hashFunction == "":
		if len(pw) < 8 || len(pw) > 100 {
			return errInvalidPassword()
		}
		for _, c := range []byte(pw) {
			if c < 0x20 || c > 0x7e {
				return errInvalidPassword()
			}
		}
	case strings.EqualFold(hashFunction, "MD5"):
		if !isHex(pw, 32) {
			return errInvalidPassword()
		}
	case strings.EqualFold(hashFunction, "SHA-1"):
		if !isHex(pw, 40) {
			return errInvalidPassword()
		}
	case strings.EqualFold(hashFunction, "crypt"):
		if !validCrypt(pw) {
			return errInvalidPassword()
		}
	default:
		return errInvalidInput("hashFunction")
	}
	return nil
}

func isHex(s string, n int) bool {
	_, err := hex.DecodeString(s)
	return len(s) == n && err == nil
}

// validCrypt accepts the crypt(3) formats Google documents: traditional
// DES (13 characters) and $1$, $5$ and $6$ with an optional rounds=N ≤
// 10000.
func validCrypt(s string) bool {
	const cryptChars = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	if len(s) == 13 && !strings.HasPrefix(s, "$") {
		return strings.Trim(s, cryptChars) == ""
	}
	var rest string
	var ok bool
	for _, p := range []string{"$1$", "$5$", "$6$"} {
		if rest, ok = strings.CutPrefix(s, p); ok {
			break
		}
	}
	if !ok {
		return false
	}
	if r, found := strings.CutPrefix(rest, "rounds="); found {
		n, after, _ := strings.Cut(r, "$")
		rounds, err := strconv.Atoi(n)
		if err != nil || rounds < 1 || rounds > 10000 {
			return false
		}
		rest = after
	}
	salt, hash, found := strings.Cut(rest, "$")
	return found && salt != "" && hash != "" && strings.Trim(salt+hash, cryptChars) == ""
}
