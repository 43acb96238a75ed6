package directory

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/googleapi"
)

// NameKind says what an address in the directory is.
type NameKind int

const (
	UserPrimary  NameKind = iota + 1 // a user's primary address
	UserAlias                        // an alias of a user (editable or not)
	GroupPrimary                     // a group's address
	GroupAlias                       // an alias of a group (editable or not)
)

func (k NameKind) String() string {
	switch k {
	case UserPrimary:
		return "user"
	case UserAlias:
		return "user alias"
	case GroupPrimary:
		return "group"
	case GroupAlias:
		return "group alias"
	}
	return fmt.Sprintf("NameKind(%d)", int(k))
}

// Name is one address taken in the directory.
type Name struct {
	Address string
	Kind    NameKind
	// ExternalIDs are the external IDs of the user, on UserPrimary names
	// only.
	ExternalIDs []ExternalID
	// Customer is the customer ID of the account the user belongs to, on
	// UserPrimary names only: it tells one Workspace account from another.
	Customer string
}

// Field masks of the snapshot: only what it needs, as small as Google sends.
const (
	userPageSize  = 500 // users.list maximum
	groupPageSize = 200 // groups.list maximum
	userFields    = "nextPageToken,users(primaryEmail,aliases,nonEditableAliases,externalIds,customerId)"
	groupFields   = "nextPageToken,groups(email,aliases,nonEditableAliases)"
)

// Characters that can follow a prefix in a username, in the byte order in
// which Google lists addresses (orderBy=email). Google allows letters,
// digits, dashes, underscores, apostrophes and periods, not first; '@'
// ends the local part.
const (
	firstChars = "'-0123456789_abcdefghijklmnopqrstuvwxyz"
	laterChars = "'-.0123456789@_abcdefghijklmnopqrstuvwxyz"
)

// Snapshot streams every address taken in the domain to sink: each user's
// primary address (with its external IDs), its aliases and non-editable
// aliases and, when the client may read groups (Config.Groups), each group's
// address and aliases. Every address is delivered once, in no particular
// order, in batches. sink is never called concurrently: it runs on the
// goroutine that called Snapshot while up to Config.SnapshotParallelism list
// requests are in flight; memory holds those pages, never the directory. An
// error from sink stops the snapshot and is returned.
//
// Users are listed in address order (orderBy=email), in shards by address
// prefix (query email:p*). Every shard costs at least one request, however
// few addresses it holds, so the snapshot starts with one listing of the
// whole domain, which for a small domain is the only request, and lets the
// data decide the rest: whenever a worker would otherwise idle, the shard
// that has fetched the most pages is split at the address it has reached,
// the characters after it becoming shards of their own. A domain larger than
// a page is thus split after its first page. Names cluster (a sixth
// of a realistic directory starts with j), so heavy shards split repeatedly
// and one character deeper each time, while light ones are never split. The
// extra requests are bounded: splitting stops while it has made more shards
// than pages with entries were fetched. Groups, usually far fewer than users,
// are one sequential listing alongside.
func (c *Client) Snapshot(ctx context.Context, sink func([]Name) error) error {
	return c.snapshot(ctx, c.listUsers(nil), func(b snapshotBatch) error { return sink(b.names) })
}

// snapshotBatch is what one fetched page delivers: names, and the accounts
// of the users among them when the listing reads accounts.
type snapshotBatch struct {
	names    []Name
	accounts []Account
}

// snapshot runs the sharded listing of users with listUsers, and of groups,
// delivering each page's batch to sink on the calling goroutine.
func (c *Client) snapshot(ctx context.Context, listUsers listFunc, sink func(snapshotBatch) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sched := newScheduler(c.parallel)
	sched.add(&shard{list: listUsers, splittable: true})
	if c.groups >= GroupRead {
		sched.add(&shard{list: c.listGroups})
	}
	batches := make(chan snapshotBatch, c.parallel)
	g, gctx := errgroup.WithContext(ctx)
	for range c.parallel {
		g.Go(func() error { return sched.work(gctx, batches) })
	}
	done := make(chan error, 1)
	go func() {
		err := g.Wait()
		close(batches)
		done <- err
	}()
	var sinkErr error
	for batch := range batches {
		if sinkErr != nil {
			continue
		}
		if err := sink(batch); err != nil {
			sinkErr = fmt.Errorf("snapshot: %w", err)
			cancel()
		}
	}
	if err := <-done; sinkErr == nil && err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return sinkErr
}

