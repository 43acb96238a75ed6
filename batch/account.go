package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/journal"
	"github.com/provisionhq/provision/batch/report"
	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/googleapi"
)

// maxRenames bounds how often a row takes the next name because the
// directory refused the one it had: a name can be taken after the snapshot
// by an account, an alias or a group the snapshot did not know.
const maxRenames = 5

// rename gives a row the next name after the directory refused its
// current one as taken.
func (s *runner) rename(ctx context.Context, t *task) error {
	local, _, _ := strings.Cut(t.row.Email, "@")
	s.reserver.MarkTaken(local)
	if err := s.journal.AddTakenName(ctx, local, journal.UserName); err != nil {
		return &journalFault{err}
	}
	if t.rec.Email != "" {
		return rowFailf("the address %s is already taken in the directory", t.rec.Email)
	}
	if err := s.name(ctx, t); err != nil {
		return err
	}
	return s.record(ctx, &t.row, evNamed)
}

// create creates the row's account, taking the next name when the
// directory says the current one is taken.
func (s *runner) create(ctx context.Context, t *task) error {
	ins := &insert{}
	for range maxRenames + 1 {
		// Another row's 409 may have shown, since this row was prepared,
		// an account that carries this row's identity.
		if adopted, err := s.adoptKnown(ctx, t); adopted || err != nil {
			return err
		}
		user, err := s.newUser(t)
		if err != nil {
			return err
		}
		// Whether this journal sent an insert for this address before this
		// invocation: only then can an account found with the row's ID be
		// one this journal created.
		_, ins.triedBefore = t.applied[effectKey(journal.CreateUser, t.row.Email)]
		ins.outcome = nil
		err = s.effect(ctx, t, journal.CreateUser, t.row.Email, func() (string, error) {
			return s.insertUser(ctx, t, user, ins)
		})
		switch {
		case err == nil:
			t.row.UserID, t.row.Status = ins.userID, report.StatusCreated
			t.fresh = directory.JustCreated
			if err := s.record(ctx, &t.row, evCreated); err != nil {
				return err
			}
			user.Id = ins.userID
			return s.recordAccount(ctx, user)
		case errors.As(err, new(*unsettledError)):
			return rowFailf("%v", err)
		case errors.Is(ins.outcome, errAdopted):
			return s.adoptFound(ctx, t, t.row.Email)
		case errors.Is(ins.outcome, errNameTaken):
			if err := s.rename(ctx, t); err != nil {
				return err
			}
		case errors.Is(ins.outcome, errNotApplied):
		default:
			return s.remote(ctx, err, "create the account %s", t.row.Email)
		}
	}
	return rowFailf("gave up after %d tries: every name tried was taken", maxRenames+1)
}

// insert is what the attempts to create one row's account learned.
type insert struct {
	landed      bool   // an attempt of this invocation may have been applied
	triedBefore bool   // this journal sent an insert for the address before this invocation
	userID      string // the account's ID, once it exists
	outcome     error  // errAdopted, errNameTaken or errNotApplied when the attempt did not create it
}

// insertUser sends users.insert for the row and, when the answer leaves
// the outcome open (a 409, or no answer at all), settles it by a point
// read of the address.
func (s *runner) insertUser(ctx context.Context, t *task, user *admin.User, ins *insert) (string, error) {
	created, err := s.dir.InsertUser(ctx, user)
	if err == nil {
		ins.userID, t.passwordSet = created.Id, true
		return ins.userID, nil
	}
	if directory.IsOutcomeUnknown(err) {
		// This attempt may have landed with this password.
		ins.landed = true
	}
	if ctx.Err() != nil || !(directory.IsDuplicate(err) || directory.IsOutcomeUnknown(err)) {
		return "", err
	}
	// The insert may have landed (an attempt of this invocation before the
	// connection dropped, or of an earlier one): a point read tells.
	u, gerr := s.dir.GetUser(ctx, t.row.Email)
	switch {
	case gerr == nil && s.ours(u, t) && !ins.landed && !ins.triedBefore:
		// The account carries the row's ID, but no insert of this journal
		// can have made it: another tool, or another journal, did, and the
		// listing had not shown it yet. It is adopted, never reported as
		// created, its password never reset.
		ins.outcome = errAdopted
		return "", fmt.Errorf("the account %s already existed with this row's ID; adopted", t.row.Email)
	case gerr == nil && s.ours(u, t):
		// The account has this invocation's password only if one of its
		// attempts may have landed; otherwise an earlier invocation made
		// it, and its password is lost.
		ins.userID, t.passwordSet = u.Id, ins.landed
		return ins.userID, nil
	case gerr == nil:
		// Someone else's: remembered, so that the row it belongs to, if it
		// is in this file, is adopted rather than given a second account.
		if err := s.knowAccount(ctx, u); err != nil {
			return "", err
		}
		ins.outcome = errNameTaken
		return "", fmt.Errorf("the address %s is taken by another account, alias or group", t.row.Email)
	case directory.IsDuplicate(err) && directory.IsNotFound(gerr):
		ins.outcome = errNameTaken
		return "", fmt.Errorf("the address %s is taken by another account, alias or group", t.row.Email)
	case directory.IsNotFound(gerr):
		ins.outcome = errNotApplied
		return "", fmt.Errorf("the insert did not land (%s); trying again", plainError(err))
	}
	return "", &unsettledError{fmt.Sprintf("could not tell whether the account %s was created (%s, then %s); the next run checks before anything else",
		t.row.Email, plainError(err), plainError(gerr))}
}

