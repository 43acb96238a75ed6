package directory_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/provisionhq/provision/batch/directory"
	"github.com/provisionhq/provision/batch/directory/emulator"
)

// A users.insert whose answer is lost may have created the account: the
// caller settles it with a point read before inserting again.
func ExampleIsOutcomeUnknown() {
	ctx := context.Background()
	emu, err := emulator.New(emulator.Options{Domain: "example.com", Faults: emulator.Faults{DropAfterSuccess: 1}})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	c, err := directory.New(ctx, directory.Config{Endpoint: srv.URL, Domain: "example.com"})
	if err != nil {
		log.Fatal(err)
	}

	user := &admin.User{
		PrimaryEmail: "ada.lovelace@example.com",
		Name:         &admin.UserName{GivenName: "Ada", FamilyName: "Lovelace"},
		Password:     "an initial password",
		ExternalIds:  []*admin.UserExternalId{{Type: "organization", Value: "S-1815"}},
	}
	_, err = c.InsertUser(ctx, user)
	if directory.IsOutcomeUnknown(err) {
		fmt.Println("outcome unknown; reading the address back")
		got, err := c.GetUser(ctx, user.PrimaryEmail)
		switch {
		case directory.IsNotFound(err):
			fmt.Println("not created: insert again")
		case err != nil:
			log.Fatal(err)
		default:
			ids, _ := directory.ExternalIDs(got)
			fmt.Println("created, external ID", ids[0].Value)
		}
	}
	// Output:
	// outcome unknown; reading the address back
	// created, external ID S-1815
}
