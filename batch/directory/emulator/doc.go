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
// It serves users (insert, get, list, update, patch, delete, makeAdmin)
// and their aliases, org units (insert, get, list, delete), groups
// (insert, get, list, delete) and their aliases, and members (insert, get,
// hasMember, list, delete). It validates what Google validates and answers
// with Google's codes, reasons and messages: 409 "Entity already exists.",
// 404 "Resource Not Found: userKey", 400 "Invalid Input: INVALID_OU_ID",
// "Invalid Given/Family Name: GivenName", "Invalid Password" and the
// others. Lists page in address order with nextPageToken; users.list
// understands the query terms email:prefix*, email:address,
// externalId:value, givenName:, familyName:, orgUnitPath= (the unit and
// every unit below it, as Google documents), isSuspended=, isAdmin= and
// isDelegatedAdmin=, with values quoted and escaped as Google's search
// syntax has it; every method honours the fields parameter, and users.get
// and users.list the projection (custom schemas only with full, or custom
// and customFieldMask).
//
// # Users through their life
//
// What the emulator does when an account changes, and how sure it is that
// Google does the same:
//
//   - users.update and users.patch change only the fields sent (Google's
//     reference says so of both). A list field (organizations, phones,
//     relations, externalIds, ...) sent with entries replaces the whole
//     list. Confirmed.
//   - users.patch cannot clear a list: null and [] are ignored. users.update
//     clears a list sent as null, or as []. Confirmed for patch and for
//     update with null (the reference: patch "is unable to clear fields
//     that contain repeated objects", update clears "fields set to null";
//     GAM-team/GAM#480, DeviaVir/terraform-provider-gsuite#174,
//     SCRT-HQ/PSGSuite#133); update with [] is a guess (GAM's "empty
//     attribute" clears with update, PSGSuite saw [] ignored).
//   - organizations, relations and phones are checked entry by entry:
//     unknown members are refused like unknown fields, an unknown type with
//     400 invalid "Invalid value for: X is not a valid value" (that answer's
//     form confirmed by lithnet/googleapps-managementagent#28; the type
//     lists are the reference's and GAM's).
//   - suspended: true makes suspensionReason ADMIN (confirmed in answers
//     quoted by several projects); false clears it. isAdmin and
//     isDelegatedAdmin are output only: insert and update ignore them, as
//     the reference says; users.makeAdmin sets isAdmin, and a state file
//     (State) or Generate makes either.
//   - A new primaryEmail renames the user and keeps the old address as an
//     alias; an address in use, the user's own aliases included, is 409.
//     Confirmed by Google's help center ("Google Workspace retains the old
//     address as an email alias"; "You can't change a user's name to an
//     existing name or email alias", support.google.com/a/answer/2622985);
//     that the alias shows in the API's aliases at once is assumed.
//   - customSchemas are stored per schema and field; an update changes the
//     fields it names and removes those sent as null. No schema registry is
//     kept, so any schema is accepted; the merge is a guess.
//   - users.delete, members.delete and groups.delete of something absent
//     answer 404 "Resource Not Found: userKey / memberKey / groupKey", as
//     the other methods do; groups.delete removes a group whatever it holds.
//   - orgunits.delete refuses a unit that holds users (suspended ones too)
//     or child units, as Google's help center documents; the answer (400
//     invalid "Invalid Input: Org unit is not empty: ...") is a guess, as
//     is 400 "Invalid Input: INVALID_OU_ID" for the root. A missing unit is
//     404 "Org unit not found", as orgunits.get answers.
//   - Google's email: search term matches aliases as well as primary
//     addresses; the emulator's matches primary addresses only, which is
//     what the snapshot's shards (listed in address order) rely on.
//   - Where Google's words for a refusal are not known (a projection
//     without customFieldMask, a query Google would understand but the
//     emulator does not), the emulator says so rather than guess
//     silently: 400 "Invalid Input: customFieldMask", or "emulator: ... is
//     not supported".
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