var (
	errNameTaken  = errors.New("name taken")
	errNotApplied = errors.New("not applied")
	errAdopted    = errors.New("adopted")
)

// adoptKnown adopts the account the journal knows carries the row's
// identity, if one does: a 409 answered for another row showed it after
// this row was prepared.
func (s *runner) adoptKnown(ctx context.Context, t *task) (bool, error) {
	accounts, err := s.journal.AccountsWithID(ctx, idKey(t.id.externalID))
	if err != nil || len(accounts) != 1 {
		return false, err
	}
	return true, s.adoptFound(ctx, t, accounts[0])
}

// adoptFound makes the existing account email the row's: the row is
// converged (moved and grouped) and its password left alone.
func (s *runner) adoptFound(ctx context.Context, t *task, email string) error {
	// A name held for the row stays held, unused: releasing it could hand
	// a name to a later row that plan did not show.
	s.log.Info("adopting an account that already carries the row's ID", "line", t.rec.Line, "email", email)
	t.row.Email, t.converge, t.checkOrgUnit, t.adopting = email, true, true, true
	t.password, t.passwordSet, t.row.Password = "", false, journal.PasswordNone
	return s.adopt(ctx, t)
}

// recordAccount keeps in the journal an account the job created or read,
// as the next snapshot would show it: a later run in the snapshot's
// lifetime compares with it, and a full file finds it in scope.
func (s *runner) recordAccount(ctx context.Context, u *admin.User) error {
	a, err := directory.AccountOf(u)
	if err != nil {
		return nil // unreadable IDs identify nobody
	}
	acct, err := journalAccount(a)
	if err != nil {
		return err
	}
	ids := make([]string, len(a.ExternalIDs))
	for i, id := range a.ExternalIDs {
		ids[i] = idKey(id)
	}
	if err := s.journal.RecordAccount(ctx, acct, ids); err != nil {
		return &journalFault{err}
	}
	return nil
}

// knowAccount records the external IDs of an account a point read showed.
func (s *runner) knowAccount(ctx context.Context, u *admin.User) error {
	ids, err := directory.ExternalIDs(u)
	if err != nil {
		return nil // unreadable IDs identify nobody
	}
	for _, id := range ids {
		if err := s.journal.KnowAccount(ctx, idKey(id), strings.ToLower(u.PrimaryEmail)); err != nil {
			return &journalFault{err}
		}
	}
	return nil
}

// unsettledError means a remote write may or may not have been applied,
// and a point read could not tell.
type unsettledError struct{ reason string }

func (e *unsettledError) Error() string { return e.reason }

// ours reports whether an account carries the row's external ID: it was
// created for this row.
func (s *runner) ours(u *admin.User, t *task) bool {
	ids, err := directory.ExternalIDs(u)
	if err != nil {
		return false
	}
	want := t.id.externalID
	for _, id := range ids {
		if id.Value == want.Value && id.Type == want.Type && id.CustomType == want.CustomType {
			return true
		}
	}
	return false
}

