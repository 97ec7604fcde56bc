// Package fractal is the Fractal ID statistics source: a client for the
// statistics API (GET /v2/stats/total-verifications, /country-verifications
// and /user-verifications on the resource domain) behind OAuth2 client
// credentials (scope client.stats:read) on the auth domain.
//
// The API answers "right now" numbers only; kycetl keeps each pull as a
// dated snapshot, which is where the history comes from. So the client
// hands over each response's exact bytes (for the raw archive) together with
// what they say, and reads the user list, which can hold millions of users,
// as a stream in bounded memory.
//
// Statuses are kept as sent: the documented approved, rejected, pending,
// contacted and expired, and any status the documents do not list, which is
// kept and counted, never dropped. A status the API leaves out has no count;
// that is no error.
//
// The token is fetched once and reused until it expires (the library
// refreshes it ahead of time); a 401 from the resource server is answered
// once with a fresh token, as a token revoked early produces it. 429 and 5xx
// answers are retried by the policy every source's client shares
// (extract/retry). A token endpoint that refuses the client id or secret is
// ErrCredentials: nothing can succeed, so a pull stops at once. The secret is
// only ever sent to the token endpoint: never logged, never in an error.
package fractal
