// Package browsertest drives a real headless Chromium for the browser tests
// of the explorer (web) and the devnet's network view (lab): it finds the
// binary, shares one Chromium per test process, opens a tab per test and
// fails the test on any console error or uncaught exception the page
// produced.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Bounds of the browser tests.
const (
	// ActionTimeout bounds one Run, Eval or Shot.
	ActionTimeout = 20 * time.Second
	// Width and Height are the viewport of a new tab.
	Width, Height = 1280, 800
	// settle is how long a closing tab waits for its last console messages.
	settle = 100 * time.Millisecond
)

// Chromium finds a Chromium binary: $CHAIND_CHROMIUM, or one on PATH.
func Chromium() string {
	if p := os.Getenv("CHAIND_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// The one Chromium a test process shares; each test has its own tab.
var (
	chromeOnce  sync.Once
	chromeAlloc context.Context
	chromeErr   error
)

// Main runs the tests and stops the shared Chromium afterwards; call it
// from the package's TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if chromeAlloc != nil {
		chromedp.Cancel(chromeAlloc)
	}
	os.Exit(code)
}

// Tab is a headless Chromium tab that records console errors and uncaught
// exceptions (failed HTTP statuses are the server's answers and are left
// out). The test fails at cleanup if any were recorded.
type Tab struct {
	T     *testing.T
	Ctx   context.Context
	Shots []string // directories screenshots go to

	mu   sync.Mutex
	errs []string
}

// Open opens a tab in the shared Chromium, starting it first. It skips the
// test in -short mode and where no Chromium is found.
func Open(t *testing.T) *Tab {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	path := Chromium()
	if path == "" {
		t.Skip("no Chromium binary found (install Debian's chromium package, or set CHAIND_CHROMIUM): browser tests skipped")
	}
	chromeOnce.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(Width, Height))
		actx, _ := chromedp.NewExecAllocator(context.Background(), opts...) // cancelled by Main via chromedp.Cancel
		bctx, _ := chromedp.NewContext(actx)
		if err := chromedp.Do(bctx); err != nil {
			chromeErr = fmt.Errorf("start Chromium %s: %w", path, err)
			return
		}
		chromeAlloc = bctx
	})
	if chromeErr != nil {
		t.Fatal(chromeErr)
	}
	ctx, cancelCtx := chromedp.NewContext(chromeAlloc) // a new tab
	b := &Tab{T: t, Ctx: ctx, Shots: []string{filepath.Join(t.TempDir(), "screenshots")}}
	if dir := os.Getenv("CHAIND_SCREENSHOTS"); dir != "" {
		b.Shots = append(b.Shots, dir)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(Width, Height)); err != nil {
		cancelCtx()
		t.Fatalf("open a tab: %v", err)
	}
	messages := chromedp.Console(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for m, err := range messages {
			if err != nil {
				return
			}
			switch {
			case m.IsException():
				b.record("exception: " + m.Text)
			case m.Type == chromedp.ConsoleError && m.Source != "network":
				b.record(fmt.Sprintf("error (%s %s:%d): %s", m.Source, m.URL, m.Line, m.Text))
			}
		}
	}()
	t.Cleanup(func() {
		time.Sleep(settle)
		cancelCtx()
		wg.Wait()
		for _, e := range b.TakeErrors() {
			t.Errorf("browser console: %s", e)
		}
	})
	return b
}

func (b *Tab) record(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errs = append(b.errs, s)
}

// Errors returns the console errors recorded so far.
func (b *Tab) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

// TakeErrors returns the console errors recorded so far and forgets them
// (for a test that provokes errors on purpose).
func (b *Tab) TakeErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	errs := b.errs
	b.errs = nil
	return errs
}

// Run runs actions within ActionTimeout, failing the test on an error.
func (b *Tab) Run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, ActionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.T.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates expr in b's tab.
func Eval[T any](b *Tab, expr string) T {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, ActionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.T.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// WaitJS waits until expr is true.
func (b *Tab) WaitJS(expr string, within time.Duration) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, within+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(within))); err != nil {
		b.T.Fatalf("waiting %v for %s: %v", within, expr, err)
	}
}

// Shot saves a full-page screenshot as name.png in every Shots directory.
func (b *Tab) Shot(name string) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, ActionTimeout)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.T.Fatalf("screenshot %s: %v", name, err)
	}
	for _, dir := range b.Shots {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.T.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
			b.T.Fatal(err)
		}
	}
}
