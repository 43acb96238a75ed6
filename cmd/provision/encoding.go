package main

import (
	"fmt"
	"strings"

	"github.com/provisionhq/provision/batch/input"
)

// encodingHint says what to do about a file refused for its encoding:
// give the encoding it reads as, or save it as UTF-8.
func encodingHint(e *input.EncodingError) string {
	const unchanged = "; nothing was changed"
	switch e.Suggest {
	case "":
		names := input.EncodingNames()
		return fmt.Sprintf("save the file as UTF-8 (in Excel: \"CSV UTF-8\"), or give its encoding with --encoding: %s or %s%s",
			strings.Join(names[:len(names)-1], ", "), names[len(names)-1], unchanged)
	case "utf-16":
		return "give --encoding utf-16 (or encoding: utf-16 in the config), and --delimiter tab if it is tab-separated, as Excel's \"Unicode Text\" is" + unchanged
	case "windows-1252":
		return "Excel's \"CSV (Comma delimited)\" writes Windows-1252: give --encoding windows-1252 (or encoding: windows-1252 in the config), or save the file as \"CSV UTF-8\"" + unchanged
	}
	return fmt.Sprintf("give --encoding %s (or encoding: %s in the config)%s", e.Suggest, e.Suggest, unchanged)
}
