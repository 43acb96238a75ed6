//go:build !provisiontest

package main

// failpointFromEnv returns no failpoint: the release binary never kills
// itself, whatever the environment says. The crash tests build provision
// with the provisiontest tag (see failpoint.go).
func failpointFromEnv() (func(string), error) { return nil, nil }
