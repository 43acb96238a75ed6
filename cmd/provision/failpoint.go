//go:build provisiontest

package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/provisionhq/provision/batch"
)

// failpointEnv names the environment variable of the crash tests: with
// PROVISION_FAILPOINT=NAME:N, the process kills itself with SIGKILL the Nth
// time the job passes failpoint NAME (see batch.Failpoints). It is for make torture, not for
// admins: only a binary built with the provisiontest tag has it.
const failpointEnv = "PROVISION_FAILPOINT"

// failpointFromEnv returns the hook the environment asks for, or nil.
func failpointFromEnv() (func(string), error) {
	spec, ok := os.LookupEnv(failpointEnv)
	if !ok || spec == "" {
		return nil, nil
	}
	name, count, found := strings.Cut(spec, ":")
	n, err := strconv.Atoi(count)
	if !found || err != nil || n < 1 {
		return nil, usageErrorf("$%s=%q: want NAME:N, such as applied:12", failpointEnv, spec)
	}
	if !slices.Contains(batch.Failpoints(), name) {
		return nil, usageErrorf("$%s: unknown failpoint %q; the failpoints are %s", failpointEnv, name, strings.Join(batch.Failpoints(), ", "))
	}
	var hits atomic.Int64
	return func(at string) {
		if at == name && hits.Add(1) == int64(n) {
			fmt.Fprintf(os.Stderr, "provision: failpoint %s reached: killing this process\n", spec)
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // SIGKILL cannot be caught; wait for it
		}
	}, nil
}
