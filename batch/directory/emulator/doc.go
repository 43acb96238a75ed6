// Package emulator serves the subset of Google's Admin SDK Directory API
// v1 that provision uses, so that the tool, its tests and its benchmarks
// run without Google.
//
// A Server is an http.Handler at Google's paths (/admin/directory/v1/...)
// speaking Google's JSON, so the official client,
// google.golang.org/api/admin/directory/v1, works against it unchanged:
//
//	srv := httptest.NewServer(emu)
//	svc, err := admin.NewService(ctx, option.WithEndpoint(srv.URL+"/"), option.WithoutAuthentication())
//
// It serves users (insert, get, list, update, patch, delete) and their
// aliases, org units (insert, get, list), groups (insert, get, list) and
// their aliases, and members (insert, get, hasMember, list, delete). It
// validates what Google validates and answers with Google's codes, reasons
// and messages: 409 "Entity already exists.", 404 "Resource Not Found:
// userKey", 400 "Invalid Input: INVALID_OU_ID", "Invalid Given/Family
// Name: GivenName", "Invalid Password" and the others. Lists page in
// address order with nextPageToken; users.list understands the queries
// email:prefix*, email:address and externalId:value; every method honours
// the fields parameter.
//
// Options make it behave like Google under load: a per-minute quota
// answered 403 userRateLimitExceeded, a latency distribution per method,
// and injected faults (503 backendError, 403 and 429 rate limits, 403
// quotaExceeded, 412 "User creation is not complete." for a while after a
// create, members.insert 404 while a new user propagates, search lagging
// behind creation, and a write applied whose answer is lost). Every random
// choice comes from Options.Seed.
//
// Faults also hold the systemic refusals of a setup that cannot work,
// answered every time to the requests in their Scope (all, writes, or one
// method), with Google's exact bodies: 401 "Invalid Credentials"
// (Unauthorized), 403 accessNotConfigured "Admin SDK API has not been used
// in project …" (AccessNotConfigured), 403 forbidden "Not Authorized to
// access this resource/api" (Forbidden; with writes, an admin who may read
// but not change), 404 "Domain not found." (DomainNotFound), and 412
// limitExceeded "Domain user limit reached." on users.insert once the
// directory holds UserLimit users. SetFaults switches them on and off while
// the server runs, as a fix would. testdata/google holds Google's bodies
// and where each comes from; which are confirmed and which are guesses is
// said there.
//
// Generate fills the directory with realistic people, State and WriteState
// dump it, LoadState restores it. Besides the API the server answers GET
// /emulator/v1/state and GET /emulator/v1/stats, never throttled nor
// faulted, for tests and harnesses in other processes.
package emulator
