package service

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/provisionhq/provision/batch"
	"github.com/provisionhq/provision/batch/input"
)

// browserTimeout bounds one subtest in the browser: generous, for a
// loaded 2-core machine.
const browserTimeout = 90 * time.Second

// TestPage drives the operator page, served by the service as built into
// the binary, in Debian's headless Chromium: one browser, a tab per
// subtest. Without chromium the test fails, unless PROVISION_SKIP_BROWSER
// is set: CI must really run it.
func TestPage(t *testing.T) {
	browser := startBrowser(t)

	t.Run("create", func(t *testing.T) {
		e := newEnv(t, func(c *batch.Config, _ *Options) {
			c.OrgUnit = batch.OrgUnitConfig{Default: "/Students/[faculty]", CreateMissing: true}
		})
		p := openPage(t, browser, e.srv.URL)
		p.do(chromedp.WaitVisible(chromedp.CSS("#firstname")))
		if got := p.text("#domain"); got != testDomain {
			t.Errorf("domain shown = %q", got)
		}
		// Every control has a label, and focus starts on the first name.
		if unlabelled := evaluate[int](p, `[...document.querySelectorAll('input')].filter(i => i.labels.length === 0).length`); unlabelled != 0 {
			t.Errorf("%d inputs have no label", unlabelled)
		}
		if id := evaluate[string](p, `document.activeElement.id`); id != "firstname" {
			t.Errorf("focus is on %q, want firstname", id)
		}
		p.do(
			chromedp.SendKeys(chromedp.CSS("#firstname"), "Ada"),
			chromedp.SendKeys(chromedp.CSS("#lastname"), "Lovelace"),
			chromedp.SendKeys(chromedp.CSS("#field-faculty"), "Maths"),
			chromedp.WaitVisible(chromedp.CSS("#username-2")),
		)
		p.waitText("#status", "held for you for 2:00")
		p.waitText("#hold-status", "Held for you for")
		if got := p.text(`label[for="username-0"]`); got != "adalovelace@"+testDomain {
			t.Errorf("first suggestion = %q", got)
		}
		// The radio group works with the keyboard.
		p.do(chromedp.Focus(chromedp.CSS("#username-0")), chromedp.KeyEvent(kb.ArrowDown))
		if !evaluate[bool](p, `document.querySelector('#username-1').checked`) {
			t.Error("ArrowDown did not choose the second suggestion")
		}
		p.do(
			chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
			chromedp.Click(chromedp.CSS("#create-button")),
			chromedp.WaitVisible(chromedp.CSS("#result")),
		)
		p.waitText("#result-message", "User created successfully: ada.lovelace@"+testDomain)
		if id := evaluate[string](p, `document.activeElement.id`); id != "result" {
			t.Errorf("after the create, focus is on %q, want the result", id)
		}
		u, ok := e.user("ada.lovelace@" + testDomain)
		if !ok || u.OrgUnitPath != "/Students/Maths" {
			t.Errorf("account = %+v, %v; want ada.lovelace in /Students/Maths", u, ok)
		}
		// The names not chosen were given back.
		for _, n := range []string{"adalovelace", "ada_lovelace"} {
			if state, _ := e.store.Holder(t.Context(), n); state != "" {
				t.Errorf("%s is %q after the create, want released", n, state)
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		e := newEnv(t, nil)
		p := openPage(t, browser, e.srv.URL)
		p.do(
			chromedp.WaitVisible(chromedp.CSS("#firstname")),
			chromedp.SendKeys(chromedp.CSS("#firstname"), "Ada<"),
			chromedp.SendKeys(chromedp.CSS("#lastname"), "Lovelace"),
			chromedp.WaitVisible(chromedp.CSS("#error")),
		)
		p.waitText("#error", `firstname contains "<"; Google does not allow < > = in names`)
		if n := evaluate[int](p, `document.querySelectorAll('#suggestion-list input').length`); n != 0 {
			t.Errorf("%d suggestions shown for a refused name", n)
		}
		// Fixed, then a password the service refuses.
		p.do(
			chromedp.SendKeys(chromedp.CSS("#firstname"), kb.Backspace),
			chromedp.WaitVisible(chromedp.CSS("#username-0")),
			chromedp.WaitNotVisible(chromedp.CSS("#error")),
			chromedp.SendKeys(chromedp.CSS("#password"), "short"),
			chromedp.Click(chromedp.CSS("#create-button")),
			chromedp.WaitVisible(chromedp.CSS("#error")),
		)
		p.waitText("#error", "password is shorter than 8 characters (5)")
		if id := evaluate[string](p, `document.activeElement.id`); id != "error" {
			t.Errorf("after an error, focus is on %q, want the error", id)
		}
		if len(e.emu.State().Users) != 0 {
			t.Error("a refused create made an account")
		}
	})

	t.Run("generated password", func(t *testing.T) {
		e := newEnv(t, nil)
		p := openPage(t, browser, e.srv.URL)
		p.do(
			chromedp.WaitVisible(chromedp.CSS("#firstname")),
			chromedp.SendKeys(chromedp.CSS("#firstname"), "Grace"),
			chromedp.SendKeys(chromedp.CSS("#lastname"), "Hopper"),
			chromedp.WaitVisible(chromedp.CSS("#username-0")),
			chromedp.Click(chromedp.CSS("#generate")),
			chromedp.Click(chromedp.CSS("#create-button")),
			chromedp.WaitVisible(chromedp.CSS("#result-password")),
		)
		password := p.text("#password-shown")
		if err := input.CheckPassword(password); err != nil {
			t.Errorf("generated password %q: %v", password, err)
		}
		if e.users("gracehopper@"+testDomain) != 1 {
			t.Error("gracehopper was not created")
		}
		// Another account: the password is gone from the page.
		p.do(chromedp.Click(chromedp.CSS("#another")), chromedp.WaitVisible(chromedp.CSS("#firstname")))
		if got := p.text("#password-shown"); got != "" {
			t.Errorf("the generated password is still on the page: %q", got)
		}
	})

	t.Run("hold expires", func(t *testing.T) {
		e := newEnv(t, func(c *batch.Config, _ *Options) { c.Serve.Hold = 2 * time.Second })
		p := openPage(t, browser, e.srv.URL)
		p.do(
			chromedp.WaitVisible(chromedp.CSS("#firstname")),
			chromedp.SendKeys(chromedp.CSS("#firstname"), "Alan"),
			chromedp.SendKeys(chromedp.CSS("#lastname"), "Turing"),
			chromedp.WaitVisible(chromedp.CSS("#username-0")),
		)
		p.waitText("#status", "were released after 0:02")
		if n := evaluate[int](p, `document.querySelectorAll('#suggestion-list input').length`); n != 0 {
			t.Errorf("%d suggestions still shown after their hold ended", n)
		}
	})

	t.Run("API key", func(t *testing.T) {
		key := "page-key-0123456789abcdef"
		e := newEnv(t, func(_ *batch.Config, o *Options) { o.APIKeys = []string{key} })
		p := openPage(t, browser, e.srv.URL)
		p.do(
			chromedp.WaitVisible(chromedp.CSS("#api-key")),
			chromedp.SendKeys(chromedp.CSS("#api-key"), "wrong-key-0123456789abcdef"),
			chromedp.Click(chromedp.CSS("#key-button")),
		)
		p.waitText("#error", "the API key is not valid")
		p.do(
			chromedp.WaitVisible(chromedp.CSS("#api-key")),
			chromedp.SendKeys(chromedp.CSS("#api-key"), key),
			chromedp.Click(chromedp.CSS("#key-button")),
			chromedp.WaitVisible(chromedp.CSS("#firstname")),
			chromedp.SendKeys(chromedp.CSS("#firstname"), "Ada"),
			chromedp.SendKeys(chromedp.CSS("#lastname"), "Lovelace"),
			chromedp.WaitVisible(chromedp.CSS("#username-0")),
		)
		// Asked once per browser session: a reload does not ask again.
		p.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#firstname")))
		if evaluate[bool](p, `!document.querySelector('#key-form').hidden`) {
			t.Error("the page asked for the key again after a reload")
		}
	})
}

// startBrowser starts one headless Chromium for the test, with the flags
// that work here, and returns its context.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("PROVISION_SKIP_BROWSER") != "" {
			t.Skip("chromium is not installed and PROVISION_SKIP_BROWSER is set")
		}
		t.Fatal("chromium is not installed: apt-get install -y chromium (or set PROVISION_SKIP_BROWSER=1 to skip this test locally)")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WSURLReadTimeout(60*time.Second),
	)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first run starts the browser; it has no timeout, which would
	// stop the browser with it.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return browser
}

