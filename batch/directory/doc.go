// Package directory is provision's client of the Google Workspace Admin SDK
// Directory API: users, aliases, org units, groups and members of one domain,
// and a parallel snapshot of every address taken in it.
//
// A Client wraps google.golang.org/api/admin/directory/v1, which does not
// retry, with one layer that every request goes through:
//
//   - A rate limiter shared by all callers keeps requests, retries and
//     snapshot pages included, under Config.QuotaPerMinute. On a rate-limit
//     answer it slows down (×0.7, at most once a second) and climbs back
//     linearly to the quota over the following seconds.
//   - Errors are classified once. Transient ones (429; 403 rateLimitExceeded,
//     userRateLimitExceeded or quotaExceeded; 500, 502, 503, 504; network
//     failures) are retried with exponential backoff and full jitter,
//     honouring Retry-After, within RetryPolicy's attempts and elapsed time.
//     Systemic answers, which say the job itself cannot work (see below), are
//     confirmed by a second request after a short backoff and then returned
//     as a *SystemicError. Others (400, 404, 409, other 403s) are returned
//     at once.
//   - users.insert is not safe to repeat: a failure that may have reached
//     Google (5xx, timeout, reset, cut response) is returned as an
//     *OutcomeUnknownError for the caller to settle with a point read. Other
//     writes are idempotent (members.insert and org unit creation treat 409
//     as done) and are retried like reads.
//   - Right after a user is created Google answers some calls with 412
//     "User creation is not complete", a 403, or members.insert 404
//     "Resource Not Found: memberKey". Calls made with JustCreated retry those
//     for RetryPolicy.ConsistencyWindow; with Settled only 412 is retried,
//     so a real permission error or a missing member fails at once.
//
// Helpers such as IsNotFound, IsDuplicate, IsOutcomeUnknown, IsRateLimited,
// AsSystemic and Reason decide on errors with errors.As, never by their
// text; where Google gives only its text to tell answers apart, errors.go
// reads it, in one place.
//
// # Systemic answers
//
// Some answers are not about a row but about the setup: every call of their
// kind fails the same way until someone fixes it, so the job should stop
// rather than fail each row in turn. The client returns them as a
// *SystemicError, whose Kind (a Refusal) says which and whose Fix says in
// plain words what to change and where:
//
//   - NotAuthorized: 403 forbidden "Not Authorized to access this
//     resource/api". The acting admin lacks the privilege, the service
//     account acts as itself without an admin role, or the address is in a
//     domain the account does not own. Confirmed.
//   - APIDisabled: 403 usageLimits accessNotConfigured "Admin SDK API has
//     not been used in project N before or it is disabled. Enable it by
//     visiting … then retry. …", status PERMISSION_DENIED, ErrorInfo
//     SERVICE_DISABLED. Confirmed; older answers begin "Access Not
//     Configured. Admin Directory API has not been used …", same reason.
//   - TokenRefused: any 401: "Request had invalid authentication
//     credentials. …" (item "Invalid Credentials", authError) or "Request is
//     missing required authentication credential. …" (item "Login
//     Required.", required). The top-level messages are confirmed across
//     Google APIs; the items are their common form, a guess for this API.
//   - DomainNotFound: 404 notFound "Domain not found." Confirmed on lists
//     (users.list, groups.list with domain= or my_customer); reported
//     without a code on users.insert, so it is matched by message at any
//     code. IsNotFound is false for it: it is not a missing user.
//   - UserLimit: 412 limitExceeded "Domain user limit reached." (location
//     If-Match) on users.insert. Confirmed; trial accounts add "Start paid
//     subscription.", code unconfirmed, so the message is matched at any
//     code.
//   - ScopeMissing: 403 insufficientPermissions "Request had insufficient
//     authentication scopes." Confirmed across Google APIs; seen with user
//     credentials from gcloud that lack the admin scopes.
//   - APIAccessOff: 403 domainCannotUseApis "Domain cannot use apis." Message
//     and reason confirmed from GAM's output; rare outside resellers.
//
// The bodies, with their sources, are in emulator/testdata/google.
//
// A systemic answer is a definitive refusal: nothing was applied, so even
// users.insert may be sent again, and the retry layer sends it once more
// after a short backoff (RetryPolicy.Initial at most) to confirm; a
// different answer on that request is handled as usual. One exception:
// Google refuses calls about a user it has not finished creating with the
// same 403 "Not Authorized …", so with JustCreated that answer is waited
// out for the ConsistencyWindow first, and is systemic only if it stands
// at the end. A *CredentialsError is different: no access token could be
// had, so no request reached the API at all.
//
// Credentials are a service account key with domain-wide delegation,
// Application Default Credentials, or keyless impersonation of a service
// account (Workload Identity); the scopes are the least the calls need (see
// Config.Scopes). They travel only over TLS: New refuses an http endpoint
// off this machine with an *EndpointError before reading any credential,
// and a client with credentials sends nothing but https requests to its
// endpoint's host, so a redirect cannot carry the token elsewhere (the
// OAuth transport sets the Authorization header on every request it sends,
// redirects included). A loopback endpoint (see IsLoopback), such as the
// emulator in the subpackage emulator, is reached without credentials, and
// its client connects to loopback addresses only.
package directory
