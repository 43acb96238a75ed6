package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/input"
	"github.com/provisionhq/provision/naming"
)

// MarkerType is the customType of the externalIds entry written with
// every account the service creates; its value is a random marker unique
// to that create, kept in the service journal. When users.insert ends
// without a clear answer (a timeout, a 5xx, a 409), a point read of the
// address tells: an account carrying this create's marker is ours and was
// created; any other account means the name is taken.
const MarkerType = "provision-serve"

// maxInsertTries bounds the users.insert attempts of one create when the
// directory says an attempt did not land.
const maxInsertTries = 3

// createRequest is a checked body of POST /rest/create.
type createRequest struct {
	username string
	fields   naming.Fields
	password string
	// generated says the password was generated here: it is answered
	// once, in the create's response, and never stored or logged.
	generated bool
	place     batch.Place
}

// createAnswer is the body of a create that succeeded: the Java project's
// {"message"} plus the address and, when it was generated, the password.
type createAnswer struct {
	Message  string `json:"message"`
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password,omitempty"`
}

// create answers POST /rest/create {"username", "firstname", "lastname",
// "password"} (and custom fields for the templates): users.insert of a
// name a suggestion holds, placed by the config's templates.
//
// A name that no live suggestion holds is refused with 409, although the
// Java project created any name it was sent: this way every account the
// service creates has a name its patterns gave, checked against the
// reserved list and the directory, and a create cannot take a name that
// another client was just offered.
func (s *Service) create(r *http.Request) (any, error) {
	obj, err := readObject(r)
	if err != nil {
		return nil, err
	}
	req, err := s.parseCreate(obj)
	if err != nil {
		return nil, err
	}
	// The client may give up waiting; the create, once sent, is finished
	// and journaled all the same, within its budget.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), createBudget)
	defer cancel()
	return s.createAccount(ctx, req)
}

// parseCreate checks a create body as run checks a row.
func (s *Service) parseCreate(obj object) (createRequest, error) {
	var req createRequest
	username, ok, err := obj.text("username")
	switch {
	case err != nil:
		return req, err
	case !ok || strings.TrimSpace(username) == "":
		return req, failf(http.StatusBadRequest, "username is missing: create a name that /rest/suggest answered")
	}
	req.username = strings.ToLower(strings.TrimSpace(username))
	if !naming.Valid(req.username) {
		return req, failf(http.StatusBadRequest, "username %q is not a valid username: 1 to %d of a-z 0-9 . _ -, starting and ending with a letter or digit", input.Visible(req.username), naming.MaxLength)
	}
	if req.fields, err = obj.person("username", "password", "generatePassword"); err != nil {
		return req, err
	}
	if err := s.parsePassword(obj, &req); err != nil {
		return req, err
	}
	if req.place, err = s.placement.Of(req.fields); err != nil {
		return req, failf(http.StatusBadRequest, "%v", err)
	}
	return req, nil
}

// parsePassword reads the password, or generates one when the client asks
// with "generatePassword": true and gives none.
func (s *Service) parsePassword(obj object, req *createRequest) error {
	generate := false
	if raw, ok := obj.lookup("generatePassword"); ok {
		switch string(raw) {
		case "true":
			generate = true
		case "false", "null":
		default:
			return failf(http.StatusBadRequest, "generatePassword must be true or false")
		}
	}
	password, given, err := obj.text("password")
	switch {
	case err != nil:
		return err
	case given && password != "" && generate:
		return failf(http.StatusBadRequest, "give a password or ask for one to be generated, not both")
	case generate:
		p, err := batch.GeneratePassword(s.cfg.Password.Length)
		if err != nil {
			return err
		}
		req.password, req.generated = p, true
		return nil
	case !given || password == "":
		return failf(http.StatusBadRequest, `password is missing: give 8 to 100 printable ASCII characters, or "generatePassword": true`)
	}
	if err := input.CheckPassword(password); err != nil {
		return failf(http.StatusBadRequest, "password %v", err)
	}
	req.password = password
	return nil
}

