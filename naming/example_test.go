package naming_test

import (
	"context"
	"fmt"

	"github.com/provisionhq/provision/naming"
)

// The worked example of the Java project's README: a person with a region
// and a class group, six patterns, and the names they give in order.
func ExampleReserver_Suggest() {
	patterns, err := naming.ParsePatterns([]string{
		"[firstname].[lastname]",
		"[C1_firstname].[lastname]",
		"[firstname][lastname]_[region]",
		"[firstname][lastname]_[group]",
		"[lastname]_nyc",
		"[firstname][lastname][#]",
	})
	if err != nil {
		panic(err)
	}
	r := naming.NewReserver(naming.Options{Patterns: patterns})
	names, err := r.Suggest(context.Background(), naming.Fields{
		"firstname": "Carlos", "lastname": "Álvarez", "region": "CA", "group": "5A",
	}, 9)
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		fmt.Println(name)
	}
	// Output:
	// carlos.alvarez
	// c.alvarez
	// carlosalvarez_ca
	// carlosalvarez_5a
	// alvarez_nyc
	// carlosalvarez1
	// carlosalvarez2
	// carlosalvarez3
	// carlosalvarez4
}

// [#] is the smallest number that makes the name available: gaps left
// between names already in the directory are filled first.
func ExampleReserver_Reserve() {
	r := naming.NewReserver(naming.Options{
		Patterns: []naming.Pattern{naming.MustParsePattern("[firstname][lastname][#]")},
		Taken:    naming.NewNameSet("johnsmith1", "johnsmith2", "johnsmith3", "johnsmith5"),
	})
	for range 3 {
		name, err := r.Reserve(context.Background(), "row", naming.Fields{"firstname": "John", "lastname": "Smith"})
		if err != nil {
			panic(err)
		}
		fmt.Println(name)
	}
	// Output:
	// johnsmith4
	// johnsmith6
	// johnsmith7
}

// With no patterns configured, the Java project's defaults apply, then the
// last resort [C9_firstname][C9_lastname][#].
func ExampleNewReserver_defaults() {
	r := naming.NewReserver(naming.Options{})
	names, _ := r.Suggest(context.Background(), naming.Fields{"firstname": "Zoë", "lastname": "O'Brien"}, 7)
	fmt.Println(names)
	// Output:
	// [zoeobrien zoe.obrien zoe_obrien zobrien zoeo zoeobrien1 zoeobrien2]
}

func ExampleNormalize() {
	for _, s := range []string{"Álvarez", "Straße", "Øyvind", "İsmail", "Łukasz", "O'Neil", "van der Berg", "Car-lo*s", "Дмитрий", "李"} {
		fmt.Printf("%s → %s\n", s, naming.Normalize(s))
	}
	// Output:
	// Álvarez → alvarez
	// Straße → strasse
	// Øyvind → oyvind
	// İsmail → ismail
	// Łukasz → lukasz
	// O'Neil → oneil
	// van der Berg → vanderberg
	// Car-lo*s → car-los
	// Дмитрий → dmitrii
	// 李 → li
}

func ExampleParsePattern_error() {
	_, err := naming.ParsePattern("[first-name].[lastname]")
	fmt.Println(err)
	// Output:
	// pattern "[first-name].[lastname]", column 1: [first-name] is not a field: field names hold only letters, digits and underscores and start with a letter (like [firstname], [C1_lastname], [region]); the counter is [#]
}
