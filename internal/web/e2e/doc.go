// Package e2e holds the console's end-to-end test: a real node with the
// demo data, driven in headless Chromium through chromedp. It has no code
// of its own; see e2e_test.go.
package e2e