// createAccount creates the account of req: the intent, its org unit,
// users.insert, the outcome, and the groups.
func (s *Service) createAccount(ctx context.Context, req createRequest) (any, error) {
	email := req.username + "@" + s.cfg.Domain
	rec, err := s.begin(ctx, req.username)
	if err != nil {
		return nil, err
	}
	defer s.done(req.username)
	// The org unit before the account: a missing one fails the create
	// before anything is created, and the name keeps its hold.
	if err := s.ensureOrgUnit(ctx, req.place.OrgUnit); err != nil {
		if ferr := s.store.FinishCreate(context.WithoutCancel(ctx), rec, outcomeRefused, "", oneLine(err.Error())); ferr != nil {
			return nil, ferr
		}
		return nil, err
	}

	outcome, userID, err := s.insert(ctx, s.newUser(req, email, rec.Marker), rec.Marker)
	if outcome == outcomeUnknown {
		s.log.Warn("create outcome unknown; it is settled before the name is used again", "email", email, "err", plainError(err))
		return nil, failf(http.StatusServiceUnavailable, "could not tell whether %s was created (%s); do not create it under another name: the service checks it before the name is used again", email, plainError(err))
	}
	reason := ""
	if err != nil {
		reason = plainError(err)
	}
	if ferr := s.store.FinishCreate(context.WithoutCancel(ctx), rec, createOutcome(outcome), userID, reason); ferr != nil {
		return nil, ferr
	}
	switch createOutcome(outcome) {
	case outcomeTaken:
		s.reserver.MarkTaken(req.username)
		return nil, failf(http.StatusConflict, "%s is taken by another account, alias or group; ask for new suggestions", email)
	case outcomeRefused:
		return nil, googleRefusal(email, err)
	}
	s.log.Info("created an account", "email", email, "org_unit", req.place.OrgUnit, "groups", len(req.place.Groups), "password_generated", req.generated)
	answer := createAnswer{Message: "User created successfully: " + email + ".", Username: req.username, Email: email}
	if req.generated {
		answer.Password = req.password
		answer.Message += " Its password was generated and is shown only in this answer."
	}
	if failed := s.addToGroups(ctx, rec, email, req.place); len(failed) > 0 {
		answer.Message += " It could not be added to " + strings.Join(failed, "; ") + "."
	}
	return answer, nil
}

// outcomeUnknown extends createOutcome for an insert nobody can settle now.
const outcomeUnknown = createOutcome(-1)

// begin journals the intent to create name. A create left unsettled by an
// earlier attempt or process is settled first by a point read.
func (s *Service) begin(ctx context.Context, name string) (createRecord, error) {
	s.mu.Lock()
	if s.inFlight[name] {
		s.mu.Unlock()
		return createRecord{}, failf(http.StatusConflict, "%s is being created by another request right now", name)
	}
	s.inFlight[name] = true
	s.mu.Unlock()
	for range 2 {
		rec, err := s.store.BeginCreate(ctx, name, newMarker())
		switch {
		case err == nil:
			return rec, nil
		case errors.Is(err, ErrCreating):
			if serr := s.settleName(ctx, name); serr != nil {
				s.done(name)
				return createRecord{}, failf(http.StatusServiceUnavailable, "an earlier create of %s is not settled yet and the directory cannot tell now (%s); try again later", name, plainError(serr))
			}
			continue
		case errors.Is(err, ErrCreated):
			s.done(name)
			at, _, _ := s.store.CreatedAt(ctx, name)
			return createRecord{}, failf(http.StatusConflict, "%s@%s was already created by this service (%s); it is not created twice", name, s.cfg.Domain, at.UTC().Format("2006-01-02 15:04 UTC"))
		case errors.Is(err, ErrNotHeld):
			s.done(name)
			return createRecord{}, failf(http.StatusConflict, "%s is not held by a suggestion (never suggested, released, or its hold of %s expired); ask /rest/suggest again and create one of its names", name, s.cfg.Serve.Hold)
		default:
			s.done(name)
			return createRecord{}, err
		}
	}
	s.done(name)
	return createRecord{}, failf(http.StatusConflict, "%s is not held by a suggestion; ask /rest/suggest again", name)
}

