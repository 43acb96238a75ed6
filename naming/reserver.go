package naming

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// A Checker says whether a name is already used in the domain: a primary
// address, a user alias, a group address or a group alias. The directory's
// name snapshot, a live lookup and the journal's reservations are Checkers.
type Checker interface {
	Taken(ctx context.Context, name string) (bool, error)
}

// CheckerFunc adapts a function to a Checker.
type CheckerFunc func(ctx context.Context, name string) (bool, error)

// Taken calls f.
func (f CheckerFunc) Taken(ctx context.Context, name string) (bool, error) { return f(ctx, name) }

// NameSet is a set of taken names. It is a Checker; it is not safe for
// concurrent writes.
type NameSet map[string]struct{}

// NewNameSet returns a set holding names, lowercased.
func NewNameSet(names ...string) NameSet {
	s := make(NameSet, len(names))
	for _, n := range names {
		s.Add(n)
	}
	return s
}

// Add puts name, lowercased, in the set.
func (s NameSet) Add(name string) { s[strings.ToLower(name)] = struct{}{} }

// Taken reports whether name is in the set.
func (s NameSet) Taken(_ context.Context, name string) (bool, error) {
	_, ok := s[name]
	return ok, nil
}

// AnyOf returns a Checker that reports a name taken when any of checkers
// does, asking them in order.
func AnyOf(checkers ...Checker) Checker {
	return CheckerFunc(func(ctx context.Context, name string) (bool, error) {
		for _, c := range checkers {
			taken, err := c.Taken(ctx, name)
			if err != nil || taken {
				return taken, err
			}
		}
		return false, nil
	})
}

// DefaultReserved lists the names no person gets: the role addresses that
// RFC 2142 and mail operators expect, and names that suggest authority.
var DefaultReserved = []string{
	"abuse", "admin", "administrator", "billing", "dmarc", "ftp", "help",
	"helpdesk", "hostmaster", "info", "it", "mail", "mailer-daemon",
	"marketing", "news", "no-reply", "nobody", "noc", "noreply", "postmaster",
	"privacy", "root", "sales", "security", "ssl-admin", "support",
	"sysadmin", "usenet", "uucp", "webmaster", "www",
}

// Options configure a Reserver.
type Options struct {
	// Patterns are tried in order. Empty means DefaultPatterns. LastResort
	// is always tried after them.
	Patterns []Pattern
	// Reserved names are never handed out. Nil means DefaultReserved; an
	// empty non-nil slice reserves nothing.
	Reserved []string
	// Taken says which names the domain already uses. Nil means none.
	Taken Checker
	// Ledger keeps the names handed out and the counters. Nil means a new
	// MemoryLedger.
	Ledger Ledger
}

// Errors returned by Reserve and Claim; test with errors.Is.
var (
	// ErrNoName means no pattern gives a valid username for a person:
	// both names are empty after normalisation, or every candidate is
	// invalid.
	ErrNoName = errors.New("no pattern gives a valid username")
	// ErrTaken means the name is already used in the domain or held by
	// another row.
	ErrTaken = errors.New("the name is already taken")
	// ErrReserved means the name is on the reserved list.
	ErrReserved = errors.New("the name is reserved")
	// ErrInvalid means the name is not a valid username.
	ErrInvalid = errors.New("the name is not a valid username")
)

// A Reserver hands out available usernames. It is safe for concurrent use;
// it serves one request at a time, consulting its Checker under its lock,
// so names come out in the order they were asked for.
type Reserver struct {
	patterns []Pattern
	reserved NameSet
	checker  Checker
	ledger   Ledger

	mu    sync.Mutex
	taken NameSet // names the directory refused after its snapshot
}

// NewReserver returns a Reserver for opts.
func NewReserver(opts Options) *Reserver {
	patterns := opts.Patterns
	if len(patterns) == 0 {
		patterns = DefaultPatterns()
	}
	reserved := opts.Reserved
	if reserved == nil {
		reserved = DefaultReserved
	}
	checker := opts.Taken
	if checker == nil {
		checker = NameSet{}
	}
	var ledger Ledger = opts.Ledger
	if ledger == nil {
		ledger = NewMemoryLedger()
	}
	return &Reserver{
		patterns: withLastResort(patterns),
		reserved: NewNameSet(reserved...),
		checker:  checker,
		ledger:   ledger,
		taken:    NameSet{},
	}
}

// Reserve returns the first available name for a person, in pattern order,
// and holds it for owner (such as the person's row) so that no later call
// gets it. firstname and lastname are mandatory; a *FieldError says which is
// missing.
func (r *Reserver) Reserve(ctx context.Context, owner string, f Fields) (string, error) {
	names, err := r.find(ctx, f, 1, owner)
	if err != nil {
		return "", err
	}
	return names[0], nil
}

// Suggest returns the first n (1 to 10) available, distinct names for a
// person, in pattern order and then counter order, without holding any.
func (r *Reserver) Suggest(ctx context.Context, f Fields, n int) ([]string, error) {
	if n < 1 || n > 10 {
		return nil, fmt.Errorf("suggest: asked for %d names; ask for 1 to 10", n)
	}
	return r.find(ctx, f, n, "")
}