// entry is one listed user or group: the address that orders the listing,
// every name it holds and, when the listing reads accounts, the user's.
type entry struct {
	key     string
	names   []Name
	account *Account
}

// listFunc fetches one page of the entries whose address starts with prefix.
type listFunc func(ctx context.Context, prefix, token string) (entries []entry, next string, err error)

// listUsers returns the listing of users' names or, with accounts, of their
// accounts too; accounts carry the custom schemas named (none for nil).
func (c *Client) listUsers(accounts *accountFields) listFunc {
	fields := userFields
	if accounts != nil {
		fields = accounts.mask
	}
	return func(ctx context.Context, prefix, token string) ([]entry, string, error) {
		page, err := call(ctx, c, operation{name: "users.list"}, func(ctx context.Context) (*admin.Users, error) {
			req := c.svc.Users.List().Domain(c.domain).OrderBy("email").MaxResults(userPageSize).
				Fields(googleapi.Field(fields)).PageToken(token)
			if prefix != "" {
				req.Query("email:" + quoteQuery(prefix) + "*")
			}
			if accounts != nil && accounts.customFieldMask != "" {
				req.Projection("custom").CustomFieldMask(accounts.customFieldMask)
			}
			return req.Context(ctx).Do()
		})
		if err != nil {
			return nil, "", fmt.Errorf("list users %s*: %w", prefix, err)
		}
		entries := make([]entry, 0, len(page.Users))
		for _, u := range page.Users {
			e, err := userEntry(u, accounts != nil)
			if err != nil {
				return nil, "", err
			}
			entries = append(entries, e)
		}
		return entries, page.NextPageToken, nil
	}
}

// userEntry is the entry of a listed user: its addresses and, with
// account, its Account.
func userEntry(u *admin.User, account bool) (entry, error) {
	ids, err := ExternalIDs(u)
	if err != nil {
		return entry{}, err
	}
	names := make([]Name, 0, 1+len(u.Aliases)+len(u.NonEditableAliases))
	names = append(names, Name{Address: u.PrimaryEmail, Kind: UserPrimary, ExternalIDs: ids, Customer: u.CustomerId})
	for _, a := range u.Aliases {
		names = append(names, Name{Address: a, Kind: UserAlias})
	}
	for _, a := range u.NonEditableAliases {
		names = append(names, Name{Address: a, Kind: UserAlias})
	}
	e := entry{key: strings.ToLower(u.PrimaryEmail), names: names}
	if account {
		a, err := newAccount(u, ids)
		if err != nil {
			return entry{}, err
		}
		e.account = a
	}
	return e, nil
}

func (c *Client) listGroups(ctx context.Context, _, token string) ([]entry, string, error) {
	page, err := call(ctx, c, operation{name: "groups.list"}, func(ctx context.Context) (*admin.Groups, error) {
		return c.svc.Groups.List().Domain(c.domain).OrderBy("email").MaxResults(groupPageSize).
			Fields(googleapi.Field(groupFields)).PageToken(token).Context(ctx).Do()
	})
	if err != nil {
		return nil, "", fmt.Errorf("list groups: %w", err)
	}
	entries := make([]entry, 0, len(page.Groups))
	for _, g := range page.Groups {
		names := make([]Name, 0, 1+len(g.Aliases)+len(g.NonEditableAliases))
		names = append(names, Name{Address: g.Email, Kind: GroupPrimary})
		for _, a := range g.Aliases {
			names = append(names, Name{Address: a, Kind: GroupAlias})
		}
		for _, a := range g.NonEditableAliases {
			names = append(names, Name{Address: a, Kind: GroupAlias})
		}
		entries = append(entries, entry{key: strings.ToLower(g.Email), names: names})
	}
	return entries, page.NextPageToken, nil
}

