package batch

import (
	"context"
	"errors"
	"fmt"

	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/googleapi"

	"github.com/provisionhq/provision/batch/directory"
)

// Directory is what a job needs of the Admin SDK Directory API.
// *directory.Client implements it.
type Directory interface {
	GetUser(ctx context.Context, key string) (*admin.User, error)
	InsertUser(ctx context.Context, u *admin.User) (*admin.User, error)
	UpdateUser(ctx context.Context, userKey string, u directory.UserUpdate, fresh directory.Freshness) error
	RenameUser(ctx context.Context, userKey, from, to string, fresh directory.Freshness) error
	DeleteUser(ctx context.Context, userKey string) error
	RemoveMember(ctx context.Context, groupKey, memberKey string) error
	DeleteEmptyGroup(ctx context.Context, email string) error
	DeleteEmptyOrgUnit(ctx context.Context, unitPath string) error
	ResetPassword(ctx context.Context, key, password, hashFunction string, fresh directory.Freshness) error
	InsertAlias(ctx context.Context, userKey, alias string, fresh directory.Freshness) error
	GetOrgUnit(ctx context.Context, unitPath string) (*admin.OrgUnit, error)
	EnsureOrgUnit(ctx context.Context, unitPath string, parents directory.Parents) error
	GetGroup(ctx context.Context, key string) (*admin.Group, error)
	EnsureGroup(ctx context.Context, email, name string) error
	InsertMember(ctx context.Context, groupKey, memberEmail string, fresh directory.Freshness) error
	HasMember(ctx context.Context, groupKey, memberKey string) (bool, error)
	SnapshotAccounts(ctx context.Context, schemas []string, sink func(directory.AccountBatch) error) error
}

var _ Directory = (*directory.Client)(nil)

// errReadOnly is what a read-only directory answers every write with.
var errReadOnly = errors.New("plan sends no change to the directory")

// ReadOnly wraps a Directory so that every write fails: plan runs the
// same code as run, and this makes sure it changes nothing.
func ReadOnly(d Directory) Directory { return readOnly{d} }

type readOnly struct{ Directory }

func (readOnly) InsertUser(context.Context, *admin.User) (*admin.User, error) {
	return nil, errReadOnly
}

func (readOnly) UpdateUser(context.Context, string, directory.UserUpdate, directory.Freshness) error {
	return errReadOnly
}

func (readOnly) RenameUser(context.Context, string, string, string, directory.Freshness) error {
	return errReadOnly
}

func (readOnly) DeleteUser(context.Context, string) error { return errReadOnly }

func (readOnly) RemoveMember(context.Context, string, string) error { return errReadOnly }

func (readOnly) DeleteEmptyGroup(context.Context, string) error { return errReadOnly }

func (readOnly) DeleteEmptyOrgUnit(context.Context, string) error { return errReadOnly }

func (readOnly) ResetPassword(context.Context, string, string, string, directory.Freshness) error {
	return errReadOnly
}

func (readOnly) InsertAlias(context.Context, string, string, directory.Freshness) error {
	return errReadOnly
}

func (readOnly) EnsureOrgUnit(context.Context, string, directory.Parents) error { return errReadOnly }

func (readOnly) EnsureGroup(context.Context, string, string) error { return errReadOnly }

func (readOnly) InsertMember(context.Context, string, string, directory.Freshness) error {
	return errReadOnly
}

// plainError says what went wrong with a directory call in words for the
// report: Google's own message and code, without the Go client's wrapping.
func plainError(err error) string {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		reason := ""
		if len(ge.Errors) > 0 {
			reason = " " + ge.Errors[0].Reason
		}
		msg := ge.Message
		if msg == "" {
			msg = "no message"
		}
		return fmt.Sprintf("Google answered %d%s: %s", ge.Code, reason, msg)
	}
	return err.Error()
}
