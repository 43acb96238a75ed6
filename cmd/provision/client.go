package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/provisionhq/provision/batch/directory"
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
