// Package input reads the people of a CSV file: one Record at a time, in
// file order, each validated as Google will judge it, with its line number
// kept for the report. A row that cannot be read or is not valid is a
// Record with Err set, never an error of the whole file; the file as a
// whole is refused only for what stops every row (its header, its
// encoding).
//
// One file per stage:
//
//   - encoding.go decides the file's character encoding in the pass that
//     hashes it (Scan), and decodes it to UTF-8;
//   - linelimit.go bounds the length of a line and of a record, so that a
//     file without line breaks cannot take the memory;
//   - records.go counts the records of a file, for the progress estimate;
//   - header.go maps the header row to fields (HeaderError);
//   - input.go is the Reader: it splits records with encoding/csv and
//     gocsv, and builds each Record;
//   - validate.go checks every cell of a Record (names, addresses, IDs,
//     custom fields);
//   - hidden.go refuses the characters that hide what a text says, and
//     writes them out where a text is shown (Visible).
//
// The package has no dependency on the job: it can be fuzzed and reviewed
// alone, as encoding/csv can.
package input
