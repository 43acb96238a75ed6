package batch

import (
	"crypto/rand"
	"fmt"
	"math/big"
)

// Character classes of generated passwords. Letters and digits that are
// easy to confuse on paper (l, I, O, 0, 1) are left out: initial passwords
// are often read out or printed.
const (
	lowerChars  = "abcdefghijkmnopqrstuvwxyz"
	upperChars  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	digitChars  = "23456789"
	symbolChars = "!#$%&*+-=?@^_"
)

// GeneratePassword returns a password of n characters from crypto/rand
// with at least one lowercase letter, uppercase letter, digit and symbol.
// It starts with a letter, so that no spreadsheet reads it as a formula.
func GeneratePassword(n int) (string, error) {
	if n < 4 {
		return "", fmt.Errorf("a password needs at least 4 characters, not %d", n)
	}
	all := lowerChars + upperChars + digitChars + symbolChars
	b := make([]byte, n)
	classes := []string{lowerChars + upperChars, lowerChars, upperChars, digitChars, symbolChars}
	for i := range b {
		set := all
		if i < len(classes) {
			set = classes[i]
		}
		c, err := pick(set)
		if err != nil {
			return "", err
		}
		b[i] = c
	}
	// Shuffle all but the first, so the classes are not in fixed places.
	for i := n - 1; i > 1; i-- {
		j, err := randInt(i) // 0 ≤ j < i, then shifted past the first
		if err != nil {
			return "", err
		}
		b[i], b[j+1] = b[j+1], b[i]
	}
	return string(b), nil
}

func pick(set string) (byte, error) {
	i, err := randInt(len(set))
	if err != nil {
		return 0, err
	}
	return set[i], nil
}

// randInt returns a uniform integer in [0, n) from crypto/rand.
func randInt(n int) (int, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, fmt.Errorf("generate password: %w", err)
	}
	return int(v.Int64()), nil
}
