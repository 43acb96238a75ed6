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
//     Others (400, 401, 404, 409, other 403s) are returned at once.
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
// Helpers such as IsNotFound, IsDuplicate, IsOutcomeUnknown, IsRateLimited
// and Reason decide on errors with errors.As, never by their text.
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