// shard is one paged listing: the entries whose address starts with prefix
// and sorts before limit.
type shard struct {
	list       listFunc
	prefix     string
	splittable bool   // the listing can be narrowed by a longer prefix
	limit      string // entries from here on belong to shards split off; "" for none
	token      string // the next page; "" before the first
	last       string // the last address listed so far
	pages      int
}

// scheduler hands shards to workers, one page at a time, and splits a
// running shard when a worker has nothing else to do.
type scheduler struct {
	mu      sync.Mutex
	wake    *sync.Cond
	ready   []*shard
	running map[*shard]bool
	stopped bool
	// Every shard split off costs at least one request, often for an
	// empty page, so splitting stops while it has made more shards than
	// pages with entries have been fetched: it at most doubles the
	// requests of a snapshot.
	splitOff, filled int
}

func newScheduler(workers int) *scheduler {
	s := &scheduler{running: make(map[*shard]bool, workers)}
	s.wake = sync.NewCond(&s.mu)
	return s
}

func (s *scheduler) add(sh *shard) { s.ready = append(s.ready, sh) }

// work fetches pages until no shard is left, sending the names (and
// accounts) of each page to out.
func (s *scheduler) work(ctx context.Context, out chan<- snapshotBatch) error {
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
		s.wake.Broadcast()
	})
	defer stop()
	for {
		sh, token := s.take()
		if sh == nil {
			return ctx.Err()
		}
		entries, next, err := sh.list(ctx, sh.prefix, token)
		if err != nil {
			return err
		}
		b := s.advance(sh, entries, next)
		if len(b.names) == 0 {
			continue
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// take returns a shard to fetch the next page of and that page's token, or
// nil when every shard is done or the snapshot stopped.
func (s *scheduler) take() (*shard, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.stopped {
			return nil, ""
		}
		if n := len(s.ready); n > 0 {
			sh := s.ready[0]
			s.ready = s.ready[1:]
			s.running[sh] = true
			return sh, sh.token
		}
		if len(s.running) == 0 {
			return nil, ""
		}
		if !s.split() {
			s.wake.Wait()
		}
	}
}

// advance records a fetched page of sh and returns what to deliver: the
// entries in sh's range that no shard split off it covers.
func (s *scheduler) advance(sh *shard, entries []entry, next string) snapshotBatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.running, sh)
	if len(entries) > 0 {
		s.filled++
	}
	defer s.wake.Broadcast()
	var b snapshotBatch
	done := next == ""
	for _, e := range entries {
		if !strings.HasPrefix(e.key, sh.prefix) {
			continue // matched by something other than its address
		}
		if sh.limit != "" && e.key >= sh.limit {
			done = true
			break
		}
		b.names = append(b.names, e.names...)
		if e.account != nil {
			b.accounts = append(b.accounts, *e.account)
		}
		sh.last = e.key
	}
	sh.pages++
	sh.token = next
	if !done {
		s.ready = append(s.ready, sh)
	}
	return b
}

// split narrows the running shard that has fetched the most pages: the
// addresses after the one it has reached are divided among new shards, one
// per character that can follow a prefix of that address, and the shard
// stops where they begin. The prefix is the shortest one that leaves new
// shards to make, so a shard whose remaining range already lies within one
// character is split one character deeper. It reports whether it changed
// anything: added shards, or found a shard that cannot be split.
func (s *scheduler) split() bool {
	var best *shard
	for sh := range s.running {
		if sh.splittable && sh.last != "" && sh.token != "" && (best == nil || sh.pages > best.pages) {
			best = sh
		}
	}
	if best == nil || s.splitOff > s.filled {
		return false
	}
	at := strings.IndexByte(best.last, '@')
	for d := len(best.prefix); d <= at; d++ {
		var children []*shard
		chars := laterChars
		if d == 0 {
			chars = firstChars
		}
		for i := range len(chars) {
			ch := chars[i]
			child := best.last[:d] + string(ch)
			if ch <= best.last[d] || best.limit != "" && child >= best.limit {
				continue
			}
			children = append(children, &shard{list: best.list, prefix: child, splittable: ch != '@'})
		}
		if len(children) > 0 {
			s.splitOff += len(children)
			best.limit = children[0].prefix
			s.ready = append(s.ready, children...)
			return true
		}
	}
	best.splittable = false
	return true
}