// Claim holds an explicit name for owner, such as the local part of an
// address given in the input, if it is available. It returns an error
// wrapping ErrInvalid, ErrReserved or ErrTaken otherwise.
func (r *Reserver) Claim(ctx context.Context, owner, name string) error {
	name = strings.ToLower(name)
	if name == "" || len(name) > MaxLength {
		return fmt.Errorf("claim %q: %w: it must have 1 to %d characters", name, ErrInvalid, MaxLength)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.reserved[name]; ok {
		return fmt.Errorf("claim %q: %w", name, ErrReserved)
	}
	ok, err := r.available(ctx, name)
	if err != nil {
		return fmt.Errorf("claim %q: %w", name, err)
	}
	if !ok {
		return fmt.Errorf("claim %q: %w", name, ErrTaken)
	}
	if err := r.ledger.Hold(ctx, name, owner); err != nil {
		return fmt.Errorf("claim %q: %w", name, err)
	}
	return nil
}

// MarkTaken records that the directory refused name as already used (a 409
// on insert for an account the snapshot did not know). Later calls skip it.
func (r *Reserver) MarkTaken(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.taken.Add(name)
}

// find walks the patterns and collects up to want available names, holding
// the first one for owner unless owner is "" (Suggest).
func (r *Reserver) find(ctx context.Context, f Fields, want int, owner string) ([]string, error) {
	who, err := prepare(f)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()

	var names []string
	seen := NameSet{}
	add := func(name string) bool {
		if _, dup := seen[name]; dup {
			return false
		}
		seen.Add(name)
		names = append(names, name)
		return len(names) == want
	}
	for _, p := range r.patterns {
		pieces, ok := p.expand(who)
		if !ok {
			continue
		}
		if p.counters == 0 {
			name := pieces[0]
			if !Valid(name) {
				continue
			}
			free, err := r.available(ctx, name)
			if err != nil {
				return nil, err
			}
			if free && add(name) {
				break
			}
			continue
		}
		done, err := r.count(ctx, pieces, owner != "", add)
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
	}
	if len(names) == 0 {
		return nil, noNameError(f, who)
	}
	if owner != "" {
		if err := r.ledger.Hold(ctx, names[0], owner); err != nil {
			return nil, fmt.Errorf("hold %q: %w", names[0], err)
		}
	}
	return names, nil
}

// maxProbes bounds how many numbers one call may try for one base: far
// more than any real directory holds for one name, it turns a Checker that
// calls everything taken into an error instead of an endless loop.
const maxProbes = 10_000_000

// count hands counter names for one base to add, from the base's counter
// upwards, until add has enough. The counter moves past every number found
// unavailable, and past the name handed out when hold is set, so each
// number is checked about once over the Reserver's life: O(1) amortised per
// name. It reports false when the candidates are not valid usernames, so the
// caller moves on to the next pattern.
func (r *Reserver) count(ctx context.Context, pieces []string, hold bool, add func(string) bool) (done bool, err error) {
	base := strings.Join(pieces, "#")
	stored, err := r.ledger.Counter(ctx, base)
	if err != nil {
		return false, fmt.Errorf("read counter %q: %w", base, err)
	}
	start := max(stored, 1)
	next := start
	defer func() {
		if err == nil && next != stored {
			if serr := r.ledger.SetCounter(ctx, base, next); serr != nil {
				err = fmt.Errorf("move counter %q: %w", base, serr)
			}
		}
	}()
	counting := true // no free number seen yet: the counter follows n
	for n := start; n < start+maxProbes; n++ {
		name := withNumber(pieces, n)
		if !Valid(name) {
			// Only the length of a candidate depends on its number, and
			// it grows with it: no larger number can make it valid.
			return false, nil
		}
		free, err := r.available(ctx, name)
		if err != nil {
			return false, err
		}
		if !free {
			if counting {
				next = n + 1
			}
			continue
		}
		if counting && hold {
			next = n + 1
		}
		counting = false
		if add(name) {
			return true, nil
		}
	}
	return false, fmt.Errorf("%w: %q with numbers %d to %d are all taken", ErrNoName, base, start, start+maxProbes-1)
}

// available reports whether name is free: not reserved, not refused by the
// directory, not held in the ledger and not taken per the Checker.
// r.mu must be held.
func (r *Reserver) available(ctx context.Context, name string) (bool, error) {
	if _, ok := r.reserved[name]; ok {
		return false, nil
	}
	if _, ok := r.taken[name]; ok {
		return false, nil
	}
	holder, err := r.ledger.Holder(ctx, name)
	if err != nil {
		return false, fmt.Errorf("look up %q in the ledger: %w", name, err)
	}
	if holder != "" {
		return false, nil
	}
	taken, err := r.checker.Taken(ctx, name)
	if err != nil {
		return false, fmt.Errorf("check whether %q is taken: %w", name, err)
	}
	return !taken, nil
}

// noNameError explains why no pattern gave a name for a person.
func noNameError(f Fields, who person) error {
	var empty []string
	for _, field := range []string{FirstName, LastName} {
		if who[field] == "" {
			empty = append(empty, fmt.Sprintf("%s %q", field, f.Get(field)))
		}
	}
	switch len(empty) {
	case 1:
		return fmt.Errorf("%w: %s has no letter or digit a username can use", ErrNoName, empty[0])
	case 2:
		return fmt.Errorf("%w: %s and %s have no letter or digit a username can use", ErrNoName, empty[0], empty[1])
	}
	return fmt.Errorf("%w for firstname %q and lastname %q: every candidate is invalid or taken", ErrNoName, f.Get(FirstName), f.Get(LastName))
}

// Get returns the value of a field, matching its name case-insensitively.
func (f Fields) Get(name string) string {
	if v, ok := f[name]; ok {
		return v
	}
	for k, v := range f {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