// page is one tab on the operator page.
type page struct {
	t   *testing.T
	ctx context.Context
}

// openPage opens the page at url in a new tab.
func openPage(t *testing.T, browser context.Context, url string) page {
	t.Helper()
	ctx, cancel := context.WithTimeout(browser, browserTimeout)
	t.Cleanup(cancel)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	p := page{t: t, ctx: ctx}
	p.do(chromedp.Navigate(url + "/"))
	return p
}

func (p page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatalf("in the browser: %v\nstatus: %q\nerror: %q", err, p.peek("#status"), p.peek("#error"))
	}
}

func (p page) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// peek reads an element's text for a failure message, without failing.
func (p page) peek(sel string) string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%s) || {}).textContent || ''`, jsString(sel))))
	return s
}

// waitText waits until the element's text contains want.
func (p page) waitText(sel, want string) {
	p.t.Helper()
	expr := fmt.Sprintf(`(document.querySelector(%s) || {textContent: ''}).textContent.includes(%s)`, jsString(sel), jsString(want))
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(browserTimeout))); err != nil {
		p.t.Fatalf("waiting for %s to say %q: %v; it says %q (error %q)", sel, want, err, p.peek(sel), p.peek("#error"))
	}
}

// evaluate runs a JavaScript expression in the tab.
func evaluate[T any](p page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