// done ends the in-flight mark of a create.
func (s *Service) done(name string) {
	s.mu.Lock()
	delete(s.inFlight, name)
	s.mu.Unlock()
}

// newUser builds the account to insert. Its externalIds entry marks it as
// this create's.
func (s *Service) newUser(req createRequest, email, marker string) *admin.User {
	u := &admin.User{
		PrimaryEmail:              email,
		Name:                      &admin.UserName{GivenName: req.fields.Get(naming.FirstName), FamilyName: req.fields.Get(naming.LastName)},
		Password:                  req.password,
		OrgUnitPath:               req.place.OrgUnit,
		ExternalIds:               []directory.ExternalID{{Type: "custom", CustomType: MarkerType, Value: marker}},
		ChangePasswordAtNextLogin: *s.cfg.Password.ChangeAtNextLogin,
	}
	if !u.ChangePasswordAtNextLogin {
		u.ForceSendFields = append(u.ForceSendFields, "ChangePasswordAtNextLogin")
	}
	return u
}

// insert sends users.insert and settles an unclear answer (an unknown
// outcome or a 409) by a point read of the address: an account with this
// create's marker is ours; another account means the name is taken; none
// means the attempt did not land, and it is tried again.
func (s *Service) insert(ctx context.Context, u *admin.User, marker string) (outcome createOutcome, userID string, err error) {
	for range maxInsertTries {
		created, err := s.dir.InsertUser(ctx, u)
		if err == nil {
			return outcomeCreated, created.Id, nil
		}
		if !directory.IsOutcomeUnknown(err) && !directory.IsDuplicate(err) {
			return outcomeRefused, "", err
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleBudget)
		got, gerr := s.dir.GetUser(rctx, u.PrimaryEmail)
		cancel()
		switch {
		case gerr == nil && carries(got, marker):
			return outcomeCreated, got.Id, nil
		case gerr == nil, directory.IsDuplicate(err) && directory.IsNotFound(gerr):
			// Another user, or (a 409 with no such user) an alias or group.
			return outcomeTaken, "", err
		case directory.IsNotFound(gerr):
			if ctx.Err() != nil {
				return outcomeRefused, "", err
			}
			continue
		default:
			return outcomeUnknown, "", fmt.Errorf("%s, then the check failed: %s", plainError(err), plainError(gerr))
		}
	}
	return outcomeRefused, "", fmt.Errorf("users.insert did not land after %d tries", maxInsertTries)
}

// carries reports whether u carries the externalIds entry of marker.
func carries(u *admin.User, marker string) bool {
	ids, err := directory.ExternalIDs(u)
	if err != nil {
		return false
	}
	for _, id := range ids {
		if id.Type == "custom" && id.CustomType == MarkerType && id.Value == marker {
			return true
		}
	}
	return false
}

// googleRefusal answers a users.insert Google refused, with a fitting
// status and Google's words.
func googleRefusal(email string, err error) error {
	var status int
	switch code := directory.StatusCode(err); {
	case code == http.StatusBadRequest:
		status = http.StatusBadRequest
	case code == http.StatusForbidden && !directory.IsRateLimited(err):
		status = http.StatusForbidden
	case code == http.StatusNotFound:
		status = http.StatusBadRequest
	default:
		status = http.StatusServiceUnavailable
	}
	return failf(status, "the directory refused to create %s: %s", email, plainError(err))
}

// newMarker returns a random marker for one create.
func newMarker() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
