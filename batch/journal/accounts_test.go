package journal

import (
	"path/filepath"
	"slices"
	"testing"
)

func TestJournal_accounts(t *testing.T) {
	ctx := t.Context()
	j := openTest(t, filepath.Join(t.TempDir(), "a.journal"), Options{})
	accounts := []struct {
		a   Account
		ids []string
	}{
		{Account{Email: "Ann@example.com", ID: "1", OrgUnit: "/Students/2027"}, []string{"organization:E1"}},
		{Account{Email: "bob@example.com", ID: "2", OrgUnit: "/Students"}, []string{"organization:E2"}},
		{Account{Email: "cy@example.com", ID: "3", OrgUnit: "/Staff", Admin: true}, []string{"organization:E3"}},
		{Account{Email: "di@example.com", ID: "4", OrgUnit: "/StudentsOld"}, []string{"organization:E4"}},
		{Account{Email: "ed@example.com", ID: "5", OrgUnit: "/Students"}, []string{"custom:sis:E5"}},
		{Account{Email: "fay@example.com", ID: "6", OrgUnit: "/Students", Suspended: true, SuspensionReason: "ADMIN"}, nil},
	}
	_, err := j.LoadSnapshot(ctx, "example.com", func(l *SnapshotLoader) error {
		for _, x := range accounts {
			if err := l.AddAccount(ctx, x.a); err != nil {
				return err
			}
			for _, id := range x.ids {
				if err := l.AddExternalID(ctx, id, x.a.Email); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a, found, err := j.Account(ctx, "ANN@example.com")
	if err != nil || !found || a.ID != "1" || a.Email != "ann@example.com" {
		t.Errorf("Account(ANN@) = %+v, %v, %v; want ann@ with ID 1", a, found, err)
	}
	a.OrgUnit = "/Alumni"
	if err := j.SetAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := j.Account(ctx, "ann@example.com"); got.OrgUnit != "/Alumni" {
		t.Errorf("after SetAccount the org unit is %q, want /Alumni", got.OrgUnit)
	}
	a.OrgUnit = "/Students/2027"
	if err := j.SetAccount(ctx, a); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name    string
		scope   Scope
		inScope []string
	}{
		{"every org unit", Scope{IDType: "organization:"}, []string{"ann@example.com", "bob@example.com", "di@example.com"}},
		{"below /Students only, not /StudentsOld", Scope{IDType: "organization:", OrgUnits: []string{"/Students/"}}, []string{"ann@example.com", "bob@example.com"}},
		{"a custom type", Scope{IDType: "custom:sis:"}, []string{"ed@example.com"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := j.EachInScope(ctx, tt.scope, func(a Scoped) error {
				got = append(got, a.Email)
				if a.Identity == "" || a.ExternalID == "" {
					t.Errorf("%s in scope has no identity: %+v", a.Email, a)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.inScope) {
				t.Errorf("EachInScope = %q, want %q (admins never)", got, tt.inScope)
			}
			if n, err := j.CountInScope(ctx, tt.scope); err != nil || n != len(tt.inScope) {
				t.Errorf("CountInScope = %d, %v; want %d", n, err, len(tt.inScope))
			}
		})
	}

	run, err := j.StartRun(ctx, Run{InputPath: "f.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.SaveRow(ctx, Row{Identity: "id:E2", RunID: run.ID, Line: 2, State: Done}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Intent(ctx, "id:E2", SuspendUser, "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	effects, err := j.EffectsOfRun(ctx, run.ID, SuspendUser)
	if err != nil || len(effects) != 1 || effects[0].Run != run.ID {
		t.Errorf("EffectsOfRun = %+v, %v; want the suspension of run %d", effects, err, run.ID)
	}
}

// The reader's prefetch reads rows with their accounts in one query; a
// row still queued gets its account too, and a row without an account on
// record (none made yet, or one the snapshot lacks) gets none.
func TestJournal_rowsAndAccountsOf(t *testing.T) {
	ctx := t.Context()
	j := openTest(t, filepath.Join(t.TempDir(), "a.journal"), Options{})
	_, err := j.LoadSnapshot(ctx, "example.com", func(l *SnapshotLoader) error {
		for _, a := range []Account{{Email: "ann@example.com", ID: "1", GivenName: "Ann"}, {Email: "bob@example.com", ID: "2", Suspended: true}} {
			if err := l.AddAccount(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	run := startRun(t, j)
	rows := []Row{
		{Identity: "id:1", RunID: run.ID, Line: 2, State: Done, Email: "Ann@example.com", UserID: "1"},
		{Identity: "id:3", RunID: run.ID, Line: 4, State: Named, Email: "cy@example.com"},
		{Identity: "id:4", RunID: run.ID, Line: 5, State: Done, Email: "di@example.com", UserID: "4"},
	}
	for _, r := range rows {
		if err := j.SaveRow(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// Queued, not applied: bob's row.
	if err := j.SaveRow(ctx, Row{Identity: "id:2", RunID: run.ID, Line: 3, State: Done, Email: "bob@example.com", UserID: "2"}); err != nil {
		t.Fatal(err)
	}
	gotRows, gotAccounts, err := j.RowsAndAccountsOf(ctx, []string{"id:1", "id:2", "id:3", "id:4", "id:5"})
	if err != nil {
		t.Fatal(err)
	}
	if len(gotRows) != 4 || gotRows["id:1"].Line != 2 || gotRows["id:2"].Line != 3 || !gotRows["id:3"].Stored {
		t.Errorf("rows = %+v", gotRows)
	}
	if len(gotAccounts) != 2 || gotAccounts["ann@example.com"].GivenName != "Ann" || !gotAccounts["bob@example.com"].Suspended {
		t.Errorf("accounts = %+v; want ann (stored row) and bob (queued row), nobody else", gotAccounts)
	}
}
