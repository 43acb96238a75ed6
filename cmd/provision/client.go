package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/journal"
)

// newClient returns the Directory API client for cfg. An endpoint on this
// machine is reached without credentials: it says so on stderr when
// credential flags were given, naming them, so that nobody believes they
// were used. An endpoint or credentials the client refuses is a usage
// error, before anything is sent. where names the endpoint for the note.
func (f *directoryFlags) newClient(ctx context.Context, cfg directory.Config, where string, stderr io.Writer) (*directory.Client, error) {
	if directory.IsLoopback(cfg.Endpoint) {
		if ignored := f.credentialFlags(); len(ignored) > 0 {
			verb := "is"
			if len(ignored) > 1 {
				verb = "are"
			}
			fmt.Fprintf(stderr, "provision: note: %s %s ignored: %s is on this machine and is reached without credentials\n",
				joinAnd(ignored), verb, where)
		}
	}
	client, err := directory.New(ctx, cfg)
	var ee *directory.EndpointError
	var ce *directory.CredentialsError
	switch {
	case errors.As(err, &ee):
		return nil, withHint(usageErrorf("%v; nothing was sent", err), ee.Hint)
	case errors.As(err, &ce):
		return nil, withHint(usageErrorf("%v", err), "see \"Credentials\" in the README")
	case err != nil:
		return nil, usageErrorf("%v", err)
	}
	return client, nil
}

// credentialFlags returns the credential flags that were given, as
// "--name".
func (f *directoryFlags) credentialFlags() []string {
	var given []string
	for _, fl := range []struct{ name, value string }{
		{"credentials", f.credentials}, {"subject", f.subject}, {"impersonate", f.impersonate},
	} {
		if fl.value != "" {
			given = append(given, "--"+fl.name)
		}
	}
	return given
}

// joinAnd joins words as a sentence lists them: "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// A connection is the Directory API a command talks to.
type connection struct {
	client *directory.Client
	target journal.Directory // which directory it is, as journals record it
	name   string            // what it is, for the summary
	stop   func()
}

// connect returns the Directory API to talk to: Google, a configured
// endpoint, or an emulator started in this process, which keeps its
// directory in statePath (saved at the end when save is set).
func (f *directoryFlags) connect(ctx context.Context, cfg batch.Config, statePath string, save bool, logger *slog.Logger, stderr io.Writer) (*connection, error) {
	target, err := f.directoryOf(cfg.Domain)
	if err != nil {
		return nil, err
	}
	conn := &connection{target: target, name: "Google Workspace", stop: func() {}}
	endpoint := f.endpoint
	if f.useEmulator() {
		emu, err := startEmulator(ctx, emulatorConfig{
			domain:    cfg.Domain,
			users:     f.emulatorUsers,
			quota:     cfg.Quota,
			statePath: statePath,
			save:      save,
			logger:    logger,
		})
		if err != nil {
			return nil, err
		}
		conn.stop = emu.stop
		conn.target.Customer = emu.customer
		endpoint = emu.url
		conn.name = "the embedded emulator (nothing in Google Workspace changes)"
		if !f.emulator {
			fmt.Fprintln(stderr, "provision: note: no Google credentials are configured, so this runs against the embedded Directory API emulator")
			fmt.Fprintln(stderr, "provision: hint: give --subject and --credentials (or --impersonate) to work on your Google Workspace")
		}
	} else if endpoint != "" {
		conn.name = endpoint
	}
	access := directory.GroupRead
	if cfg.Groups.CreatesGroups() {
		access = directory.GroupCreate
	}
	where := endpoint
	if f.useEmulator() {
		where = "the embedded emulator"
	}
	conn.client, err = f.newClient(ctx, directory.Config{
		Endpoint:        endpoint,
		Domain:          cfg.Domain,
		CredentialsFile: f.credentials,
		Subject:         f.subject,
		Impersonate:     f.impersonate,
		Groups:          access,
		QuotaPerMinute:  cfg.Quota,
		Logger:          logger,
	}, where, stderr)
	if err != nil {
		conn.stop()
		return nil, err
	}
	return conn, nil
}