// newUser builds the account of a row. A password generated here is kept
// in the task, for the report only.
func (s *runner) newUser(t *task) (*admin.User, error) {
	rec := t.rec
	u := &admin.User{
		PrimaryEmail: t.row.Email,
		Name:         &admin.UserName{GivenName: rec.FirstName, FamilyName: rec.LastName},
		OrgUnitPath:  t.orgUnit,
		ExternalIds:  []directory.ExternalID{t.id.externalID},
	}
	switch {
	case rec.Password != "":
		u.Password, u.HashFunction = rec.Password, rec.HashFunction
		t.row.Password = journal.PasswordGiven
		u.ChangePasswordAtNextLogin = *s.cfg.Password.ChangeAtNextLogin && rec.HashFunction == ""
	default:
		if t.password == "" {
			p, err := GeneratePassword(s.cfg.Password.Length)
			if err != nil {
				return nil, err
			}
			t.password = p
		}
		u.Password = t.password
		// Before the intent: if the process dies after the insert, the
		// journal says a generated password may be set, and resume resets it.
		t.row.Password = journal.PasswordGenerated
		u.ChangePasswordAtNextLogin = *s.cfg.Password.ChangeAtNextLogin
	}
	if !u.ChangePasswordAtNextLogin {
		u.ForceSendFields = append(u.ForceSendFields, "ChangePasswordAtNextLogin")
	}
	if rec.Title != "" || rec.Department != "" {
		u.Organizations = []admin.UserOrganization{{Title: rec.Title, Department: rec.Department, Primary: true}}
	}
	if rec.Manager != "" {
		u.Relations = []admin.UserRelation{{Type: "manager", Value: rec.Manager}}
	}
	if rec.Phone != "" {
		u.Phones = []admin.UserPhone{{Type: "work", Value: rec.Phone}}
	}
	for schema, values := range s.customOf(rec) {
		set := map[string]string{}
		for field, v := range values {
			if v != "" {
				set[field] = v
			}
		}
		if len(set) == 0 {
			continue
		}
		raw, err := json.Marshal(set)
		if err != nil {
			return nil, err
		}
		if u.CustomSchemas == nil {
			u.CustomSchemas = map[string]googleapi.RawMessage{}
		}
		u.CustomSchemas[schema] = raw
	}
	return u, nil
}

// adopt reads an account that exists for the row, created before this run
// or by someone else with the row's external ID, and moves it to the row's
// org unit when it is elsewhere.
func (s *runner) adopt(ctx context.Context, t *task) error {
	if t.account == nil || t.row.UserID == "" {
		if err := s.readAccount(ctx, t); err != nil {
			return err
		}
	}
	if t.converge {
		t.row.Status = report.StatusConverged
	}
	if err := s.record(ctx, &t.row, evAdopted); err != nil {
		return err
	}
	if err := s.sendUpdate(ctx, t); err != nil {
		return err
	}
	return s.moveAddress(ctx, t)
}

// readAccount reads the row's existing account, which the journal's
// snapshot does not show, and works out what brings it in line.
func (s *runner) readAccount(ctx context.Context, t *task) error {
	u, err := s.dir.GetUser(ctx, t.row.Email)
	if err != nil {
		return s.remote(ctx, err, "read the existing account %s", t.row.Email)
	}
	a, err := directory.AccountOf(u)
	if err != nil {
		return rowFailf("read the existing account %s: %v", t.row.Email, err)
	}
	acct, err := journalAccount(a)
	if err != nil {
		return err
	}
	if err := s.recordAccount(ctx, u); err != nil {
		return err
	}
	t.row.UserID = u.Id
	if t.applied == nil {
		if t.applied, err = s.effects(ctx, t.id.key); err != nil {
			return &journalFault{err}
		}
	}
	return s.lineUp(t, acct)
}

// resetLostPassword sets a new password on an account whose generated
// password was lost: an earlier invocation created the account and died
// before the report held its password.
func (s *runner) resetLostPassword(ctx context.Context, t *task) error {
	p, err := GeneratePassword(s.cfg.Password.Length)
	if err != nil {
		return err
	}
	// An earlier reset may have been applied and its password lost too:
	// this one always runs, and only its password is reported.
	delete(t.applied, effectKey(journal.ResetPassword, t.row.Email))
	err = s.effect(ctx, t, journal.ResetPassword, t.row.Email, func() (string, error) {
		return "", s.dir.ResetPassword(ctx, t.row.Email, p, "", directory.JustCreated)
	})
	if err != nil {
		return s.remote(ctx, err, "reset the password of %s, lost in an interruption", t.row.Email)
	}
	t.password, t.passwordSet = p, true
	s.log.Info("reset a password lost in an interruption", "line", t.rec.Line, "email", t.row.Email)
	return nil
}
