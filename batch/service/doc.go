// Package service is provision serve: the REST service of the Java project
// "Account provisioning for Google Apps" (suggest, select, create, config),
// compatible with its clients, and an operator page built into the binary.
// It shares naming, validation and the directory client with run.
//
// # The contract
//
//	POST /rest/suggest {"firstname", "lastname", <custom field>…} → ["name", …]
//	GET  /rest/suggest?firstname=…&lastname=…                   → ["name", …]
//	POST /rest/select  {"username": U, "suggestions": [...]}    → {"message"}
//	POST /rest/create  {"username", "firstname", "lastname", "password"} → {"message", "username", "email"}
//	GET or POST /rest/config → {"domain", "numberOfSuggestions", "suggestedUsernamesTimeout", "fields"}
//
// Every failure is {"errorMessage": "…"}, valid JSON with a fitting status.
// Bodies are read as UTF-8 whatever their Content-Type, since the Java
// project's pages send text/plain, and are checked as run checks a CSV row
// (input.CheckName, input.CheckValue, input.CheckPassword).
//
// # Holds
//
// A suggest holds every name it answers for the hold time; a name held,
// being created or created is never suggested again. Finding names and
// holding them is one step under one lock, so concurrent suggests never
// answer the same name. A select releases the suggestions the client did
// not choose. Holds, created names and [#] counters live in the service's
// own SQLite journal (Store), so they survive a restart.
//
// # Creates
//
// Only a name that a live suggestion holds can be created: the Java project
// created any name it was sent, which let a client take a reserved or
// another client's name. The intent is journaled before users.insert and
// the outcome after it. Every account carries an externalIds entry of type
// custom, customType MarkerType ("provision-serve"), with a random value
// unique to its create; an unclear answer (a timeout, a 5xx, a 409) is
// settled by a point read of the address: our marker means created, another
// account means the name is taken. A second create of a created name is a
// 409, never a second account; so is a create retried after a lost answer.
//
// # Exposure
//
// CheckExposure refuses an address off the loopback without API keys and
// TLS (or a TLS proxy in front). Keys are bearer tokens compared as SHA-256
// digests in constant time. CORS answers allowed origins on every answer and
// preflights; on a loopback address with no origins configured every origin
// is allowed, "null" included, as the Java project's pages need. Each client
// has a rate limit (429 with Retry-After); bodies are limited to 64 KiB; the
// log has one line per request without bodies, queries or passwords. The
// service calls nothing but the directory.
package service
